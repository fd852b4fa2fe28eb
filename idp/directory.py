"""Realms, users and groups: the people Portcullis signs in and how they are grouped."""

from __future__ import annotations

import logging
import re
import time

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from idp.errors import ConflictError, InvalidRequestError, NotFoundError
from idp.models import Group, Realm, User

__all__ = [
    "RealmCache",
    "create_realm",
    "create_user",
    "find_user_by_identifier",
    "get_realm",
    "group_names",
    "set_user_enabled",
]

log = logging.getLogger(__name__)

REALM_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
USERNAME = re.compile(r"^[^\s/\\<>\"']{1,255}$")
EMAIL = re.compile(r"^[^\s@<>\"']{1,64}@[^\s@<>\"']{1,255}$")


async def create_realm(name: str, *, display_name: str = "") -> Realm:
    """Create a realm; names are lower-case letters, digits, ``-`` and ``_``."""
    if not REALM_NAME.fullmatch(name):
        raise InvalidRequestError(
            f"realm name {name!r}: expected lower-case letters, digits, '-' or '_'"
        )
    if await Realm.exists(name=name):
        raise ConflictError(f"realm {name!r} already exists")
    realm = await Realm.create(name=name, display_name=display_name or name)
    log.info("realm.created", extra={"realm": name})
    return realm


async def get_realm(name: str) -> Realm:
    """The realm called ``name``; raises :class:`NotFoundError` if there is none."""
    realm = await Realm.get_or_none(name=name) if REALM_NAME.fullmatch(name) else None
    if realm is None:
        raise NotFoundError(f"realm {name!r} does not exist")
    return realm


class RealmCache:
    """Realm rows kept in memory for a few seconds: every page of a sign-in needs its realm.

    A realm changes rarely; another replica's change is seen after at most ``max_age``.
    """

    def __init__(self, *, max_age: float = 10.0) -> None:
        self._max_age = max_age
        self._realms: dict[str, tuple[float, Realm]] = {}

    async def get(self, name: str) -> Realm:
        """The realm called ``name``; raises :class:`NotFoundError` if there is none."""
        cached = self._realms.get(name)
        if cached is not None and time.monotonic() - cached[0] < self._max_age:
            return cached[1]
        realm = await get_realm(name)
        self._realms[name] = (time.monotonic(), realm)
        return realm


async def create_user(
    realm: Realm, *, username: str, email: str | None = None, display_name: str = "",
    groups: list[str] | tuple[str, ...] = (),
) -> User:
    """Create a user and their group memberships (groups are created when missing)."""
    if not username:
        raise InvalidRequestError("username: must not be empty")
    if not USERNAME.fullmatch(username):
        raise InvalidRequestError(f"username {username!r}: no spaces, slashes or quotes")
    if email is not None and not EMAIL.fullmatch(email):
        raise InvalidRequestError(f"email {email!r}: expected name@domain")
    try:
        async with in_transaction():
            user = await User.create(
                realm=realm, username=username, email=email.lower() if email else None,
                display_name=display_name or username,
            )
            for name in groups:
                group, _ = await Group.get_or_create(realm=realm, name=name)
                await user.groups.add(group)
    except IntegrityError as exc:
        taken = f"username {username!r}" + (f" or email {email!r}" if email else "")
        raise ConflictError(f"a user with {taken} exists in realm {realm.name}") from exc
    log.info("user.created", extra={"realm": realm.name, "username": username})
    return user


async def find_user_by_identifier(realm: Realm, identifier: str) -> User | None:
    """The enabled user whose username, or else email, is ``identifier``."""
    identifier = identifier.strip()
    if not identifier or len(identifier) > 320:
        return None
    user = await User.get_or_none(realm=realm, username=identifier, enabled=True)
    if user is None and "@" in identifier:
        user = await User.get_or_none(realm=realm, email=identifier.lower(), enabled=True)
    return user


async def set_user_enabled(realm: Realm, username: str, *, enabled: bool) -> User:
    """Enable or disable a user; a disabled user's sessions stop working at once."""
    user = await User.get_or_none(realm=realm, username=username)
    if user is None:
        raise NotFoundError(f"user {username!r} does not exist in realm {realm.name}")
    user.enabled = enabled
    await user.save(update_fields=["enabled"])
    return user


async def group_names(user: User) -> list[str]:
    """The names of the user's groups, sorted."""
    return sorted(await user.groups.all().values_list("name", flat=True))  # type: ignore[arg-type]
