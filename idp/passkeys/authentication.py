"""The authentication ceremony: a person proves who they are with a passkey.

Two ways in. Identifier first: the person types a username or email and the options list that
person's credentials; an identifier that matches nobody gets the same page with credential IDs
derived from it by HMAC, so the answer does not tell who has an account. Discoverable: empty
allowCredentials, and the authenticator names the person through the user handle.

WebAuthn Level 3 §7.2: https://www.w3.org/TR/webauthn-3/#sctn-verifying-assertion
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
from dataclasses import dataclass
from typing import Any

from webauthn import generate_authentication_options, verify_authentication_response
from webauthn.helpers import options_to_json_dict, parse_authentication_credential_json
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticationCredential,
    CredentialDeviceType,
    UserVerificationRequirement,
)

from idp.audit import record_event
from idp.errors import PasskeyError, PossibleCloneError
from idp.models import PasskeyCredential, Realm, User
from idp.passkeys.challenges import ANY_USER, UNKNOWN_USER, issue_challenge, take_challenge
from idp.passkeys.options import PasskeyOptions, descriptors
from idp.passkeys.public_keys import load_credential_public_key
from idp.passkeys.registration import credential_id_hash
from idp.passkeys.responses import load_response_json
from idp.settings import Settings
from idp.ttl import TtlStore

__all__ = [
    "VerifiedPasskeySignIn",
    "begin_discoverable_authentication",
    "begin_identified_authentication",
    "fake_credential_ids",
    "finish_authentication",
]

log = logging.getLogger(__name__)

_FAKE_ID_BYTES = 32
_FAKE_COUNT_MAX = 3


@dataclass(frozen=True, slots=True)
class VerifiedPasskeySignIn:
    """A person who proved possession of a registered passkey with user verification."""

    user: User
    passkey_id: int
    sign_count: int
    backed_up: bool
    discoverable: bool


async def begin_identified_authentication(
    store: TtlStore, *, settings: Settings, realm: Realm, transaction_id: str,
    identifier: str, fake_credential_key: bytes,
) -> PasskeyOptions:
    """Options listing the credentials of the person ``identifier`` names.

    An unknown, disabled or not yet enrolled identifier gets plausible credential IDs from
    :func:`fake_credential_ids` and a challenge no credential can satisfy, so the page and the
    later failure look the same as for a real person with the wrong passkey (§14.6.2).
    Transports are left out of every descriptor, real or made up: a real passkey's hint
    (``internal``, ``usb``) cannot be guessed for a made-up one, so any hint would tell them
    apart. Known shortcoming: without the hint a browser may offer every transport (QR code,
    security key) where it could have gone straight to the platform authenticator.
    """
    identifier = identifier.strip()[:320]
    rows = await _credentials_of(realm, identifier) if identifier else []
    user_ids = {user_id for user_id, _, _ in rows}
    if len(user_ids) == 1:
        user_id = user_ids.pop()
        allowed = descriptors((cid, []) for _, cid, _ in rows)
    else:
        user_id = UNKNOWN_USER
        fakes = fake_credential_ids(fake_credential_key, realm=realm.name, identifier=identifier)
        allowed = descriptors((cid, []) for cid in fakes)
    return await _begin(store, settings=settings, realm=realm, transaction_id=transaction_id,
                        user_id=user_id, allowed=allowed)


async def begin_discoverable_authentication(
    store: TtlStore, *, settings: Settings, realm: Realm, transaction_id: str,
) -> PasskeyOptions:
    """Options with an empty allowCredentials: the authenticator offers its passkeys (§5.5)."""
    return await _begin(store, settings=settings, realm=realm, transaction_id=transaction_id,
                        user_id=ANY_USER, allowed=[])


def fake_credential_ids(key: bytes, *, realm: str, identifier: str) -> list[bytes]:
    """One to three credential IDs derived from the identifier: stable, so a repeat looks real.

    The count varies between identifiers as the number of a real person's passkeys does.
    §14.6.2: https://www.w3.org/TR/webauthn-3/#sctn-username-enumeration
    """
    seed = hmac.new(key, f"{realm}\0{identifier}".encode(), hashlib.sha256).digest()
    count = 1 + seed[0] % _FAKE_COUNT_MAX
    return [
        hmac.new(key, seed + bytes([index]), hashlib.sha256).digest()[:_FAKE_ID_BYTES]
        for index in range(count)
    ]


async def finish_authentication(
    store: TtlStore, *, settings: Settings, realm: Realm, transaction_id: str, handle: str,
    response: str | dict[str, Any],
) -> VerifiedPasskeySignIn:
    """Verify an AuthenticationResponseJSON as §7.2 says and record the credential's use.

    Raises :class:`PasskeyError` (or :class:`ExpiredError` for a used or expired challenge);
    :class:`PossibleCloneError` when the signature counter went backwards (§6.1.1).
    """
    challenge = await take_challenge(
        store, realm=realm.name, handle=handle, purpose="authentication",
        context=transaction_id,
    )
    credential = _parse(response)

    # §7.2 step 5-6: the credential is registered, and to the person the ceremony expects.
    stored = await PasskeyCredential.filter(
        credential_id_hash=credential_id_hash(credential.raw_id)
    ).select_related("user").first()
    if stored is None or stored.user.realm_id != realm.id:  # type: ignore[attr-defined]
        raise PasskeyError("credential is not registered in this realm")
    user = stored.user

    if not user.enabled:
        raise PasskeyError(f"user {user.username} is disabled")

    if challenge.user_id not in (ANY_USER, user.id):
        raise PasskeyError("credential belongs to another user than the one identified")

    user_handle = credential.response.user_handle
    if challenge.user_id is ANY_USER and not user_handle:
        raise PasskeyError("discoverable sign-in without a user handle")

    if user_handle and not hmac.compare_digest(user_handle, bytes(user.user_handle)):
        raise PasskeyError("user handle does not match the credential's owner")

    # A stored key that cannot load (registered before keys were checked) refuses the
    # ceremony instead of failing inside py_webauthn.
    load_credential_public_key(bytes(stored.public_key))

    # Steps 11-21; the counter is checked below, only once the signature is known good.
    # py_webauthn refuses BS without BE itself (§7.2 step 17, InvalidBackupFlags).
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=challenge.value,
            expected_rp_id=settings.rp_id,
            expected_origin=settings.origin,
            credential_public_key=bytes(stored.public_key),
            credential_current_sign_count=0,
            require_user_verification=True,
        )
    except WebAuthnException as exc:
        raise PasskeyError(f"authentication response refused: {exc}") from exc

    _check_backup_eligibility(stored, verified.credential_device_type)

    await _check_sign_count(realm, user, stored, verified.new_sign_count)
    await _record_use(stored, sign_count=verified.new_sign_count,
                      backed_up=verified.credential_backed_up)
    return VerifiedPasskeySignIn(
        user=user, passkey_id=stored.id, sign_count=verified.new_sign_count,
        backed_up=verified.credential_backed_up, discoverable=challenge.user_id is ANY_USER,
    )


async def _begin(
    store: TtlStore, *, settings: Settings, realm: Realm, transaction_id: str,
    user_id: int | None, allowed: list[Any],
) -> PasskeyOptions:
    challenge = await issue_challenge(
        store, realm=realm.name, purpose="authentication", context=transaction_id,
        user_id=user_id, ttl_seconds=settings.challenge_ttl_seconds,
    )
    options = generate_authentication_options(
        rp_id=settings.rp_id,
        challenge=challenge.value,
        timeout=settings.challenge_ttl_seconds * 1000,
        allow_credentials=allowed,
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return PasskeyOptions(handle=challenge.handle, options=options_to_json_dict(options))


async def _credentials_of(realm: Realm, identifier: str) -> list[tuple[int, bytes, list[str]]]:
    """``(user_id, credential_id, transports)`` of the enabled user named by username or email.

    One query in the common case; the username wins over an email, as in
    :func:`idp.directory.find_user_by_identifier`.
    """
    query = PasskeyCredential.filter(user__realm_id=realm.id, user__enabled=True)
    rows = await query.filter(user__username=identifier).values_list(
        "user_id", "credential_id", "transports"
    )
    if not rows and "@" in identifier:
        rows = await query.filter(user__email=identifier.lower()).values_list(
            "user_id", "credential_id", "transports"
        )
    return [(int(u), bytes(c), list(t or ())) for u, c, t in rows]


def _parse(response: str | dict[str, Any]) -> AuthenticationCredential:
    """The response, shape-checked at the boundary and parsed by py_webauthn."""
    value = load_response_json(response, kind="authentication")
    try:
        return parse_authentication_credential_json(value)
    except WebAuthnException as exc:
        raise PasskeyError(f"authentication response malformed: {exc}") from exc


def _check_backup_eligibility(
    stored: PasskeyCredential, device_type: CredentialDeviceType
) -> None:
    """BE is fixed when the credential is created: it must read as it did at registration.

    §6.1.3 (BE "will not change") and §7.2 step 21:
    https://www.w3.org/TR/webauthn-3/#sctn-credential-backup
    """
    eligible = device_type == CredentialDeviceType.MULTI_DEVICE
    if eligible != stored.backup_eligible:
        raise PasskeyError(
            f"passkey {stored.id}: assertion has BE={int(eligible)}, "
            f"registered with BE={int(stored.backup_eligible)}"
        )


async def _check_sign_count(
    realm: Realm, user: User, stored: PasskeyCredential, received: int
) -> None:
    """Refuse a counter that did not increase, unless both are zero (synced passkeys).

    §6.1.1: https://www.w3.org/TR/webauthn-3/#sctn-sign-counter and §7.2 step 22.
    """
    if (received == 0 and stored.sign_count == 0) or received > stored.sign_count:
        return
    await record_event(
        "passkey.possible_clone", realm=realm.name, outcome="failure", username=user.username,
        details={"passkey": stored.id, "stored_count": stored.sign_count,
                 "received_count": received},
    )
    raise PossibleCloneError(
        f"passkey {stored.id} of {user.username}: signature counter {received} "
        f"is not above the stored {stored.sign_count}"
    )


async def _record_use(stored: PasskeyCredential, *, sign_count: int, backed_up: bool) -> None:
    """Store the new counter, backup state and time in one conditional UPDATE.

    The condition on the old counter lets only one of two racing uses of one counter value
    through (§6.1.1); with a zero counter both pass, as they would one after the other.
    """
    updated = await PasskeyCredential.filter(id=stored.id, sign_count=stored.sign_count).update(
        sign_count=sign_count, backed_up=backed_up, last_used_at=dt.datetime.now(dt.timezone.utc),
    )
    if updated != 1:
        raise PasskeyError(f"passkey {stored.id} changed or was removed during the ceremony")
