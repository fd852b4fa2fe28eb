"""Server-side WebAuthn challenges: single use, bound to realm, purpose and context."""

from __future__ import annotations

import pytest

from idp.errors import ExpiredError, PasskeyError
from idp.passkeys import Challenge, issue_challenge, take_challenge
from idp.ttl import DatabaseTtlStore, TtlStore


@pytest.fixture
def store(db: None) -> DatabaseTtlStore:
    return DatabaseTtlStore()


async def _issue(store: TtlStore, **overrides: object) -> Challenge:
    arguments: dict[str, object] = {"realm": "acme", "purpose": "authentication",
                                    "context": "txn-1", "user_id": 7, "ttl_seconds": 300}
    arguments.update(overrides)
    return await issue_challenge(store, **arguments)  # type: ignore[arg-type]


async def test_a_challenge_is_random_and_comes_back_once(store: DatabaseTtlStore) -> None:
    issued = await _issue(store)
    other = await _issue(store)

    taken = await take_challenge(store, realm="acme", handle=issued.handle,
                                 purpose="authentication", context="txn-1")

    assert taken == issued
    assert len(issued.value) >= 16 and issued.value != other.value
    with pytest.raises(ExpiredError):
        await take_challenge(store, realm="acme", handle=issued.handle,
                             purpose="authentication", context="txn-1")


async def test_the_store_holds_no_challenge_under_the_handle_alone(
    store: DatabaseTtlStore,
) -> None:
    issued = await _issue(store)

    assert await store.get(f"chal:acme:{issued.handle}") is not None
    assert await store.get(issued.handle) is None


async def test_rejects_a_challenge_presented_in_another_realm(store: DatabaseTtlStore) -> None:
    issued = await _issue(store)

    with pytest.raises(ExpiredError):
        await take_challenge(store, realm="other", handle=issued.handle,
                             purpose="authentication", context="txn-1")


async def test_rejects_a_challenge_presented_for_another_purpose(
    store: DatabaseTtlStore,
) -> None:
    issued = await _issue(store, purpose="registration")

    with pytest.raises(PasskeyError, match="registration"):
        await take_challenge(store, realm="acme", handle=issued.handle,
                             purpose="authentication", context="txn-1")


async def test_rejects_a_malformed_handle_without_a_lookup(store: DatabaseTtlStore) -> None:
    with pytest.raises(ExpiredError, match="malformed"):
        await take_challenge(store, realm="acme", handle="x" * 65,
                             purpose="authentication", context="txn-1")
