"""What the SAML endpoint does with requests it must not honour.

Two outcomes only: the themed error page (nothing is posted anywhere) when the sender or the
place to answer cannot be trusted, or, once the SP and a registered ACS are known, a signed
Response with the SAML status saying why, posted to that ACS. Every refusal is an audit event
``saml.request.refused`` carrying the error id the person sees.
"""

from __future__ import annotations

import base64
import datetime as dt
from urllib.parse import quote

import pytest
from quart import Quart
from quart.typing import TestClientProtocol as QuartClient

from idp.directory import get_realm
from idp.models import AuditEvent
from protocols.saml.cli import register_preset
from protocols.saml.registry import set_service_provider_enabled
from tests.flows.steps import Page, read
from tests.protocols.saml.spkit import (
    JIRA,
    NS,
    acs_of,
    authn_request_xml,
    deflate,
    post_form,
    redirect_query,
    xml_of,
)

ENDPOINT = "/realms/master/protocol/saml"
SSO_URL = "http://localhost:8080" + ENDPOINT
STATUS = "urn:oasis:names:tc:SAML:2.0:status:"


@pytest.fixture
async def jira(app: Quart) -> None:
    await register_preset(await get_realm("master"), name="jira", preset="jira", base_url=JIRA)


async def _get(client: QuartClient, query: str) -> Page:
    return await read(await client.get(f"{ENDPOINT}?{query}"))


async def _refused_with_page(page: Page, status: int = 400) -> AuditEvent:
    assert page.status == status, page.html
    assert "Something went wrong" in page.html
    assert "autopost" not in page.forms and "SAMLResponse" not in page.html
    event = await AuditEvent.get(type="saml.request.refused")
    assert event.outcome == "failure" and event.error_id
    assert event.error_id in page.html
    return event


def _encoded(data: bytes) -> str:
    return "SAMLRequest=" + quote(base64.b64encode(deflate(data)).decode(), safe="")


XXE = (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
       + authn_request_xml().replace(b"<saml:Issuer>", b"<saml:Issuer>&x;"))
BILLION_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
                  b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><r>&b;</r>')


@pytest.mark.parametrize(("query", "error"), [
    ("SAMLRequest=%%%not-base64%%%", "MalformedMessageError"),
    ("SAMLRequest=" + quote(base64.b64encode(b"not deflate data").decode()),
     "MalformedMessageError"),
    (_encoded(XXE), "MalformedMessageError"),
    (_encoded(BILLION_LAUGHS), "MalformedMessageError"),
    (_encoded(b"<samlp:AuthnRequest>unclosed"), "MalformedMessageError"),
    (_encoded(b"<a>" + b" " * (65 * 1024) + b"</a>"), "MalformedMessageError"),
    (_encoded(authn_request_xml().replace(b"<saml:Issuer>" + JIRA.encode(), b"<saml:Issuer>")),
     "MalformedMessageError"),
    ("", "MalformedMessageError"),
    (redirect_query(authn_request_xml()) + "&" + redirect_query(authn_request_xml()),
     "MalformedMessageError"),
    (redirect_query(authn_request_xml()).replace("SAMLRequest", "SAMLResponse"),
     "MalformedMessageError"),
    (redirect_query(authn_request_xml(issuer="https://unknown.example.com")),
     "UnknownServiceProviderError"),
    (redirect_query(authn_request_xml(acs_url="https://evil.example.com/acs")),
     "AcsMismatchError"),
    (redirect_query(authn_request_xml(acs_url=acs_of(JIRA) + "/")), "AcsMismatchError"),
    (redirect_query(authn_request_xml(acs_index=7)), "AcsMismatchError"),
    (redirect_query(authn_request_xml(acs_index=0, acs_url=acs_of(JIRA))), "AcsMismatchError"),
    (redirect_query(authn_request_xml(), relay_state="r" * 1025), "RelayStateTooLongError"),
])
async def test_untrusted_requests_get_the_error_page(client: QuartClient, jira: None, query: str,
                                                     error: str) -> None:
    page = await _get(client, query)

    status = 404 if error == "UnknownServiceProviderError" else 400
    event = await _refused_with_page(page, status)
    assert event.details["error"] == error
    assert "evil.example.com" not in page.html


async def test_a_deflate_bomb_is_stopped_at_the_bound(client: QuartClient, jira: None) -> None:
    bomb = deflate(b"<a>" + b"\x20" * (50 * 1024 * 1024))
    assert len(bomb) < 100 * 1024

    page = await _get(client, "SAMLRequest=" + quote(base64.b64encode(bomb).decode()))

    event = await _refused_with_page(page)
    assert event.details["error"] == "MalformedMessageError"


async def test_malformed_post_binding_gets_the_error_page(client: QuartClient, jira: None) -> None:
    page = await read(await client.post(ENDPOINT, form={"SAMLRequest": "***"}))

    await _refused_with_page(page)


async def test_a_disabled_application_gets_the_error_page(client: QuartClient, jira: None) -> None:
    await set_service_provider_enabled(await get_realm("master"), "jira", enabled=False)

    page = await _get(client, redirect_query(authn_request_xml()))

    event = await _refused_with_page(page, 403)
    assert event.details["error"] == "RequestDeniedError"


async def test_relay_state_of_1_kib_is_accepted(client: QuartClient, jira: None) -> None:
    response = await client.get(
        f"{ENDPOINT}?{redirect_query(authn_request_xml(), relay_state='r' * 1024)}")

    assert response.status_code == 302


def _statuses(page: Page) -> list[str]:
    assert page.status == 200, page.html
    assert page.actions["autopost"] == acs_of(JIRA)
    response = xml_of(page.forms["autopost"]["SAMLResponse"])
    assert response.find("saml:Assertion", NS) is None
    assert response.find("ds:Signature", NS) is not None
    assert response.get("Destination") == acs_of(JIRA)
    return [code.get("Value").removeprefix(STATUS)
            for code in response.iterfind(".//samlp:StatusCode", NS)]


OLD = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=2)


@pytest.mark.parametrize(("xml", "codes"), [
    (authn_request_xml(version="3.0"), ["VersionMismatch", "RequestVersionTooHigh"]),
    (authn_request_xml(version="1.1"), ["VersionMismatch", "RequestVersionTooLow"]),
    (authn_request_xml(destination="https://other-idp.example.com/sso"), ["Requester"]),
    (authn_request_xml(issue_instant=OLD), ["Requester"]),
    (authn_request_xml(attributes=' ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:'
                                  'HTTP-Artifact"'), ["Requester", "UnsupportedBinding"]),
    (authn_request_xml(children='<samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:1.1:'
                                'nameid-format:emailAddress"/>'),
     ["Requester", "InvalidNameIDPolicy"]),
    (authn_request_xml(children='<samlp:RequestedAuthnContext Comparison="exact"><saml:Authn'
                                'ContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:Password'
                                'ProtectedTransport</saml:AuthnContextClassRef>'
                                '</samlp:RequestedAuthnContext>'),
     ["Responder", "NoAuthnContext"]),
    (authn_request_xml(children='<saml:Subject><saml:NameID>eve</saml:NameID></saml:Subject>'),
     ["Requester", "RequestUnsupported"]),
])
async def test_trusted_requests_that_cannot_be_met_get_a_status(
    client: QuartClient, jira: None, xml: bytes, codes: list[str]
) -> None:
    page = await _get(client, redirect_query(xml, relay_state="keep me"))

    assert _statuses(page) == codes
    assert page.forms["autopost"]["RelayState"] == "keep me"
    response = xml_of(page.forms["autopost"]["SAMLResponse"])
    assert response.get("InResponseTo") == "_4f0c1a2b3c"
    event = await AuditEvent.get(type="saml.request.refused")
    assert (event.outcome, event.client) == ("failure", JIRA)


async def test_a_post_binding_request_is_refused_the_same_way(client: QuartClient,
                                                             jira: None) -> None:
    xml = authn_request_xml(version="3.0")

    page = await read(await client.post(ENDPOINT, form=post_form(xml)))

    assert _statuses(page) == ["VersionMismatch", "RequestVersionTooHigh"]


async def test_an_unknown_login_transaction_gets_the_error_page(client: QuartClient,
                                                               jira: None) -> None:
    page = await read(await client.get("/realms/master/login/?txn=" + "A" * 43))

    assert page.status == 400
    assert "expired" in page.html


@pytest.mark.parametrize(("path", "status", "error"), [
    ("/realms/master/protocol/saml/clients/nothing", 404, "UnknownServiceProviderError"),
    ("/realms/master/protocol/saml/clients/jira?RelayState=" + "r" * 1025, 400,
     "RelayStateTooLongError"),
])
async def test_idp_initiated_refusals_get_the_error_page(client: QuartClient, jira: None,
                                                         path: str, status: int,
                                                         error: str) -> None:
    page = await read(await client.get(path))

    event = await _refused_with_page(page, status)
    assert event.details["error"] == error


async def test_a_refusal_for_a_realm_name_no_realm_can_have_is_recorded_without_it(
    client: QuartClient, jira: None
) -> None:
    page = await read(await client.get(
        f"/realms/a%00b/protocol/saml?{redirect_query(authn_request_xml())}"))

    event = await _refused_with_page(page, 404)
    assert event.realm_name == "" and event.details["error"] == "NotFoundError"
