"""SSO sessions: found by cookie, ended by logout, idle and absolute expiry, disabled users."""

from __future__ import annotations

import datetime as dt

from idp.directory import create_realm, create_user, set_user_enabled
from idp.models import SsoSession
from idp.sessions import SessionManager


async def test_session_is_found_by_its_cookie_value(db: None) -> None:
    realm = await create_realm("acme")
    user = await create_user(realm, username="alice")
    sessions = SessionManager(idle_seconds=60, max_seconds=600)
    cookie, created = await sessions.create(realm, user)
    found = await sessions.find(realm, cookie)
    assert found is not None and found.user_id == user.id and not found.fresh
    assert created.fresh and found.session_index == created.session_index
    assert await sessions.find(realm, cookie + "x") is None


async def test_database_holds_only_a_hash_of_the_cookie(db: None) -> None:
    realm = await create_realm("acme")
    user = await create_user(realm, username="alice")
    cookie, _ = await SessionManager(idle_seconds=60, max_seconds=600).create(realm, user)
    record = await SsoSession.get(user_id=user.id)
    assert cookie not in record.id_hash


async def test_idle_session_expires(db: None) -> None:
    realm = await create_realm("acme")
    user = await create_user(realm, username="alice")
    sessions = SessionManager(idle_seconds=60, max_seconds=600)
    cookie, _ = await sessions.create(realm, user)
    past = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=61)
    await SsoSession.filter(user_id=user.id).update(last_seen_at=past)
    assert await sessions.find(realm, cookie) is None


async def test_session_ends_at_its_maximum_age(db: None) -> None:
    realm = await create_realm("acme")
    user = await create_user(realm, username="alice")
    sessions = SessionManager(idle_seconds=60, max_seconds=600)
    cookie, _ = await sessions.create(realm, user)
    await SsoSession.filter(user_id=user.id).update(expires_at=dt.datetime.now(dt.timezone.utc))
    assert await sessions.find(realm, cookie) is None


async def test_disabled_user_loses_the_session(db: None) -> None:
    realm = await create_realm("acme")
    user = await create_user(realm, username="alice")
    sessions = SessionManager(idle_seconds=60, max_seconds=600)
    cookie, _ = await sessions.create(realm, user)
    await set_user_enabled(realm, "alice", enabled=False)
    assert await sessions.find(realm, cookie) is None


async def test_ended_session_is_gone_and_other_realm_cannot_end_it(db: None) -> None:
    realm = await create_realm("acme")
    other = await create_realm("other")
    user = await create_user(realm, username="alice")
    sessions = SessionManager(idle_seconds=60, max_seconds=600)
    cookie, _ = await sessions.create(realm, user)
    assert await sessions.end(other, cookie) is None
    ended = await sessions.end(realm, cookie)
    assert ended is not None and ended.username == "alice"
    assert await sessions.find(realm, cookie) is None
