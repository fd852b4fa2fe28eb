"""Hostile AuthenticationResponseJSON posted to ``login/passkey`` and its options fetch.

A client that is not a browser can post any text as the credential. py_webauthn translates
most malformed input into its own ``WebAuthnException``, which Portcullis turns into the
identifier page with one sentence; the cases below escape that translation and reach the
application as a 500 instead. WebAuthn Level 3 §7.2:
https://www.w3.org/TR/webauthn-3/#sctn-verifying-assertion
"""

from __future__ import annotations

import json

from quart.testing import QuartClient

from idp.models import AuditEvent, PasskeyCredential
from tests.flows.steps import ORIGIN, Browser
from tests.hostile.conftest import assert_clear_refusal, passkey_post
from tests.support.authenticator import FLAG_UP, FLAG_UV

FLAG_BE = 0x08
FLAG_BS = 0x10


async def test_rejects_user_handle_that_is_not_base64url(enrolled: Browser) -> None:
    page = await enrolled.identify("ada")
    response = enrolled.authenticator.get(page.data["passkey-options"], origin=ORIGIN)
    response["response"]["userHandle"] = "a"  # one base64 character can encode no byte

    refused = await passkey_post(enrolled, page, json.dumps(response))

    assert_clear_refusal(refused)
    assert await AuditEvent.filter(type="login.failed").count() == 1


async def test_rejects_credential_json_with_a_5000_digit_number(enrolled: Browser) -> None:
    page = await enrolled.identify("ada")

    refused = await passkey_post(enrolled, page, '{"id": 1' + "0" * 5000 + "}")

    assert_clear_refusal(refused)


async def test_rejects_credential_json_nested_60000_deep(enrolled: Browser) -> None:
    page = await enrolled.identify("ada")

    refused = await passkey_post(enrolled, page, "[" * 60000)

    assert_clear_refusal(refused)


async def test_rejects_passkey_options_body_nested_200000_deep(
    client: QuartClient, enrolled: Browser
) -> None:
    page = await enrolled.start()
    assert page.forms["discoverable-form"]["txn"]

    answer = await client.post("/realms/acme/login/passkey/options", data="[" * 200000,
                               headers={"Content-Type": "application/json"})

    assert answer.status_code == 400, answer.status_code


async def test_rejects_assertion_claiming_backup_eligibility_the_passkey_never_had(
    enrolled: Browser,
) -> None:
    """WebAuthn Level 3 §6.1.3 and §7.2: BE is fixed at creation; BS without BE is invalid.

    The passkey was registered without BE; an assertion with BE and BS set must not be
    accepted, and the stored backup state must not change.
    """
    assert await PasskeyCredential.all().values_list("backup_eligible", "backed_up") == [
        (False, False)
    ]
    page = await enrolled.identify("ada")

    done = await enrolled.use_passkey(page, flags_override=FLAG_UP | FLAG_UV | FLAG_BE | FLAG_BS)

    assert done.status == 400, done.status
    assert await PasskeyCredential.all().values_list("backup_eligible", "backed_up") == [
        (False, False)
    ]

