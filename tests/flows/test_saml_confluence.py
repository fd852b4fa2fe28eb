"""Confluence under a context path, single sign-on across applications, signed requests.

Confluence Data Center at ``https://wiki.example.com/confluence`` is registered by preset and
sends its AuthnRequest with the HTTP-POST binding. A second application registers from its
own SAML metadata as signing its requests (AuthnRequestsSigned="true"): its requests are
accepted only with a signature that verifies with its certificate, over the exact query
octets for HTTP-Redirect and enveloped for HTTP-POST.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from quart import Quart
from quart.typing import TestClientProtocol as QuartClient
from quart.wrappers import Response
from saml2 import BINDING_HTTP_POST
from saml2.client import Saml2Client

from idp.directory import create_user, get_realm
from idp.models import AuditEvent, SsoSession, User
from idp.settings import Settings
from protocols.saml.cli import register_from_metadata, register_preset
from tests.flows.steps import Browser, Page, path_of, read
from tests.protocols.saml.flowkit import (
    IDP,
    SSO_URL,
    descriptor,
    enrolled_browser,
    idp_certificate,
    login_transaction,
    posted,
    session_index,
)
from tests.protocols.saml.spkit import (
    CONFLUENCE,
    JIRA,
    NS,
    Credential,
    acs_of,
    authn_request_xml,
    credential,
    deflate,
    onelogin_response,
    post_binding_fields,
    redirect_location,
    service_provider,
    sp_metadata,
    xml_of,
)

APP = "https://app.example.com"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"


@pytest.fixture
async def grace(app: Quart) -> User:
    realm = await get_realm("master")
    await register_preset(realm, name="wiki", preset="confluence", base_url=CONFLUENCE + "/")
    await register_preset(realm, name="jira", preset="jira", base_url=JIRA)
    return await create_user(realm, username="grace", email="grace@example.com",
                             display_name="Grace Hopper", groups=["confluence-users"])


@pytest.fixture
async def browser(client: QuartClient, settings: Settings, grace: User) -> Browser:
    return await enrolled_browser(client, settings, grace)


@pytest.fixture
async def idp_metadata(client: QuartClient) -> str:
    return await descriptor(client)


@pytest.fixture
def app_key() -> Credential:
    return credential("app")


@pytest.fixture
async def signing_app(grace: User, idp_metadata: str, app_key: Credential,
                      tmp_path: Path) -> Saml2Client:
    """An SP that signs its requests, registered from its metadata file."""
    sp = service_provider(APP, idp_metadata=idp_metadata, signing=app_key)
    metadata_file = tmp_path / "app-metadata.xml"
    metadata_file.write_bytes(sp_metadata(sp, signing=app_key))
    registered = await register_from_metadata(await get_realm("master"), name="app",
                                              metadata=str(metadata_file))
    assert registered.authn_requests_signed and registered.signing_certificates
    return sp


async def _to_login(response: Response) -> str:
    assert response.status_code == 302, await response.get_data(as_text=True)
    return parse_qs(urlsplit(response.headers["Location"]).query)["txn"][0]


def posted_fields(page: Page) -> dict[str, str]:
    return posted(page)[1]


async def test_confluence_under_a_context_path_signs_in_with_the_post_binding(
    browser: Browser, idp_metadata: str
) -> None:
    confluence = service_provider(CONFLUENCE, idp_metadata=idp_metadata)
    request_id, info = confluence.prepare_for_authenticate(
        entityid=IDP, relay_state="/confluence/display/ENG/Home", binding=BINDING_HTTP_POST)
    sent = await browser.client.post("/realms/master/protocol/saml",
                                     form=post_binding_fields(info))

    page = await browser.sign_in("grace", txn=await _to_login(sent))

    fields = posted_fields(page)
    assert page.actions["autopost"] == acs_of(CONFLUENCE)
    assert acs_of(CONFLUENCE) == "https://wiki.example.com/confluence/plugins/servlet/samlconsumer"
    assert fields["RelayState"] == "/confluence/display/ENG/Home"
    parsed = confluence.parse_authn_request_response(fields["SAMLResponse"], BINDING_HTTP_POST,
                                                     outstanding={request_id: "/"})
    assert parsed.name_id.text == "grace"
    assert parsed.ava["groups"] == ["confluence-users"]
    response = xml_of(fields["SAMLResponse"])
    assert response.findtext(".//saml:Audience", namespaces=NS) == CONFLUENCE
    onelogin_response(fields["SAMLResponse"], sp_entity_id=CONFLUENCE, idp_entity_id=IDP,
                      sso_url=SSO_URL, idp_cert_base64=idp_certificate(idp_metadata),
                      request_id=request_id)


async def test_a_second_application_signs_in_from_the_sso_session(browser: Browser,
                                                                 idp_metadata: str) -> None:
    jira = service_provider(JIRA, idp_metadata=idp_metadata)
    _, to_jira = redirect_location(jira, IDP)
    posted(await browser.sign_in("grace", txn=await login_transaction(browser, to_jira)))
    confluence = service_provider(CONFLUENCE, idp_metadata=idp_metadata)
    request_id, location = redirect_location(confluence, IDP, relay_state="/display/ENG")

    # No login page this time: the Response comes straight back.
    url, fields = posted(await browser.open(location))

    assert url == acs_of(CONFLUENCE)
    assert fields["RelayState"] == "/display/ENG"
    parsed = confluence.parse_authn_request_response(fields["SAMLResponse"], BINDING_HTTP_POST,
                                                     outstanding={request_id: "/"})
    assert parsed.name_id.text == "grace"
    statement = xml_of(fields["SAMLResponse"]).find(".//saml:AuthnStatement", NS)
    assert statement.get("SessionIndex") == session_index(browser)
    session = await SsoSession.get(id_hash=session_index(browser))
    assert session.clients == [JIRA, CONFLUENCE]
    reused = await AuditEvent.get(type="login.succeeded", client=CONFLUENCE)
    assert reused.details["method"] == "sso_session" and reused.username == "grace"


async def test_a_signed_redirect_request_is_accepted(browser: Browser,
                                                     signing_app: Saml2Client) -> None:
    request_id, location = redirect_location(signing_app, IDP, relay_state="/home",
                                             sign=True, sigalg=RSA_SHA256)
    assert "&Signature=" in location

    txn = await _to_login(await browser.client.get(path_of(location)))
    fields = posted_fields(await browser.sign_in("grace", txn=txn))

    parsed = signing_app.parse_authn_request_response(fields["SAMLResponse"], BINDING_HTTP_POST,
                                                      outstanding={request_id: "/"})
    assert parsed.name_id.text == "grace"


async def test_the_query_signature_covers_the_octets_as_sent(browser: Browser,
                                                             signing_app: Saml2Client,
                                                             app_key: Credential) -> None:
    # Lower-case percent escapes: re-encoding the parameters would give other octets, and a
    # signature checked over those would fail.
    xml = authn_request_xml(issuer=APP, destination=SSO_URL)
    encoded = quote(base64.b64encode(deflate(xml)).decode(), safe="")
    lowered = re.sub(r"%[0-9A-F]{2}", lambda escape: escape.group(0).lower(), encoded)
    assert lowered != encoded
    sig_alg = quote(RSA_SHA256, safe="").lower()
    octets = f"SAMLRequest={lowered}&RelayState=%2fpath&SigAlg={sig_alg}".encode()
    signature = base64.b64encode(app_key.sign(octets)).decode()

    response = await browser.client.get(f"/realms/master/protocol/saml?{octets.decode()}"
                                        f"&Signature={quote(signature, safe='')}")

    assert response.status_code == 302


async def test_an_unsigned_request_from_a_signing_application_is_refused(
    browser: Browser, signing_app: Saml2Client
) -> None:
    _, location = redirect_location(signing_app, IDP, sign=False)

    page = await read(await browser.client.get(path_of(location)))

    assert page.status == 403 and "autopost" not in page.forms
    event = await AuditEvent.get(type="saml.request.refused")
    assert (event.client, event.details["error"]) == (APP, "RequestDeniedError")


@pytest.mark.parametrize("tamper", ["relay_state", "signature", "sigalg"])
async def test_a_tampered_redirect_signature_is_refused(browser: Browser,
                                                        signing_app: Saml2Client,
                                                        tamper: str) -> None:
    _, location = redirect_location(signing_app, IDP, relay_state="/home", sign=True,
                                    sigalg=RSA_SHA256)
    if tamper == "relay_state":
        location = location.replace("RelayState=%2Fhome", "RelayState=%2Fhomf")
    elif tamper == "signature":
        head, _, value = location.partition("&Signature=")
        location = head + "&Signature=" + ("A" if value[0] != "A" else "B") + value[1:]
    else:
        location = location.replace("rsa-sha256", "rsa-sha512")

    page = await read(await browser.client.get(path_of(location)))

    assert page.status == 403, page.html
    assert "autopost" not in page.forms


async def test_a_signed_post_request_is_accepted_and_a_forged_one_refused(
    browser: Browser, signing_app: Saml2Client, idp_metadata: str
) -> None:
    request_id, info = signing_app.prepare_for_authenticate(
        entityid=IDP, binding=BINDING_HTTP_POST, sign=True, sigalg=RSA_SHA256)
    accepted = await browser.client.post("/realms/master/protocol/saml",
                                         form=post_binding_fields(info))
    assert accepted.status_code == 302

    impostor = service_provider(APP, idp_metadata=idp_metadata, signing=credential("eve"))
    _, forged = impostor.prepare_for_authenticate(entityid=IDP, binding=BINDING_HTTP_POST,
                                                  sign=True, sigalg=RSA_SHA256)
    refused = await read(await browser.client.post("/realms/master/protocol/saml",
                                                   form=post_binding_fields(forged)))
    assert refused.status == 403
