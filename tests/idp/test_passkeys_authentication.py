"""The authentication ceremony (WebAuthn Level 3 §7.2), fed by a software authenticator."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from idp.directory import create_realm, create_user, set_user_enabled
from idp.errors import ExpiredError, PasskeyError, PossibleCloneError
from idp.models import AuditEvent, PasskeyCredential, Realm, User
from idp.passkeys import (
    PasskeyOptions,
    VerifiedPasskeySignIn,
    begin_discoverable_authentication,
    begin_identified_authentication,
    begin_registration,
    fake_credential_ids,
    finish_authentication,
    finish_registration,
)
from idp.settings import Settings
from idp.ttl import DatabaseTtlStore
from tests.support.authenticator import FLAG_AT, FLAG_UP, FLAG_UV, SoftAuthenticator

FLAG_BE = 0x08
FLAG_BS = 0x10

TXN = "t" * 43
FAKE_KEY = b"k" * 32


@pytest.fixture
async def realm(db: None) -> Realm:
    return await create_realm("acme")


@pytest.fixture
def store(db: None) -> DatabaseTtlStore:
    return DatabaseTtlStore()


@pytest.fixture
async def ada(realm: Realm) -> User:
    return await create_user(realm, username="ada", email="ada@example.com")


async def _enrol(store: DatabaseTtlStore, settings: Settings, realm: Realm, user: User,
                 authenticator: SoftAuthenticator) -> PasskeyCredential:
    options = await begin_registration(store, settings=settings, realm=realm, user=user,
                                       context="enrol")
    response = authenticator.create(options.options, origin=settings.origin)
    return await finish_registration(store, settings=settings, realm=realm, user=user,
                                     handle=options.handle, context="enrol", response=response)


async def _identified(store: DatabaseTtlStore, settings: Settings, realm: Realm,
                      identifier: str) -> PasskeyOptions:
    return await begin_identified_authentication(
        store, settings=settings, realm=realm, transaction_id=TXN, identifier=identifier,
        fake_credential_key=FAKE_KEY,
    )


async def _finish(store: DatabaseTtlStore, settings: Settings, realm: Realm,
                  options: PasskeyOptions, response: dict[str, Any]) -> VerifiedPasskeySignIn:
    return await finish_authentication(store, settings=settings, realm=realm,
                                       transaction_id=TXN, handle=options.handle,
                                       response=response)


def _ids(options: PasskeyOptions) -> list[str]:
    return [d["id"] for d in options.options["allowCredentials"]]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


async def test_identifier_first_lists_the_persons_credentials_and_signs_in(
    store: DatabaseTtlStore, settings: Settings, realm: Realm, ada: User
) -> None:
    authenticator = SoftAuthenticator()
    passkey = await _enrol(store, settings, realm, ada, authenticator)

    options = await _identified(store, settings, realm, "ada")
    assert options.options["userVerification"] == "required"
    assert options.options["rpId"] == "localhost"
    assert _ids(options) == [_b64url(bytes(passkey.credential_id))]

    signed_in = await _finish(store, settings, realm, options,
                              authenticator.get(options.options, origin=settings.origin))

    assert signed_in.user.id == ada.id
    assert signed_in.passkey_id == passkey.id
    assert signed_in.discoverable is False
    stored = await PasskeyCredential.get(id=passkey.id)
    assert stored.sign_count == 1
    assert stored.last_used_at is not None


async def test_identifier_may_be_the_email_address(
    store: DatabaseTtlStore, settings: Settings, realm: Realm, ada: User
) -> None:
    passkey = await _enrol(store, settings, realm, ada, SoftAuthenticator())

    options = await _identified(store, settings, realm, "  ADA@example.com ")

    assert _ids(options) == [_b64url(bytes(passkey.credential_id))]


async def test_discoverable_sign_in_finds_the_person_by_user_handle(
    store: DatabaseTtlStore, settings: Settings, realm: Realm, ada: User
) -> None:
    authenticator = SoftAuthenticator()
    await _enrol(store, settings, realm, ada, authenticator)

    options = await begin_discoverable_authentication(store, settings=settings, realm=realm,
                                                      transaction_id=TXN)
    assert options.options["allowCredentials"] == []
    response = authenticator.get(options.options, origin=settings.origin)
    signed_in = await _finish(store, settings, realm, options, response)

    assert signed_in.user.id == ada.id
    assert signed_in.discoverable is True


async def test_rejects_discoverable_sign_in_without_a_user_handle(
    store: DatabaseTtlStore, settings: Settings, realm: Realm, ada: User
) -> None:
    authenticator = SoftAuthenticator()
    await _enrol(store, settings, realm, ada, authenticator)
    options = await begin_discoverable_authentication(store, settings=settings, realm=realm,
                                                      transaction_id=TXN)
    response = authenticator.get(options.options, origin=settings.origin)
    del response["response"]["userHandle"]

    with pytest.raises(PasskeyError, match="user handle"):
        await _finish(store, settings, realm, options, response)


async def test_rejects_a_user_handle_of_someone_else(
    store: DatabaseTtlStore, settings: Settings, realm: Realm, ada: User
) -> None:
    authenticator = SoftAuthenticator()
    await _enrol(store, settings, realm, ada, authenticator)
    bob = await create_user(realm, username="bob")
    options = await begin_discoverable_authentication(store, settings=settings, realm=realm,
                                                      transaction_id=TXN)
    response = authenticator.get(options.options, origin=settings.origin)
    response["response"]["userHandle"] = _b64url(bytes(bob.user_handle))

    with pytest.raises(PasskeyError, match="user handle"):
        await _finish(store, settings, realm, options, response)


async def test_rejects_an_assertion_without_user_verification(
    store: DatabaseTtlStore, settings: Settings, realm: Realm, ada: User
) -> None:
    authenticator = SoftAuthenticator()
    await _enrol(store, settings, realm, ada, authenticator)
    options = await _identified(store, settings, realm, "ada")
    response = authenticator.get(options.options, origin=settings.origin, flags_override=FLAG_UP)

    with pytest.raises(PasskeyError, match="verif"):
        await _finish(store, settings, realm, options, response)


async def test_rejects_a_wrong_origin(
    store: DatabaseTtlStore, settings: Settings, realm: Realm, ada: User
) -> None:
    authenticator = SoftAuthenticator()
    await _enrol(store, settings, realm, ada, authenticator)
    options = await _identified(store, settings, realm, "ada")
    response = authenticator.get(options.options, origin="https://localhost:8080")

    with pytest.raises(PasskeyError, match="origin"):
        await _finish(store, settings, realm, options, response)


async def test_rejects_a_wrong_rp_id(
    store: DatabaseTtlStore, settings: Settings, realm: Realm, ada: User
) -> None:
    authenticator = SoftAuthenticator()
    await _enrol(store, settings, realm, ada, authenticator)
    options = await _identified(store, settings, realm, "ada")
    response = authenticator.get(options.options, origin=settings.origin,
                                 rp_id_override="example.com")

    with pytest.raises(PasskeyError, match="RP ID"):
        await _finish(store, settings, realm, options, response)


async def test_rejects_a_reused_challenge(
    store: DatabaseTtlStore, settings: Settings, realm: Realm, ada: User
) -> None:
    authenticator = SoftAuthenticator()
    await _enrol(store, settings, realm, ada, authenticator)
    options = await _identified(store, settings, realm, "ada")
    await _finish(store, settings, realm, options,
                  authenticator.get(options.options, origin=settings.origin))

    with pytest.raises(ExpiredError):
        await _finish(store, settings, realm, options,
                      authenticator.get(options.options, origin=settings.origin))


async def test_a_failed_attempt_uses_up_the_challenge(
    store: DatabaseTtlStore, settings: Settings, realm: Realm, ada: User
) -> None:
    authenticator = SoftAuthenticator()
    await _enrol(store, settings, realm, ada, authenticator)
    options = await _identified(store, settings, realm, "ada")
    with pytest.raises(PasskeyError):
        await _finish(store, settings, realm, options,
                      authenticator.get(options.options, origin="http://evil.example"))

    with pytest.raises(ExpiredError):
        await _finish(store, settings, realm, options,
                      authenticator.get(options.options, origin=settings.origin))


async def test_rejects_a_challenge_of_another_transaction(
    store: DatabaseTtlStore, settings: Settings, realm: Realm, ada: User
) -> None:
    authenticator = SoftAuthenticator()
    await _enrol(store, settings, realm, ada, authenticator)
    options = await _identified(store, settings, realm, "ada")

    with pytest.raises(PasskeyError, match="context"):
        await finish_authentication(
            store, settings=settings, realm=realm, transaction_id="u" * 43,
            handle=options.handle,
            response=authenticator.get(options.options, origin=settings.origin),
        )


async def test_rejects_the_passkey_of_someone_other_than_the_person_named(
    store: DatabaseTtlStore, settings: Settings, realm: Realm, ada: User
) -> None:
    await _enrol(store, settings, realm, ada, SoftAuthenticator())
    bob = await create_user(realm, username="bob")
    bobs_device = SoftAuthenticator()
    await _enrol(store, settings, realm, bob, bobs_device)
    options = await _identified(store, settings, realm, "ada")
    # Bob's authenticator answers as it would with an empty allowCredentials.
    response = bobs_device.get({**options.options, "allowCredentials": []},
                               origin=settings.origin)

    with pytest.raises(PasskeyError) as caught:
        await _finish(store, settings, realm, options, response)
    assert "another user" in str(caught.value)


async def test_unknown_identifier_gets_stable_plausible_credentials_and_the_same_failure(
    store: DatabaseTtlStore, settings: Settings, realm: Realm, ada: User
) -> None:
    device = SoftAuthenticator()
    await _enrol(store, settings, realm, ada, device)

    first = await _identified(store, settings, realm, "nobody")
    again = await _identified(store, settings, realm, "nobody")
    known = await _identified(store, settings, realm, "ada")

    assert _ids(first) == _ids(again)
    assert 1 <= len(_ids(first)) <= 3
    assert set(first.options) == set(known.options)
    assert len(_ids(first)[0]) == len(_ids(known)[0])
    expected = fake_credential_ids(FAKE_KEY, realm="acme", identifier="nobody")
    assert _ids(first) == [_b64url(i) for i in expected]

    stranger = await create_user(realm, username="stranger")
    strangers_device = SoftAuthenticator()
    await _enrol(store, settings, realm, stranger, strangers_device)
    failures = []
    for options in (first, known):
        response = strangers_device.get({**options.options, "allowCredentials": []},
                                        origin=settings.origin)
        with pytest.raises(PasskeyError) as caught:
            await _finish(store, settings, realm, options, response)
        failures.append((type(caught.value), caught.value.public_message,
                         caught.value.status_code))
    assert failures[0] == failures[1]


async def test_disabled_person_looks_like_an_unknown_one(
    store: DatabaseTtlStore, settings: Settings, realm: Realm, ada: User
) -> None:
    device = SoftAuthenticator()
    await _enrol(store, settings, realm, ada, device)
    await set_user_enabled(realm, "ada", enabled=False)

    options = await _identified(store, settings, realm, "ada")

    expected = fake_credential_ids(FAKE_KEY, realm="acme", identifier="ada")
    assert _ids(options) == [_b64url(i) for i in expected]
    discoverable = await begin_discoverable_authentication(store, settings=settings,
                                                           realm=realm, transaction_id=TXN)
    with pytest.raises(PasskeyError, match="disabled"):
        await _finish(store, settings, realm, discoverable,
                      device.get(discoverable.options, origin=settings.origin))


async def test_rejects_a_credential_registered_in_another_realm(
    store: DatabaseTtlStore, settings: Settings, realm: Realm, ada: User
) -> None:
    device = SoftAuthenticator()
    await _enrol(store, settings, realm, ada, device)
    other = await create_realm("other")
    options = await begin_discoverable_authentication(store, settings=settings, realm=other,
                                                      transaction_id=TXN)

    with pytest.raises(PasskeyError, match="not registered"):
        await _finish(store, settings, other, options,
                      device.get(options.options, origin=settings.origin))


async def test_accepts_a_counter_that_stays_zero(
    store: DatabaseTtlStore, settings: Settings, realm: Realm, ada: User
) -> None:
    synced = SoftAuthenticator(sign_count_mode="zero")
    passkey = await _enrol(store, settings, realm, ada, synced)

    for _ in range(2):
        options = await _identified(store, settings, realm, "ada")
        await _finish(store, settings, realm, options,
                      synced.get(options.options, origin=settings.origin))

    assert (await PasskeyCredential.get(id=passkey.id)).sign_count == 0


async def test_refuses_and_audits_a_counter_that_does_not_increase(
    store: DatabaseTtlStore, settings: Settings, realm: Realm, ada: User
) -> None:
    original = SoftAuthenticator()
    passkey = await _enrol(store, settings, realm, ada, original)
    twin = original.clone()
    options = await _identified(store, settings, realm, "ada")
    await _finish(store, settings, realm, options,
                  original.get(options.options, origin=settings.origin))

    options = await _identified(store, settings, realm, "ada")
    with pytest.raises(PossibleCloneError):
        await _finish(store, settings, realm, options,
                      twin.get(options.options, origin=settings.origin))

    event = await AuditEvent.get(type="passkey.possible_clone")
    assert (event.outcome, event.username, event.realm_name) == ("failure", "ada", "acme")
    assert event.details == {"passkey": passkey.id, "stored_count": 1, "received_count": 1}
    assert (await PasskeyCredential.get(id=passkey.id)).sign_count == 1


async def test_refuses_a_counter_that_falls_back_to_zero(
    store: DatabaseTtlStore, settings: Settings, realm: Realm, ada: User
) -> None:
    device = SoftAuthenticator()
    await _enrol(store, settings, realm, ada, device)
    options = await _identified(store, settings, realm, "ada")
    await _finish(store, settings, realm, options,
                  device.get(options.options, origin=settings.origin))

    options = await _identified(store, settings, realm, "ada")
    with pytest.raises(PossibleCloneError):
        await _finish(store, settings, realm, options,
                      device.get(options.options, origin=settings.origin, sign_count_override=0))


async def test_records_the_backup_state_reported_by_the_authenticator(
    store: DatabaseTtlStore, settings: Settings, realm: Realm, ada: User
) -> None:
    device = SoftAuthenticator()
    options = await begin_registration(store, settings=settings, realm=realm, user=ada,
                                       context="enrol")
    created = device.create(options.options, origin=settings.origin,
                            flags_override=FLAG_AT | FLAG_UP | FLAG_UV | FLAG_BE)
    passkey = await finish_registration(store, settings=settings, realm=realm, user=ada,
                                        handle=options.handle, context="enrol",
                                        response=created)
    assert (passkey.backup_eligible, passkey.backed_up) == (True, False)
    options = await _identified(store, settings, realm, "ada")
    response = device.get(options.options, origin=settings.origin,
                          flags_override=FLAG_UP | FLAG_UV | FLAG_BE | FLAG_BS)

    signed_in = await _finish(store, settings, realm, options, response)

    assert signed_in.backed_up is True
    assert (await PasskeyCredential.get(id=passkey.id)).backed_up is True


@pytest.mark.parametrize("flags", [FLAG_UP | FLAG_UV | FLAG_BE, FLAG_UP | FLAG_UV | FLAG_BS],
                         ids=["be-the-passkey-never-had", "bs-without-be"])
async def test_rejects_backup_flags_that_contradict_the_registration(
    store: DatabaseTtlStore, settings: Settings, realm: Realm, ada: User, flags: int
) -> None:
    """§6.1.3: BE is fixed at creation; §7.2: BS without BE is invalid."""
    device = SoftAuthenticator()
    passkey = await _enrol(store, settings, realm, ada, device)
    options = await _identified(store, settings, realm, "ada")
    response = device.get(options.options, origin=settings.origin, flags_override=flags)

    with pytest.raises(PasskeyError):
        await _finish(store, settings, realm, options, response)
    stored = await PasskeyCredential.get(id=passkey.id)
    assert (stored.backup_eligible, stored.backed_up, stored.sign_count) == (False, False, 0)
