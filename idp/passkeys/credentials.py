"""A person's own passkeys: list, rename and remove them, never leaving none.

Without a password, the last passkey is the only way back in: removing it would lock the
person out until an admin issues a temporary access link, so it is refused.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import cast

from tortoise.transactions import in_transaction

from idp.errors import ConflictError, NotFoundError
from idp.models import PasskeyCredential, User
from idp.passkeys.registration import clean_name

__all__ = [
    "LastPasskeyError",
    "PasskeySummary",
    "list_passkeys",
    "remove_passkey",
    "rename_passkey",
]


PASSKEY_ID_MAX = 2**31 - 1
"""The largest id the database's integer primary key can hold; a larger one names nothing."""


class LastPasskeyError(ConflictError):
    """Removing the passkey would leave the person with none."""

    public_message = "You cannot remove your only passkey. Add another one first."


@dataclass(frozen=True, slots=True)
class PasskeySummary:
    """What the account page shows of a passkey; no key material."""

    id: int
    name: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    backed_up: bool


async def list_passkeys(user_id: int) -> list[PasskeySummary]:
    """The person's passkeys, oldest first."""
    rows = await PasskeyCredential.filter(user_id=user_id).order_by("id").values_list(
        "id", "name", "created_at", "last_used_at", "backed_up"
    )
    return [PasskeySummary(*row) for row in rows]


async def rename_passkey(user_id: int, passkey_id: int, name: str) -> str:
    """Give one of the person's passkeys a new name; returns the name as stored."""
    _require_possible_id(user_id, passkey_id)
    stored = clean_name(name)
    updated = await PasskeyCredential.filter(id=passkey_id, user_id=user_id).update(name=stored)
    if updated != 1:
        raise NotFoundError(f"passkey {passkey_id} of user {user_id} does not exist")
    return stored


async def remove_passkey(user_id: int, passkey_id: int) -> None:
    """Remove one of the person's passkeys, unless it is their last.

    The user row is locked first (on PostgreSQL), so two removals racing for the last two
    passkeys run one after the other and the second is refused.

    Known shortcoming: sessions signed in with the removed passkey keep running, because a
    session does not record which credential proved it; a lost device's sessions end only by
    expiry or when the user is disabled.
    """
    _require_possible_id(user_id, passkey_id)
    async with in_transaction():
        await User.select_for_update().filter(id=user_id).first()
        owned = cast(list[int], await PasskeyCredential.filter(user_id=user_id).values_list(
            "id", flat=True
        ))
        if passkey_id not in owned:
            raise NotFoundError(f"passkey {passkey_id} of user {user_id} does not exist")
        if len(owned) == 1:
            raise LastPasskeyError(f"passkey {passkey_id} is the last of user {user_id}")
        await PasskeyCredential.filter(id=passkey_id, user_id=user_id).delete()


def _require_possible_id(user_id: int, passkey_id: int) -> None:
    # Beyond the column's range PostgreSQL refuses the query itself ("out of range").
    if not 1 <= passkey_id <= PASSKEY_ID_MAX:
        raise NotFoundError(f"passkey {passkey_id} of user {user_id} does not exist")
