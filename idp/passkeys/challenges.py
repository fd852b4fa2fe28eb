"""WebAuthn challenges, kept server-side, bound to their ceremony and used once.

A challenge is random bytes the authenticator signs over (WebAuthn Level 3 §13.4.3). The
browser receives it inside the options and a short opaque *handle* to send back; the value and
what it is bound to stay in the TTL store under ``chal:<realm>:<handle>``. Taking it deletes
it, so a response can be verified once, and only for the realm, purpose, context (the login
transaction, enrolment link or session it was issued for) and person it was issued to.

https://www.w3.org/TR/webauthn-3/#sctn-cryptographic-challenges
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from typing import Literal

from idp.errors import ExpiredError, PasskeyError
from idp.ttl import TtlStore

__all__ = [
    "ANY_USER",
    "Challenge",
    "ChallengePurpose",
    "UNKNOWN_USER",
    "issue_challenge",
    "take_challenge",
]

ChallengePurpose = Literal["registration", "authentication"]

ANY_USER: int | None = None
"""Expected user of a discoverable sign-in: whoever the credential belongs to."""

UNKNOWN_USER = 0
"""Expected user after an identifier that matched nobody: no credential can satisfy it."""

_CHALLENGE_BYTES = 32
_HANDLE_BYTES = 18


@dataclass(frozen=True, slots=True)
class Challenge:
    """A challenge and what it was issued for."""

    handle: str
    value: bytes
    realm: str
    purpose: ChallengePurpose
    context: str
    user_id: int | None


async def issue_challenge(
    store: TtlStore, *, realm: str, purpose: ChallengePurpose, context: str,
    user_id: int | None, ttl_seconds: int,
) -> Challenge:
    """Create a challenge of at least 16 random bytes (§13.4.3) and remember it server-side."""
    challenge = Challenge(
        handle=secrets.token_urlsafe(_HANDLE_BYTES),
        value=secrets.token_bytes(_CHALLENGE_BYTES),
        realm=realm, purpose=purpose, context=context, user_id=user_id,
    )
    await store.put(_key(realm, challenge.handle), {
        "value": base64.urlsafe_b64encode(challenge.value).decode("ascii"),
        "purpose": purpose, "context": context, "user_id": user_id,
    }, ttl=ttl_seconds)
    return challenge


async def take_challenge(
    store: TtlStore, *, realm: str, handle: str, purpose: ChallengePurpose, context: str,
) -> Challenge:
    """Take the challenge out of the store; it must match the ceremony that presents it.

    Raises :class:`ExpiredError` when the handle is unknown, used or expired, and
    :class:`PasskeyError` when it was issued for another purpose or context.
    """
    if not handle or len(handle) > 64 or not handle.isascii():
        raise ExpiredError("challenge handle missing or malformed")
    data = await store.take(_key(realm, handle))
    if data is None:
        raise ExpiredError(f"{purpose} challenge of realm {realm} unknown, used or expired")

    if data.get("purpose") != purpose:
        raise PasskeyError(
            f"challenge was issued for {data.get('purpose')!r}, presented for {purpose!r}"
        )

    if not secrets.compare_digest(str(data.get("context", "")).encode(), context.encode()):
        raise PasskeyError(f"{purpose} challenge presented outside the context it was issued for")

    return Challenge(
        handle=handle, value=base64.urlsafe_b64decode(data["value"]), realm=realm,
        purpose=purpose, context=context, user_id=data.get("user_id"),
    )


def _key(realm: str, handle: str) -> str:
    return f"chal:{realm}:{handle}"
