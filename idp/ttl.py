"""A store for short-lived, single-use state shared by every replica.

Login transactions, WebAuthn challenges and replay caches live here. Two implementations share
one small interface: :class:`DatabaseTtlStore` (the default, a table next to the durable data)
and :class:`RedisTtlStore` (when ``PORTCULLIS_REDIS_URL`` is set). :meth:`TtlStore.take` reads
and deletes in one step, so a value can be used once even when two replicas race for it.
"""

from __future__ import annotations

import json
import time
from typing import Any, Protocol

from idp.models import TtlEntry

__all__ = ["DatabaseTtlStore", "RedisTtlStore", "TtlStore", "open_ttl_store"]

JsonObject = dict[str, Any]


class TtlStore(Protocol):
    """Keys are namespaced strings such as ``txn:<id>``; values are JSON objects."""

    async def put(self, key: str, value: JsonObject, *, ttl: int) -> None: ...

    async def get(self, key: str) -> JsonObject | None: ...

    async def take(self, key: str) -> JsonObject | None: ...

    async def delete(self, key: str) -> None: ...

    async def close(self) -> None: ...


class DatabaseTtlStore:
    """The TTL store in the ``ttl_entry`` table; expired rows are swept as new ones arrive."""

    def __init__(self, *, sweep_every: int = 500) -> None:
        self._sweep_every = sweep_every
        self._puts = 0

    async def put(self, key: str, value: JsonObject, *, ttl: int) -> None:
        expires_at = time.time() + ttl
        text = json.dumps(value, separators=(",", ":"))
        await TtlEntry.update_or_create(
            defaults={"value": text, "expires_at": expires_at}, key=key
        )
        self._puts += 1
        if self._puts % self._sweep_every == 0:
            await TtlEntry.filter(expires_at__lt=time.time()).delete()

    async def get(self, key: str) -> JsonObject | None:
        entry = await TtlEntry.get_or_none(key=key)
        if entry is None or entry.expires_at <= time.time():
            return None
        return json.loads(entry.value)  # type: ignore[no-any-return]

    async def take(self, key: str) -> JsonObject | None:
        entry = await TtlEntry.get_or_none(key=key)
        if entry is None:
            return None
        # Only the caller whose DELETE removed the row may use the value.
        deleted = await TtlEntry.filter(key=key, expires_at=entry.expires_at).delete()
        if deleted != 1 or entry.expires_at <= time.time():
            return None
        return json.loads(entry.value)  # type: ignore[no-any-return]

    async def delete(self, key: str) -> None:
        await TtlEntry.filter(key=key).delete()

    async def close(self) -> None:
        return None


class RedisTtlStore:
    """The TTL store in Redis; ``take`` is ``GETDEL``, atomic on the server."""

    def __init__(self, url: str, *, prefix: str = "portcullis:") -> None:
        from redis.asyncio import Redis

        self._redis = Redis.from_url(url)
        self._prefix = prefix

    async def put(self, key: str, value: JsonObject, *, ttl: int) -> None:
        text = json.dumps(value, separators=(",", ":"))
        await self._redis.set(self._prefix + key, text, ex=ttl)

    async def get(self, key: str) -> JsonObject | None:
        raw = await self._redis.get(self._prefix + key)
        return None if raw is None else json.loads(raw)

    async def take(self, key: str) -> JsonObject | None:
        raw = await self._redis.getdel(self._prefix + key)
        return None if raw is None else json.loads(raw)

    async def delete(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)

    async def close(self) -> None:
        await self._redis.aclose()


def open_ttl_store(redis_url: str) -> TtlStore:
    """Redis when a URL is configured, the database table otherwise."""
    return RedisTtlStore(redis_url) if redis_url else DatabaseTtlStore()
