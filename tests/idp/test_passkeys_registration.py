"""The registration ceremony (WebAuthn Level 3 §7.1), fed by a software authenticator."""

from __future__ import annotations

import base64
import dataclasses
import json
from typing import Any

import cbor2
import pytest

from idp.directory import create_realm, create_user
from idp.errors import ConflictError, ExpiredError, PasskeyError
from idp.models import PasskeyCredential, Realm, User
from idp.passkeys import (
    begin_registration,
    credential_id_hash,
    finish_registration,
    store_passkey,
    verify_registration,
)
from idp.settings import Settings
from idp.ttl import DatabaseTtlStore
from tests.support.authenticator import InvalidStateError, SoftAuthenticator

CONTEXT = "enrolment-context"


@pytest.fixture
async def realm(db: None) -> Realm:
    return await create_realm("acme", display_name="Acme Corp")


@pytest.fixture
async def user(realm: Realm) -> User:
    return await create_user(realm, username="ada", email="ada@example.com",
                             display_name="Ada Lovelace")


@pytest.fixture
def store(db: None) -> DatabaseTtlStore:
    return DatabaseTtlStore()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


async def _register(store: DatabaseTtlStore, settings: Settings, realm: Realm, user: User,
                    authenticator: SoftAuthenticator, **create: Any) -> PasskeyCredential:
    options = await begin_registration(store, settings=settings, realm=realm, user=user,
                                       context=CONTEXT)
    response = authenticator.create(options.options, origin=settings.origin, **create)
    return await finish_registration(store, settings=settings, realm=realm, user=user,
                                     handle=options.handle, context=CONTEXT, response=response)


async def test_options_require_user_verification_and_a_discoverable_credential(
    store: DatabaseTtlStore, settings: Settings, realm: Realm, user: User
) -> None:
    options = await begin_registration(store, settings=settings, realm=realm, user=user,
                                       context=CONTEXT)
    sent = json.loads(options.options_json)

    assert sent["rp"] == {"id": "localhost", "name": "Acme Corp"}
    assert sent["user"] == {"id": _b64url(user.user_handle), "name": "ada",
                            "displayName": "Ada Lovelace"}
    assert sent["authenticatorSelection"]["residentKey"] == "required"
    assert sent["authenticatorSelection"]["requireResidentKey"] is True
    assert sent["authenticatorSelection"]["userVerification"] == "required"
    assert sent["attestation"] == "none"
    assert sent["excludeCredentials"] == []
    assert {p["alg"] for p in sent["pubKeyCredParams"]} >= {-7, -8, -257}


@pytest.mark.parametrize("algorithm", ["ES256", "EdDSA", "RS256"])
async def test_registers_a_passkey_of_each_algorithm(
    store: DatabaseTtlStore, settings: Settings, realm: Realm, user: User, algorithm: str
) -> None:
    authenticator = SoftAuthenticator(algorithm=algorithm)  # type: ignore[arg-type]

    passkey = await _register(store, settings, realm, user, authenticator)

    held = authenticator.credentials[0]
    stored = await PasskeyCredential.get(id=passkey.id)
    assert bytes(stored.credential_id) == held.credential_id
    assert stored.credential_id_hash == credential_id_hash(held.credential_id)
    assert stored.user_id == user.id  # type: ignore[attr-defined]
    assert stored.sign_count == 0
    assert stored.transports == ["internal"]
    assert stored.name == "Passkey"


async def test_every_credential_of_a_person_carries_the_same_user_handle(
    store: DatabaseTtlStore, settings: Settings, realm: Realm, user: User
) -> None:
    phone, laptop = SoftAuthenticator(), SoftAuthenticator()

    await _register(store, settings, realm, user, phone)
    await _register(store, settings, realm, user, laptop)

    assert phone.credentials[0].user_handle == bytes(user.user_handle)
    assert laptop.credentials[0].user_handle == bytes(user.user_handle)


async def test_excludes_credentials_the_person_already_has(
    store: DatabaseTtlStore, settings: Settings, realm: Realm, user: User
) -> None:
    authenticator = SoftAuthenticator()
    await _register(store, settings, realm, user, authenticator)

    options = await begin_registration(store, settings=settings, realm=realm, user=user,
                                       context=CONTEXT)

    excluded = options.options["excludeCredentials"]
    assert [d["id"] for d in excluded] == [_b64url(authenticator.credentials[0].credential_id)]
    with pytest.raises(InvalidStateError):
        authenticator.create(options.options, origin=settings.origin)


async def test_rejects_registration_without_user_verification(
    store: DatabaseTtlStore, settings: Settings, realm: Realm, user: User
) -> None:
    with pytest.raises(PasskeyError, match="verif"):
        await _register(store, settings, realm, user, SoftAuthenticator(user_verification=False))
    assert await PasskeyCredential.all().count() == 0


async def test_rejects_a_wrong_origin(
    store: DatabaseTtlStore, settings: Settings, realm: Realm, user: User
) -> None:
    options = await begin_registration(store, settings=settings, realm=realm, user=user,
                                       context=CONTEXT)
    response = SoftAuthenticator().create(options.options, origin="http://localhost:8081")

    with pytest.raises(PasskeyError, match="origin"):
        await finish_registration(store, settings=settings, realm=realm, user=user,
                                  handle=options.handle, context=CONTEXT, response=response)


async def test_rejects_a_wrong_rp_id(
    store: DatabaseTtlStore, settings: Settings, realm: Realm, user: User
) -> None:
    with pytest.raises(PasskeyError, match="RP ID"):
        await _register(store, settings, realm, user, SoftAuthenticator(),
                        rp_id_override="evil.example")


async def test_rejects_a_reused_challenge(
    store: DatabaseTtlStore, settings: Settings, realm: Realm, user: User
) -> None:
    options = await begin_registration(store, settings=settings, realm=realm, user=user,
                                       context=CONTEXT)
    authenticator = SoftAuthenticator()
    first = authenticator.create(options.options, origin=settings.origin)
    await finish_registration(store, settings=settings, realm=realm, user=user,
                              handle=options.handle, context=CONTEXT, response=first)
    second = SoftAuthenticator().create(options.options, origin=settings.origin)

    with pytest.raises(ExpiredError):
        await finish_registration(store, settings=settings, realm=realm, user=user,
                                  handle=options.handle, context=CONTEXT, response=second)


async def test_rejects_a_challenge_issued_for_another_context(
    store: DatabaseTtlStore, settings: Settings, realm: Realm, user: User
) -> None:
    options = await begin_registration(store, settings=settings, realm=realm, user=user,
                                       context=CONTEXT)
    response = SoftAuthenticator().create(options.options, origin=settings.origin)

    with pytest.raises(PasskeyError, match="context"):
        await finish_registration(store, settings=settings, realm=realm, user=user,
                                  handle=options.handle, context="other", response=response)


async def test_rejects_a_challenge_issued_for_another_person(
    store: DatabaseTtlStore, settings: Settings, realm: Realm, user: User
) -> None:
    mallory = await create_user(realm, username="mallory")
    options = await begin_registration(store, settings=settings, realm=realm, user=user,
                                       context=CONTEXT)
    response = SoftAuthenticator().create(options.options, origin=settings.origin)

    with pytest.raises(PasskeyError, match="another user"):
        await finish_registration(store, settings=settings, realm=realm, user=mallory,
                                  handle=options.handle, context=CONTEXT, response=response)


async def test_rejects_an_expired_challenge(
    store: DatabaseTtlStore, settings: Settings, realm: Realm, user: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import time

    import idp.ttl

    options = await begin_registration(store, settings=settings, realm=realm, user=user,
                                       context=CONTEXT)
    response = SoftAuthenticator().create(options.options, origin=settings.origin)
    later = time.time() + settings.challenge_ttl_seconds + 1
    monkeypatch.setattr(idp.ttl, "time", type("Clock", (), {"time": staticmethod(lambda: later)}))

    with pytest.raises(ExpiredError):
        await finish_registration(store, settings=settings, realm=realm, user=user,
                                  handle=options.handle, context=CONTEXT, response=response)


async def test_accepts_packed_self_attestation(
    store: DatabaseTtlStore, settings: Settings, realm: Realm, user: User
) -> None:
    passkey = await _register(store, settings, realm, user, SoftAuthenticator(),
                              attestation="packed")
    assert passkey.id


async def test_accepts_an_attestation_format_it_does_not_know(
    store: DatabaseTtlStore, settings: Settings, realm: Realm, user: User
) -> None:
    options = await begin_registration(store, settings=settings, realm=realm, user=user,
                                       context=CONTEXT)
    response = SoftAuthenticator().create(options.options, origin=settings.origin)
    raw = base64.urlsafe_b64decode(response["response"]["attestationObject"] + "==")
    attestation = cbor2.loads(raw)
    attestation.update(fmt="made-up-format", attStmt={"sig": b"unverifiable"})
    response["response"]["attestationObject"] = _b64url(cbor2.dumps(attestation))

    passkey = await finish_registration(store, settings=settings, realm=realm, user=user,
                                        handle=options.handle, context=CONTEXT,
                                        response=response)
    assert passkey.id


async def test_never_registers_a_credential_id_twice(
    store: DatabaseTtlStore, settings: Settings, realm: Realm, user: User
) -> None:
    options = await begin_registration(store, settings=settings, realm=realm, user=user,
                                       context=CONTEXT)
    response = SoftAuthenticator().create(options.options, origin=settings.origin)
    verified = await verify_registration(store, settings=settings, realm=realm, user=user,
                                         handle=options.handle, context=CONTEXT,
                                         response=response)
    await store_passkey(verified)
    mallory = await create_user(realm, username="mallory")

    with pytest.raises(ConflictError):
        await store_passkey(dataclasses.replace(verified, user_id=mallory.id))
    assert await PasskeyCredential.all().count() == 1


async def test_translates_a_malformed_response_into_a_passkey_error(
    store: DatabaseTtlStore, settings: Settings, realm: Realm, user: User
) -> None:
    options = await begin_registration(store, settings=settings, realm=realm, user=user,
                                       context=CONTEXT)

    with pytest.raises(PasskeyError) as caught:
        await finish_registration(store, settings=settings, realm=realm, user=user,
                                  handle=options.handle, context=CONTEXT, response="{not json")
    assert caught.value.__cause__ is not None
