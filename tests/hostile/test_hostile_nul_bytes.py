"""NUL characters in form fields, query parameters and path segments.

SQLite stores a NUL like any character; PostgreSQL refuses one in text ("invalid byte sequence
for encoding UTF8: 0x00") and tortoise raises ``OperationalError``, a 500. These pass on the
default SQLite run and fail on PostgreSQL, the production database:

    PORTCULLIS_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/pytest tests/hostile/test_hostile_nul_bytes.py
"""

from __future__ import annotations

import pytest
from quart.testing import QuartClient

from idp.models import AuditEvent
from tests.flows.steps import Browser, Page, read
from tests.hostile.conftest import assert_clear_refusal


async def _identifier_post(browser: Browser, identifier: str) -> Page:
    page = await browser.start()
    return await browser.post(page.actions["identifier-form"],
                              dict(page.forms["identifier-form"], identifier=identifier))


@pytest.mark.parametrize("identifier", ["ad\x00a", "ada\x00@example.com"])
async def test_identifier_with_a_nul_is_not_a_server_error(enrolled: Browser,
                                                           identifier: str) -> None:
    page = await _identifier_post(enrolled, identifier)

    assert page.status in (200, 400), page.status


async def test_rejects_transaction_id_with_a_nul(client: QuartClient, enrolled: Browser) -> None:
    page = await read(await client.get("/realms/acme/login/?txn=" + "a" * 30 + "%00"))

    assert_clear_refusal(page)


async def test_failed_sign_in_with_a_nul_in_the_identifier_is_audited(
    client: QuartClient, enrolled: Browser
) -> None:
    txn = (await enrolled.start()).forms["identifier-form"]["txn"]

    page = await enrolled.post("/realms/acme/login/passkey", {
        "txn": txn, "handle": "h" * 24, "credential": "{}", "identifier": "ada\x00"})

    assert_clear_refusal(page)
    assert await AuditEvent.filter(type="login.failed").count() == 1


async def test_refused_saml_request_to_a_realm_named_with_a_nul_is_audited(
    client: QuartClient, enrolled: Browser
) -> None:
    page = await read(await client.get("/realms/a%00b/protocol/saml?SAMLRequest=%%%"))

    assert_clear_refusal(page)
    assert await AuditEvent.filter(type="saml.request.refused").count() == 1
