"""Realms, users and groups: validation, uniqueness, lookup by username or email."""

from __future__ import annotations

import pytest

from idp.directory import (
    create_realm,
    create_user,
    find_user_by_identifier,
    get_realm,
    group_names,
    set_user_enabled,
)
from idp.errors import ConflictError, InvalidRequestError, NotFoundError
from idp.models import User


async def test_user_is_found_by_username_or_email_case_insensitively(db: None) -> None:
    realm = await create_realm("acme")
    user = await create_user(realm, username="alice", email="Alice@Example.com",
                             groups=["jira-users", "admins"])
    assert (await find_user_by_identifier(realm, "alice")).id == user.id  # type: ignore[union-attr]
    assert (await find_user_by_identifier(realm, "ALICE@example.COM")).id == user.id  # type: ignore[union-attr]
    assert await find_user_by_identifier(realm, "bob") is None
    assert await group_names(user) == ["admins", "jira-users"]


async def test_disabled_user_is_not_found(db: None) -> None:
    realm = await create_realm("acme")
    await create_user(realm, username="alice")
    await set_user_enabled(realm, "alice", enabled=False)
    assert await find_user_by_identifier(realm, "alice") is None


async def test_duplicate_username_or_email_is_a_conflict_and_changes_nothing(db: None) -> None:
    realm = await create_realm("acme")
    await create_user(realm, username="alice", email="a@example.com")
    with pytest.raises(ConflictError):
        await create_user(realm, username="alice", groups=["new-group"])
    with pytest.raises(ConflictError):
        await create_user(realm, username="alice2", email="A@example.com")
    assert await User.filter(realm=realm).count() == 1


async def test_same_username_in_two_realms_is_two_people(db: None) -> None:
    first = await create_realm("one")
    second = await create_realm("two")
    await create_user(first, username="alice")
    await create_user(second, username="alice")
    assert await User.filter(username="alice").count() == 2


@pytest.mark.parametrize("name", ["Acme", "a b", "", "-x", "x" * 65, "../etc"])
async def test_bad_realm_name_is_refused(db: None, name: str) -> None:
    with pytest.raises(InvalidRequestError):
        await create_realm(name)


async def test_unknown_realm_is_not_found(db: None) -> None:
    with pytest.raises(NotFoundError):
        await get_realm("nowhere")


@pytest.mark.parametrize(("username", "email"), [("a b", None), ("x", "no-at-sign"),
                                                  ("<script>", None)])
async def test_bad_user_fields_are_refused(db: None, username: str, email: str | None) -> None:
    realm = await create_realm("acme")
    with pytest.raises(InvalidRequestError):
        await create_user(realm, username=username, email=email)
