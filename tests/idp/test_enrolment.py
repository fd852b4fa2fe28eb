"""Enrolment links: issued once, stored hashed, redeemed once, expiring."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest

from idp.directory import create_realm, create_user, set_user_enabled
from idp.enrolment import (
    InvalidEnrolmentLinkError,
    UsedEnrolmentLinkError,
    check_enrolment_token,
    complete_enrolment,
    issue_enrolment_link,
    redeem_enrolment_token,
)
from idp.errors import ConflictError
from idp.models import EnrolmentToken, PasskeyCredential, Realm, User
from idp.passkeys import begin_registration, store_passkey, verify_registration
from idp.settings import Settings
from idp.ttl import DatabaseTtlStore
from tests.support.authenticator import SoftAuthenticator


@pytest.fixture
async def realm(db: None) -> Realm:
    return await create_realm("acme")


@pytest.fixture
async def ada(realm: Realm) -> User:
    return await create_user(realm, username="ada")


async def test_issues_a_link_whose_token_is_stored_only_as_its_hash(
    settings: Settings, realm: Realm, ada: User
) -> None:
    link = await issue_enrolment_link(ada, settings=settings)

    parts = urlsplit(link.url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
        "http://localhost:8080/realms/acme/login/enrol"
    )
    assert parse_qs(parts.query) == {"token": [link.token]}
    record = await EnrolmentToken.get(user=ada)
    assert record.token_hash == hashlib.sha256(link.token.encode()).hexdigest()
    assert link.token not in repr(await EnrolmentToken.all().values())
    assert record.purpose == "enrolment"
    lifetime = record.expires_at - record.created_at
    assert abs(lifetime - dt.timedelta(hours=24)) < dt.timedelta(seconds=5)


async def test_a_valid_link_is_checked_without_being_used(
    settings: Settings, realm: Realm, ada: User
) -> None:
    link = await issue_enrolment_link(ada, settings=settings, purpose="temporary_access")

    grant = await check_enrolment_token(realm, link.token)
    again = await check_enrolment_token(realm, link.token)

    assert grant.user.id == ada.id and grant.purpose == "temporary_access"
    assert again.token_id == grant.token_id
    assert (await EnrolmentToken.get(user=ada)).used_at is None


@pytest.mark.parametrize("token", ["", "short", "A" * 43, "A" * 42 + "!", "A" * 44])
async def test_refuses_a_tampered_or_unknown_token(
    settings: Settings, realm: Realm, ada: User, token: str
) -> None:
    await issue_enrolment_link(ada, settings=settings)

    with pytest.raises(InvalidEnrolmentLinkError) as caught:
        await check_enrolment_token(realm, token)
    assert caught.value.status_code == 400


async def test_refuses_a_link_of_another_realm(
    settings: Settings, realm: Realm, ada: User
) -> None:
    link = await issue_enrolment_link(ada, settings=settings)
    other = await create_realm("other")

    with pytest.raises(InvalidEnrolmentLinkError):
        await check_enrolment_token(other, link.token)


async def test_refuses_an_expired_link(settings: Settings, realm: Realm, ada: User) -> None:
    link = await issue_enrolment_link(ada, settings=settings, ttl_seconds=60)
    await EnrolmentToken.filter(user=ada).update(
        expires_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)
    )

    with pytest.raises(UsedEnrolmentLinkError) as caught:
        await redeem_enrolment_token(realm, link.token)
    assert caught.value.status_code == 410
    assert (await EnrolmentToken.get(user=ada)).used_at is None


async def test_a_link_is_redeemed_once(settings: Settings, realm: Realm, ada: User) -> None:
    link = await issue_enrolment_link(ada, settings=settings)

    await redeem_enrolment_token(realm, link.token)

    with pytest.raises(UsedEnrolmentLinkError):
        await redeem_enrolment_token(realm, link.token)
    with pytest.raises(UsedEnrolmentLinkError):
        await check_enrolment_token(realm, link.token)


async def test_two_concurrent_redemptions_cannot_both_win(
    settings: Settings, realm: Realm, ada: User
) -> None:
    link = await issue_enrolment_link(ada, settings=settings)

    results = await asyncio.gather(
        *(redeem_enrolment_token(realm, link.token) for _ in range(5)), return_exceptions=True
    )

    winners = [r for r in results if not isinstance(r, BaseException)]
    assert len(winners) == 1
    assert all(isinstance(r, UsedEnrolmentLinkError) for r in results if r not in winners)


async def test_a_new_link_replaces_the_older_one(
    settings: Settings, realm: Realm, ada: User
) -> None:
    old = await issue_enrolment_link(ada, settings=settings)
    new = await issue_enrolment_link(ada, settings=settings, purpose="temporary_access")

    with pytest.raises(UsedEnrolmentLinkError):
        await check_enrolment_token(realm, old.token)
    assert (await check_enrolment_token(realm, new.token)).purpose == "temporary_access"


async def test_refuses_the_link_of_a_disabled_person(
    settings: Settings, realm: Realm, ada: User
) -> None:
    link = await issue_enrolment_link(ada, settings=settings)
    await set_user_enabled(realm, "ada", enabled=False)

    with pytest.raises(InvalidEnrolmentLinkError):
        await check_enrolment_token(realm, link.token)


async def test_completing_enrolment_stores_the_passkey_and_uses_the_link(
    settings: Settings, realm: Realm, ada: User
) -> None:
    store = DatabaseTtlStore()
    link = await issue_enrolment_link(ada, settings=settings)
    grant = await check_enrolment_token(realm, link.token)
    options = await begin_registration(store, settings=settings, realm=realm, user=ada,
                                       context=grant.token_hash)
    response = SoftAuthenticator().create(options.options, origin=settings.origin)
    verified = await verify_registration(store, settings=settings, realm=realm, user=ada,
                                         handle=options.handle, context=grant.token_hash,
                                         response=response)

    _, passkey = await complete_enrolment(realm, link.token, verified, name="Laptop")

    assert passkey.name == "Laptop"
    assert (await EnrolmentToken.get(user=ada)).used_at is not None


async def test_a_failed_enrolment_leaves_the_link_unused(
    settings: Settings, realm: Realm, ada: User
) -> None:
    store = DatabaseTtlStore()
    link = await issue_enrolment_link(ada, settings=settings)
    grant = await check_enrolment_token(realm, link.token)
    options = await begin_registration(store, settings=settings, realm=realm, user=ada,
                                       context=grant.token_hash)
    response = SoftAuthenticator().create(options.options, origin=settings.origin)
    verified = await verify_registration(store, settings=settings, realm=realm, user=ada,
                                         handle=options.handle, context=grant.token_hash,
                                         response=response)
    await store_passkey(verified)

    with pytest.raises(ConflictError):
        await complete_enrolment(realm, link.token, verified)

    assert (await EnrolmentToken.get(user=ada)).used_at is None
    assert await PasskeyCredential.filter(user=ada).count() == 1
