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

from tortoise import connections
from tortoise.exceptions import IntegrityError

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
        # Keys carry fresh random ids, so a plain INSERT is the common case: one round trip.
        expires_at = time.time() + ttl
        text = json.dumps(value, separators=(",", ":"))
        try:
            await TtlEntry.create(key=key, value=text, expires_at=expires_at)
        except IntegrityError:
            await TtlEntry.filter(key=key).update(value=text, expires_at=expires_at)
        self._puts += 1
        if self._puts % self._sweep_every == 0:
            await TtlEntry.filter(expires_at__lt=time.time()).delete()

    async def get(self, key: str) -> JsonObject | None:
        entry = await TtlEntry.get_or_none(key=key)
        if entry is None or entry.expires_at <= time.time():
            return None
        return json.loads(entry.value)  # type: ignore[no-any-return]

    async def take(self, key: str) -> JsonObject | None:
        # One DELETE ... RETURNING: only the caller whose statement removed the row gets the
        # value, so two replicas racing for a single-use value cannot both win.
        connection = connections.get("default")
        placeholder = "$1" if connection.capabilities.dialect == "postgres" else "?"
        rows = await connection.execute_query_dict(
            f'DELETE FROM "ttl_entry" WHERE "key" = {placeholder} '
            'RETURNING "value", "expires_at"', [key]
        )
        if not rows or rows[0]["expires_at"] <= time.time():
            return None
        return json.loads(rows[0]["value"])  # type: ignore[no-any-return]

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
