"""The long-lived objects one Portcullis process shares between requests."""

from __future__ import annotations

from dataclasses import dataclass

from idp.directory import RealmCache
from idp.keys import KeyRing
from idp.sessions import SessionManager
from idp.settings import Settings
from idp.transactions import TransactionStore
from idp.ttl import TtlStore

__all__ = ["Services"]


@dataclass(frozen=True, slots=True)
class Services:
    """Settings and the stores built from them, made once at start-up."""

    settings: Settings
    ttl: TtlStore
    transactions: TransactionStore
    sessions: SessionManager
    keys: KeyRing
    realms: RealmCache
