"""SSO sessions: one sign-in that every application of a realm shares.

The browser keeps a random session id in an HttpOnly cookie; the database keeps its SHA-256,
the person, when they proved who they are (``auth_time``) and which applications they entered,
so that logout can reach them. A session ends after ``sso_session_idle_seconds`` without use or
``sso_session_max_seconds`` after sign-in, whichever comes first (Keycloak's SSO Session Idle
and SSO Session Max).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from idp.models import Realm, SsoSession, User

__all__ = ["SessionManager", "SignIn"]

SESSION_COOKIE = "portcullis_session"


@dataclass(frozen=True, slots=True)
class SignIn:
    """A person who is signed in, as a protocol needs to know them to answer."""

    realm: str
    user_id: int
    username: str
    auth_time: dt.datetime
    session_index: str
    authn_method: str = "passkey"
    fresh: bool = False
    """True when the person ran a ceremony for this transaction (not reused from SSO)."""


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class SessionManager:
    """Creates, finds and ends SSO sessions."""

    def __init__(self, *, idle_seconds: int, max_seconds: int) -> None:
        self._idle = dt.timedelta(seconds=idle_seconds)
        self._max = dt.timedelta(seconds=max_seconds)

    async def create(
        self, realm: Realm, user: User, *, method: str = "passkey"
    ) -> tuple[str, SignIn]:
        """Start a session; returns the cookie value and the sign-in it stands for."""
        session_id = secrets.token_urlsafe(32)
        now = _now()
        record = await SsoSession.create(
            id_hash=_hash(session_id), realm=realm, user=user, auth_time=now,
            last_seen_at=now, expires_at=now + self._max, authn_method=method,
        )
        return session_id, self._sign_in(realm, user, record, fresh=True)

    async def find(self, realm: Realm, session_id: str | None) -> SignIn | None:
        """The live session behind a cookie value, or ``None`` (and it is touched)."""
        if not session_id or len(session_id) > 128:
            return None
        record = await SsoSession.get_or_none(id_hash=_hash(session_id), realm=realm)
        if record is None:
            return None
        now = _now()
        if now >= record.expires_at or now - record.last_seen_at >= self._idle:
            await record.delete()
            return None
        user = await User.get_or_none(id=record.user_id, enabled=True)  # type: ignore[attr-defined]
        if user is None:
            await record.delete()
            return None
        record.last_seen_at = now
        await record.save(update_fields=["last_seen_at"])
        return self._sign_in(realm, user, record, fresh=False)

    async def add_client(self, session_index: str, client: str) -> None:
        """Remember that an application received this session (for single logout)."""
        record = await SsoSession.get_or_none(id_hash=session_index)
        if record is not None and client not in record.clients:
            record.clients = [*record.clients, client]
            await record.save(update_fields=["clients"])

    async def end(self, realm: Realm, session_id: str | None) -> SignIn | None:
        """End the session behind a cookie value; returns who it belonged to, if anyone."""
        if not session_id or len(session_id) > 128:
            return None
        record = await SsoSession.get_or_none(id_hash=_hash(session_id), realm=realm)
        if record is None:
            return None
        user = await User.get(id=record.user_id)  # type: ignore[attr-defined]
        await record.delete()
        return self._sign_in(realm, user, record, fresh=False)

    @staticmethod
    def _sign_in(realm: Realm, user: User, record: SsoSession, *, fresh: bool) -> SignIn:
        # The session index handed to applications is the stored hash: it identifies the
        # session without being able to resume it.
        return SignIn(
            realm=realm.name, user_id=user.id, username=user.username,
            auth_time=record.auth_time, session_index=record.id_hash,
            authn_method=record.authn_method, fresh=fresh,
        )
