"""A person's own passkeys: listing, renaming, and never removing the last one."""

from __future__ import annotations

import asyncio

import pytest

from idp.directory import create_realm, create_user
from idp.errors import NotFoundError
from idp.models import PasskeyCredential, User
from idp.passkeys import LastPasskeyError, list_passkeys, remove_passkey, rename_passkey


async def _passkey(user: User, number: int) -> PasskeyCredential:
    return await PasskeyCredential.create(
        user=user, credential_id=bytes([number]) * 16, credential_id_hash=f"{number:064x}",
        public_key=b"key", name=f"Key {number}",
    )


@pytest.fixture
async def ada(db: None) -> User:
    realm = await create_realm("acme")
    return await create_user(realm, username="ada")


async def test_lists_passkeys_oldest_first_without_key_material(ada: User) -> None:
    await _passkey(ada, 1)
    await _passkey(ada, 2)

    listed = await list_passkeys(ada.id)

    assert [p.name for p in listed] == ["Key 1", "Key 2"]
    assert not hasattr(listed[0], "public_key")


async def test_rename_cleans_the_name_and_only_touches_own_passkeys(ada: User) -> None:
    own = await _passkey(ada, 1)
    bob = await create_user(await ada.realm, username="bob")
    bobs = await _passkey(bob, 2)

    assert await rename_passkey(ada.id, own.id, "  Work\x00 laptop  ") == "Work laptop"
    with pytest.raises(NotFoundError):
        await rename_passkey(ada.id, bobs.id, "mine now")
    assert (await PasskeyCredential.get(id=bobs.id)).name == "Key 2"


async def test_an_empty_name_becomes_the_default(ada: User) -> None:
    own = await _passkey(ada, 1)

    assert await rename_passkey(ada.id, own.id, "   ") == "Passkey"


async def test_refuses_to_remove_the_last_passkey(ada: User) -> None:
    first = await _passkey(ada, 1)
    second = await _passkey(ada, 2)

    await remove_passkey(ada.id, first.id)
    with pytest.raises(LastPasskeyError):
        await remove_passkey(ada.id, second.id)
    assert await PasskeyCredential.filter(user=ada).count() == 1


async def test_two_racing_removals_leave_one_passkey(ada: User) -> None:
    first = await _passkey(ada, 1)
    second = await _passkey(ada, 2)

    results = await asyncio.gather(remove_passkey(ada.id, first.id),
                                   remove_passkey(ada.id, second.id), return_exceptions=True)

    assert sum(isinstance(r, LastPasskeyError) for r in results) == 1
    assert await PasskeyCredential.filter(user=ada).count() == 1


async def test_cannot_remove_someone_elses_passkey(ada: User) -> None:
    await _passkey(ada, 1)
    bob = await create_user(await ada.realm, username="bob")
    bobs = [await _passkey(bob, 2), await _passkey(bob, 3)]

    with pytest.raises(NotFoundError):
        await remove_passkey(ada.id, bobs[0].id)
    assert await PasskeyCredential.filter(user=bob).count() == 2
