"""The registered service providers of each realm: stored, and kept in memory between requests.

A login should not cost a query to learn what Jira's ACS URL is. A :class:`Registry` holds a
snapshot of each realm's SPs (and the realm row itself) and reloads it when

* this process changed a registration (every write below calls :func:`changed`), or
* the snapshot is older than ``max_age`` seconds, so that a change made by another replica or
  by the command line is seen within that time, or
* an Issuer or name is missing from a snapshot older than ``miss_age`` seconds, so that a
  newly registered SP works at once.

Known shortcoming: between processes a removed or changed SP is honoured for up to ``max_age``
seconds (10 by default). A shared change counter in the TTL store would close that window at
the price of one more round trip per request.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError

from idp.directory import get_realm
from idp.errors import ConflictError, NotFoundError
from idp.models import Realm
from protocols.saml.models import ServiceProvider
from protocols.saml.registration import (
    ServiceProviderConfig,
    ServiceProviderSpec,
    config_from_row,
    row_fields,
    validate_spec,
)

__all__ = [
    "Registry",
    "changed",
    "create_service_provider",
    "delete_service_provider",
    "list_service_providers",
    "set_service_provider_enabled",
]

log = logging.getLogger(__name__)

_generations: dict[str, int] = {}


def changed(realm: str) -> None:
    """Tell every registry of this process that ``realm``'s SPs changed."""
    _generations[realm] = _generations.get(realm, 0) + 1


async def create_service_provider(realm: Realm, spec: ServiceProviderSpec
                                  ) -> ServiceProviderConfig:
    """Validate and store a new SP; raises :class:`ConflictError` on a duplicate."""
    spec = validate_spec(spec)
    if await ServiceProvider.exists(realm=realm, name=spec.name):
        raise ConflictError(f"a SAML application named {spec.name!r} exists in {realm.name}")
    if await ServiceProvider.exists(realm=realm, entity_id=spec.entity_id):
        raise ConflictError(f"entity ID {spec.entity_id!r} is registered in {realm.name}")
    try:
        row = await ServiceProvider.create(realm=realm, **row_fields(spec))
    except IntegrityError as exc:
        raise ConflictError(f"{spec.name!r} or {spec.entity_id!r} exists in {realm.name}"
                            ) from exc
    changed(realm.name)
    log.info("saml.sp.registered", extra={"realm": realm.name, "client": spec.entity_id,
                                          "sp": spec.name, "preset": spec.preset})
    return config_from_row(row, realm.name)


async def list_service_providers(realm: Realm) -> list[ServiceProviderConfig]:
    """Every SP of the realm, by name, read from the database."""
    rows = await ServiceProvider.filter(realm=realm).order_by("name")
    return [config_from_row(row, realm.name) for row in rows]


async def delete_service_provider(realm: Realm, name: str) -> None:
    """Remove the SP registered as ``name``; raises :class:`NotFoundError` if none is."""
    deleted = await ServiceProvider.filter(realm=realm, name=name).delete()
    if not deleted:
        raise NotFoundError(f"no SAML application named {name!r} in realm {realm.name}")
    changed(realm.name)
    log.info("saml.sp.removed", extra={"realm": realm.name, "sp": name})


async def set_service_provider_enabled(realm: Realm, name: str, *, enabled: bool) -> None:
    """Enable or disable an SP; a disabled SP gets no assertion, only the error page."""
    updated = await ServiceProvider.filter(realm=realm, name=name).update(enabled=enabled)
    if not updated:
        raise NotFoundError(f"no SAML application named {name!r} in realm {realm.name}")
    changed(realm.name)


@dataclass(frozen=True, slots=True)
class _Snapshot:
    realm: Realm
    generation: int
    loaded_at: float
    by_entity_id: Mapping[str, ServiceProviderConfig]
    by_name: Mapping[str, ServiceProviderConfig]


class Registry:
    """Each realm's SPs as :class:`ServiceProviderConfig`, from memory when fresh enough."""

    def __init__(self, *, max_age: float = 10.0, miss_age: float = 1.0) -> None:
        self._max_age = max_age
        self._miss_age = miss_age
        self._snapshots: dict[str, _Snapshot] = {}
        self._lock = asyncio.Lock()

    async def realm(self, name: str) -> Realm:
        """The realm row; raises :class:`~idp.errors.NotFoundError` if there is none."""
        return (await self._snapshot(name)).realm

    async def by_entity_id(self, realm: str, entity_id: str) -> ServiceProviderConfig | None:
        """The SP whose entity ID is exactly ``entity_id``, or ``None``."""
        snapshot = await self._snapshot(realm)
        found = snapshot.by_entity_id.get(entity_id)
        if found is None and time.monotonic() - snapshot.loaded_at > self._miss_age:
            found = (await self._snapshot(realm, reload=True)).by_entity_id.get(entity_id)
        return found

    async def by_name(self, realm: str, name: str) -> ServiceProviderConfig | None:
        """The SP registered as ``name`` (the IdP-initiated URL's last segment), or ``None``."""
        snapshot = await self._snapshot(realm)
        found = snapshot.by_name.get(name)
        if found is None and time.monotonic() - snapshot.loaded_at > self._miss_age:
            found = (await self._snapshot(realm, reload=True)).by_name.get(name)
        return found

    async def _snapshot(self, realm: str, *, reload: bool = False) -> _Snapshot:
        snapshot = self._snapshots.get(realm)
        if not reload and snapshot is not None and self._fresh(snapshot):
            return snapshot
        async with self._lock:
            current = self._snapshots.get(realm)
            if current is not None and current is not snapshot and self._fresh(current):
                return current
            current = await _load(realm)
            self._snapshots[realm] = current
            return current

    def _fresh(self, snapshot: _Snapshot) -> bool:
        return (snapshot.generation == _generations.get(snapshot.realm.name, 0)
                and time.monotonic() - snapshot.loaded_at < self._max_age)


async def _load(realm_name: str) -> _Snapshot:
    generation = _generations.get(realm_name, 0)
    realm = await get_realm(realm_name)
    configs = [config_from_row(row, realm.name)
               for row in await ServiceProvider.filter(realm=realm)]
    return _Snapshot(
        realm=realm, generation=generation, loaded_at=time.monotonic(),
        by_entity_id={sp.entity_id: sp for sp in configs},
        by_name={sp.name: sp for sp in configs},
    )
