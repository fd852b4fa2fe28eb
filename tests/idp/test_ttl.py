"""The TTL store: values expire, and ``take`` hands a value out once."""

from __future__ import annotations

import asyncio
import os

import pytest

from idp.ttl import DatabaseTtlStore, RedisTtlStore, TtlStore

REDIS_URL = os.environ.get("PORTCULLIS_TEST_REDIS_URL", "")


@pytest.fixture(params=["database", "redis"])
async def store(request: pytest.FixtureRequest, db: None):  # type: ignore[no-untyped-def]
    if request.param == "redis":
        if not REDIS_URL:
            pytest.skip("PORTCULLIS_TEST_REDIS_URL is not set")
        redis_store = RedisTtlStore(REDIS_URL, prefix=f"test-{os.getpid()}-{id(request)}:")
        yield redis_store
        await redis_store.close()
    else:
        yield DatabaseTtlStore(sweep_every=2)


async def test_get_returns_what_was_put(store: TtlStore) -> None:
    await store.put("k", {"a": 1, "b": ["x"]}, ttl=60)
    assert await store.get("k") == {"a": 1, "b": ["x"]}
    assert await store.get("k") == {"a": 1, "b": ["x"]}


async def test_take_hands_out_a_value_once(store: TtlStore) -> None:
    await store.put("once", {"v": 1}, ttl=60)
    assert await store.take("once") == {"v": 1}
    assert await store.take("once") is None
    assert await store.get("once") is None


async def test_concurrent_takes_have_one_winner(store: TtlStore) -> None:
    await store.put("race", {"v": 1}, ttl=60)
    results = await asyncio.gather(*(store.take("race") for _ in range(5)))
    assert [r for r in results if r is not None] == [{"v": 1}]


async def test_expired_value_is_gone(store: TtlStore) -> None:
    await store.put("short", {"v": 1}, ttl=1)
    await asyncio.sleep(1.2)
    assert await store.get("short") is None
    assert await store.take("short") is None


async def test_delete_removes(store: TtlStore) -> None:
    await store.put("k", {"v": 1}, ttl=60)
    await store.delete("k")
    assert await store.get("k") is None
