"""Hostile RegistrationResponseJSON posted to ``login/enrol`` with a valid enrolment link.

Whoever holds an enrolment link (or is signed in to the account page) can post a forged
registration response: right challenge, origin and RP ID hash, and an attested credential
public key of their choosing. With attestation ``none`` nothing proves the key is a key, so
the server must check it can use it before storing it. WebAuthn Level 3 §7.1 steps 20-26:
https://www.w3.org/TR/webauthn-3/#sctn-registering-a-new-credential
"""

from __future__ import annotations

import json
from typing import Any

import cbor2
import pytest
from quart.testing import QuartClient

from idp.enrolment import issue_enrolment_link
from idp.models import EnrolmentToken, PasskeyCredential, User
from idp.settings import Settings
from tests.flows.steps import ORIGIN, Browser, Page
from tests.hostile.conftest import assert_clear_refusal, b64url, unb64url

# rpIdHash 32, flags 1, signCount 4, aaguid 16, credentialIdLength 2, credentialId 32
_COSE_KEY_OFFSET = 32 + 1 + 4 + 16 + 2 + 32


async def _enrol_page(client: QuartClient, settings: Settings,
                      user: User) -> tuple[Browser, Page]:
    browser = Browser(client)
    page = await browser.open((await issue_enrolment_link(user, settings=settings)).url)
    assert page.status == 200, page.html
    return browser, page


def _with_public_key(response: dict[str, Any], cose_key: bytes) -> dict[str, Any]:
    """The same response with the attested credential public key replaced."""
    attestation = cbor2.loads(unb64url(response["response"]["attestationObject"]))
    attestation["authData"] = attestation["authData"][:_COSE_KEY_OFFSET] + cose_key
    response["response"]["attestationObject"] = b64url(cbor2.dumps(attestation))
    return response


async def _nothing_stored() -> None:
    assert await PasskeyCredential.all().count() == 0
    assert await EnrolmentToken.filter(used_at__isnull=False).count() == 0


@pytest.mark.parametrize("cose_key", [
    cbor2.dumps({3: -7}),                        # no kty
    cbor2.dumps({1: 2, 3: -7}),                  # EC2 without crv, x, y
    cbor2.dumps(5),                              # not a COSE_Key map at all
], ids=["no-kty", "ec2-without-coordinates", "not-a-map"])
async def test_rejects_registration_with_a_malformed_cose_public_key(
    client: QuartClient, settings: Settings, ada: User, cose_key: bytes
) -> None:
    browser, page = await _enrol_page(client, settings, ada)
    response = browser.authenticator.create(page.data["registration-options"], origin=ORIGIN)

    refused = await browser.post(page.actions["enrol-form"], dict(
        page.forms["enrol-form"], credential=json.dumps(_with_public_key(response, cose_key))))

    assert_clear_refusal(refused)
    await _nothing_stored()


async def test_rejects_registration_of_an_ec2_public_key_not_on_its_curve(
    client: QuartClient, settings: Settings, ada: User
) -> None:
    """Stored, such a key makes every later sign-in with it a 500 (ValueError in cryptography)."""
    browser, page = await _enrol_page(client, settings, ada)
    response = browser.authenticator.create(page.data["registration-options"], origin=ORIGIN)
    off_curve = cbor2.dumps({1: 2, 3: -7, -1: 1, -2: b"\x01" * 32, -3: b"\x02" * 32})

    refused = await browser.post(page.actions["enrol-form"], dict(
        page.forms["enrol-form"], credential=json.dumps(_with_public_key(response, off_curve))))

    assert refused.status == 400, refused.status
    await _nothing_stored()


async def test_rejects_enrolment_credential_json_with_a_5000_digit_number(
    client: QuartClient, settings: Settings, ada: User
) -> None:
    browser, page = await _enrol_page(client, settings, ada)

    refused = await browser.post(page.actions["enrol-form"], dict(
        page.forms["enrol-form"], credential='{"id": 1' + "0" * 5000 + "}"))

    assert_clear_refusal(refused)
    await _nothing_stored()
