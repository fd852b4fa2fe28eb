"""IdP-initiated sign-in (SAML Profiles §4.1.5): a link at the IdP opens an application.

``/realms/{realm}/protocol/saml/clients/{name}`` answers no request: its Response has no
InResponseTo at all, which Jira and Confluence (pysaml2 with unsolicited responses allowed,
and python3-saml) accept. The RelayState of the link comes back byte for byte.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from quart import Quart
from quart.typing import TestClientProtocol as QuartClient
from saml2 import BINDING_HTTP_POST

from idp.directory import create_user, get_realm
from idp.models import User
from idp.settings import Settings
from protocols.saml.cli import register_preset
from tests.flows.steps import Browser
from tests.protocols.saml.flowkit import (
    IDP,
    SSO_URL,
    descriptor,
    enrolled_browser,
    idp_certificate,
    login_transaction,
    posted,
)
from tests.protocols.saml.spkit import (
    CONFLUENCE,
    JIRA,
    NS,
    acs_of,
    onelogin_response,
    redirect_location,
    service_provider,
    xml_of,
)


@pytest.fixture
async def ada(app: Quart) -> User:
    realm = await get_realm("master")
    await register_preset(realm, name="jira", preset="jira", base_url=JIRA)
    await register_preset(realm, name="wiki", preset="confluence", base_url=CONFLUENCE)
    return await create_user(realm, username="ada", email="ada@example.com")


@pytest.fixture
async def browser(client: QuartClient, settings: Settings, ada: User) -> Browser:
    return await enrolled_browser(client, settings, ada)


@pytest.fixture
async def idp_metadata(client: QuartClient) -> str:
    return await descriptor(client)


async def _sign_in_to_jira(browser: Browser, idp_metadata: str) -> None:
    jira = service_provider(JIRA, idp_metadata=idp_metadata)
    _, location = redirect_location(jira, IDP)
    posted(await browser.sign_in("ada", txn=await login_transaction(browser, location)))


async def test_idp_initiated_sign_in_has_no_in_response_to(browser: Browser,
                                                           idp_metadata: str) -> None:
    relay_state = "/browse/PROJ-7?focusedCommentId=1&page=a%20b"
    start = await browser.client.get(
        "/realms/master/protocol/saml/clients/jira?RelayState=%2Fbrowse%2FPROJ-7%3F"
        "focusedCommentId%3D1%26page%3Da%2520b")
    assert start.status_code == 302
    txn = parse_qs(urlsplit(start.headers["Location"]).query)["txn"][0]

    url, fields = posted(await browser.sign_in("ada", txn=txn))

    assert url == acs_of(JIRA)
    assert fields["RelayState"] == relay_state
    response = xml_of(fields["SAMLResponse"])
    assert "InResponseTo" not in response.attrib
    assert "InResponseTo" not in response.find(".//saml:SubjectConfirmationData", NS).attrib
    jira = service_provider(JIRA, idp_metadata=idp_metadata)
    parsed = jira.parse_authn_request_response(fields["SAMLResponse"], BINDING_HTTP_POST)
    assert parsed.name_id.text == "ada"
    onelogin_response(fields["SAMLResponse"], sp_entity_id=JIRA, idp_entity_id=IDP,
                      sso_url=SSO_URL, idp_cert_base64=idp_certificate(idp_metadata))


async def test_idp_initiated_sign_in_reuses_the_sso_session(browser: Browser,
                                                            idp_metadata: str) -> None:
    await _sign_in_to_jira(browser, idp_metadata)

    url, fields = posted(await browser.open("/realms/master/protocol/saml/clients/wiki"))

    assert url == acs_of(CONFLUENCE)
    assert "RelayState" not in fields
    confluence = service_provider(CONFLUENCE, idp_metadata=idp_metadata)
    parsed = confluence.parse_authn_request_response(fields["SAMLResponse"], BINDING_HTTP_POST)
    assert parsed.ava["username"] == ["ada"]
