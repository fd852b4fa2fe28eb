"""Enrolment links: how a person gets a passkey without ever having had a password.

An admin (or the CLI) issues a single-use, expiring link for a user; opening it runs the
registration ceremony and signs the person in. A *temporary access* link is the same thing
issued to someone who lost their authenticator. Only the SHA-256 of the token is stored, the
newest link of a person replaces any older unused one, and redemption is one conditional
UPDATE, so two browsers racing with one link cannot both win.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import secrets
from dataclasses import dataclass, field
from typing import Literal, cast

from tortoise.transactions import in_transaction

from idp.errors import ExpiredError, InvalidRequestError, PasskeyError
from idp.models import EnrolmentToken, PasskeyCredential, Realm, User
from idp.passkeys.registration import VerifiedPasskey, store_passkey
from idp.settings import Settings

__all__ = [
    "EnrolmentGrant",
    "EnrolmentLink",
    "EnrolmentPurpose",
    "InvalidEnrolmentLinkError",
    "UsedEnrolmentLinkError",
    "check_enrolment_token",
    "complete_enrolment",
    "issue_enrolment_link",
    "redeem_enrolment_token",
]

log = logging.getLogger(__name__)

EnrolmentPurpose = Literal["enrolment", "temporary_access"]
PURPOSES: tuple[EnrolmentPurpose, ...] = ("enrolment", "temporary_access")

_TOKEN_BYTES = 32
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")


class InvalidEnrolmentLinkError(InvalidRequestError):
    """The link's token is malformed, unknown, of another realm, or its person is disabled."""

    status_code = 400
    public_message = (
        "This enrolment link is not valid. Check that you opened the whole link, "
        "or ask your administrator for a new one."
    )


class UsedEnrolmentLinkError(ExpiredError):
    """The link was already used, replaced by a newer one, or is past its expiry."""

    status_code = 410
    public_message = (
        "This enrolment link has expired, was replaced by a newer one, or has already been "
        "used. Ask your administrator for a new one."
    )


@dataclass(frozen=True, slots=True)
class EnrolmentLink:
    """A new link. ``url`` carries the token: show it once, never log it.

    ``str()`` of a link is its URL; its ``repr()`` leaves URL and token out, so a link that
    ends up in a log line or a traceback does not give the enrolment away.
    """

    url: str = field(repr=False)
    token: str = field(repr=False)
    purpose: EnrolmentPurpose
    expires_at: dt.datetime

    def __str__(self) -> str:
        return self.url


@dataclass(frozen=True, slots=True)
class EnrolmentGrant:
    """A valid, unused link and the person it lets register a passkey."""

    token_id: int
    token_hash: str
    user: User
    purpose: EnrolmentPurpose
    expires_at: dt.datetime


def enrolment_token_hash(token: str) -> str:
    """The SHA-256 (hex) of a token, as stored."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


async def issue_enrolment_link(
    user: User, *, settings: Settings, purpose: EnrolmentPurpose = "enrolment",
    ttl_seconds: int | None = None,
) -> EnrolmentLink:
    """Issue a link for ``user``, valid ``ttl_seconds`` (default ``enrolment_ttl_seconds``).

    Older unused links of the same person stop working: the newest one is the only one.
    """
    if not user.enabled:
        raise InvalidRequestError(f"user {user.username!r} is disabled: enable them first")
    if purpose not in PURPOSES:
        raise InvalidRequestError(f"enrolment purpose {purpose!r}: expected one of {PURPOSES}")
    ttl = settings.enrolment_ttl_seconds if ttl_seconds is None else ttl_seconds
    if ttl <= 0:
        raise InvalidRequestError(f"enrolment link lifetime {ttl}s: expected a positive number")

    realm = await Realm.get(id=user.realm_id)  # type: ignore[attr-defined]
    token = secrets.token_urlsafe(_TOKEN_BYTES)
    now = _now()
    expires_at = now + dt.timedelta(seconds=ttl)
    async with in_transaction():
        await EnrolmentToken.filter(user_id=user.id, used_at__isnull=True).update(used_at=now)
        await EnrolmentToken.create(
            user_id=user.id, token_hash=enrolment_token_hash(token), purpose=purpose,
            expires_at=expires_at,
        )
    log.info("enrolment.issued", extra={"realm": realm.name, "username": user.username,
                                        "purpose": purpose, "expires_at": expires_at})
    url = f"{settings.base_url}/realms/{realm.name}/login/enrol?token={token}"
    return EnrolmentLink(url=url, token=token, purpose=purpose, expires_at=expires_at)


async def check_enrolment_token(realm: Realm, token: str) -> EnrolmentGrant:
    """The grant behind ``token``, if it is valid now; nothing is changed."""
    if not isinstance(token, str) or not _TOKEN.fullmatch(token):
        raise InvalidEnrolmentLinkError("enrolment token malformed")
    record = await EnrolmentToken.filter(
        token_hash=enrolment_token_hash(token)
    ).select_related("user").first()

    if record is None or record.user.realm_id != realm.id:  # type: ignore[attr-defined]
        raise InvalidEnrolmentLinkError(f"enrolment token unknown in realm {realm.name}")

    if record.used_at is not None:
        raise UsedEnrolmentLinkError(f"enrolment link of {record.user.username} already used")

    if record.expires_at <= _now():
        raise UsedEnrolmentLinkError(f"enrolment link of {record.user.username} expired")

    if not record.user.enabled:
        raise InvalidEnrolmentLinkError(f"enrolment link of disabled {record.user.username}")

    return EnrolmentGrant(
        token_id=record.id, token_hash=record.token_hash, user=record.user,
        purpose=cast(EnrolmentPurpose, record.purpose), expires_at=record.expires_at,
    )


async def redeem_enrolment_token(realm: Realm, token: str) -> EnrolmentGrant:
    """Mark the link used; of two concurrent redemptions exactly one succeeds."""
    grant = await check_enrolment_token(realm, token)
    now = _now()
    updated = await EnrolmentToken.filter(
        id=grant.token_id, used_at__isnull=True, expires_at__gt=now
    ).update(used_at=now)
    if updated != 1:
        raise UsedEnrolmentLinkError(f"enrolment link of {grant.user.username} used meanwhile")
    return grant


async def complete_enrolment(
    realm: Realm, token: str, verified: VerifiedPasskey, *, name: str = "",
) -> tuple[EnrolmentGrant, PasskeyCredential]:
    """Redeem the link and store the verified passkey together, or neither."""
    async with in_transaction():
        grant = await redeem_enrolment_token(realm, token)
        if verified.user_id != grant.user.id:
            raise PasskeyError("registered passkey belongs to another user than the link")
        passkey = await store_passkey(verified, name=name)
    log.info("enrolment.completed", extra={"realm": realm.name, "purpose": grant.purpose,
                                           "username": grant.user.username})
    return grant, passkey


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)
