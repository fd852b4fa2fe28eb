"""Signing in to Jira over SAML, SP-initiated, with a passkey.

Jira is played by pysaml2's ``Saml2Client`` configured as Jira Data Center is (see
``tests/protocols/saml/spkit.py``), knowing the IdP only from the descriptor endpoint. The
person signs in with a real passkey ceremony through the login pages; every Response is
validated by the SP library, by python3-saml in strict mode, and property by property here.
"""

from __future__ import annotations

import pytest
from quart import Quart
from quart.typing import TestClientProtocol as QuartClient
from saml2 import BINDING_HTTP_POST
from saml2.response import StatusNoPassive

from idp.directory import create_user, get_realm
from idp.models import AuditEvent, User
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
    session_index,
)
from tests.protocols.saml.spkit import (
    JIRA,
    NS,
    acs_of,
    onelogin_response,
    redirect_location,
    service_provider,
    xml_of,
)

ATLASSIAN_RELAY_STATE = (
    "https://jira.example.com/secure/Dashboard.jspa?selectPageId=10100&filter=project%20%3D"
    "%20PROJ%20AND%20status%20%3D%20%22In%20Progress%22%20ORDER%20BY%20updated%20DESC"
    "&from=" + "x" * 300
)


@pytest.fixture
async def ada(app: Quart) -> User:
    realm = await get_realm("master")
    await register_preset(realm, name="jira", preset="jira", base_url=JIRA)
    return await create_user(realm, username="ada", email="ada@example.com",
                             display_name="Ada Lovelace",
                             groups=["jira-software-users", "developers"])


@pytest.fixture
async def browser(client: QuartClient, settings: Settings, ada: User) -> Browser:
    """Ada's browser with one enrolled passkey, signed out."""
    return await enrolled_browser(client, settings, ada)


@pytest.fixture
async def idp_metadata(client: QuartClient) -> str:
    return await descriptor(client)


async def test_jira_sp_initiated_sign_in_with_a_passkey(browser: Browser,
                                                         idp_metadata: str) -> None:
    jira = service_provider(JIRA, idp_metadata=idp_metadata)
    request_id, location = redirect_location(jira, IDP, relay_state=ATLASSIAN_RELAY_STATE)

    txn = await login_transaction(browser, location)
    url, fields = posted(await browser.sign_in("ada", txn=txn))

    assert url == acs_of(JIRA)
    assert fields["RelayState"] == ATLASSIAN_RELAY_STATE
    parsed = jira.parse_authn_request_response(fields["SAMLResponse"], BINDING_HTTP_POST,
                                               outstanding={request_id: "/"})
    assert parsed.name_id.text == "ada"
    assert parsed.in_response_to == request_id
    assert parsed.ava["username"] == ["ada"]
    assert parsed.ava["displayName"] == ["Ada Lovelace"]
    assert parsed.ava["email"] == ["ada@example.com"]
    assert sorted(parsed.ava["groups"]) == ["developers", "jira-software-users"]

    onelogin_response(fields["SAMLResponse"], sp_entity_id=JIRA, idp_entity_id=IDP,
                      sso_url=SSO_URL, idp_cert_base64=idp_certificate(idp_metadata),
                      request_id=request_id)
    signed_in = await AuditEvent.get(type="login.succeeded", client=JIRA)
    assert signed_in.details == {"protocol": "saml", "method": "passkey"}


async def test_the_response_carries_every_property_jira_relies_on(browser: Browser,
                                                                  idp_metadata: str) -> None:
    jira = service_provider(JIRA, idp_metadata=idp_metadata)
    request_id, location = redirect_location(jira, IDP)
    txn = await login_transaction(browser, location)
    _, fields = posted(await browser.sign_in("ada", txn=txn))

    response = xml_of(fields["SAMLResponse"])
    assertion = response.find("saml:Assertion", NS)
    confirmation = assertion.find(".//saml:SubjectConfirmationData", NS)
    assert response.get("Destination") == acs_of(JIRA)
    assert confirmation.get("Recipient") == acs_of(JIRA)
    assert response.get("InResponseTo") == confirmation.get("InResponseTo") == request_id
    assert assertion.findtext(".//saml:Audience", namespaces=NS) == JIRA
    assert response.findtext("saml:Issuer", namespaces=NS) == IDP
    assert assertion.findtext("saml:Issuer", namespaces=NS) == IDP
    assert "RelayState" not in fields

    for signed in (response, assertion):
        signature = signed.find("ds:Signature", NS)
        assert signature is not None
        reference = signature.find(".//ds:Reference", NS)
        assert reference.get("URI") == "#" + signed.get("ID")
        method = signature.find(".//ds:SignatureMethod", NS).get("Algorithm")
        digest = signature.find(".//ds:DigestMethod", NS).get("Algorithm")
        assert method == "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
        assert digest == "http://www.w3.org/2001/04/xmlenc#sha256"

    statements = assertion.findall("saml:AuthnStatement", NS)
    assert len(statements) == 1
    assert statements[0].get("SessionIndex") == session_index(browser)
    assert statements[0].findtext(".//saml:AuthnContextClassRef", namespaces=NS) == (
        "https://refeds.org/profile/mfa")

    attributes = assertion.findall(".//saml:Attribute", NS)
    assert [a.get("Name") for a in attributes] == ["username", "email", "displayName", "groups"]
    assert {a.get("NameFormat") for a in attributes} == {
        "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified"}
    groups = [a for a in attributes if a.get("Name") == "groups"][0]
    assert sorted(v.text for v in groups.findall("saml:AttributeValue", NS)) == [
        "developers", "jira-software-users"]


async def _sign_in_to_jira(browser: Browser, idp_metadata: str) -> None:
    jira = service_provider(JIRA, idp_metadata=idp_metadata)
    _, location = redirect_location(jira, IDP)
    posted(await browser.sign_in("ada", txn=await login_transaction(browser, location)))


async def test_force_authn_runs_a_new_ceremony_despite_the_session(browser: Browser,
                                                                   idp_metadata: str) -> None:
    await _sign_in_to_jira(browser, idp_metadata)
    jira = service_provider(JIRA, idp_metadata=idp_metadata)
    request_id, location = redirect_location(jira, IDP, force_authn="true")

    txn = await login_transaction(browser, location)
    identifier_page = await browser.start(txn)
    assert "identifier-form" in identifier_page.forms
    url, fields = posted(await browser.sign_in("ada", txn=txn))

    parsed = jira.parse_authn_request_response(fields["SAMLResponse"], BINDING_HTTP_POST,
                                               outstanding={request_id: "/"})
    assert parsed.in_response_to == request_id
    assert await AuditEvent.filter(type="login.succeeded", client=JIRA).count() == 2


async def test_is_passive_without_a_session_answers_no_passive(browser: Browser,
                                                               idp_metadata: str) -> None:
    jira = service_provider(JIRA, idp_metadata=idp_metadata)
    request_id, location = redirect_location(jira, IDP, is_passive="true", relay_state="rs")

    url, fields = posted(await browser.open(location))

    assert url == acs_of(JIRA)
    assert fields["RelayState"] == "rs"
    response = xml_of(fields["SAMLResponse"])
    codes = [c.get("Value") for c in response.iterfind(".//samlp:StatusCode", NS)]
    assert codes == ["urn:oasis:names:tc:SAML:2.0:status:Responder",
                     "urn:oasis:names:tc:SAML:2.0:status:NoPassive"]
    assert response.get("InResponseTo") == request_id
    assert response.find("saml:Assertion", NS) is None
    assert response.find("ds:Signature", NS) is not None
    with pytest.raises(StatusNoPassive):
        jira.parse_authn_request_response(fields["SAMLResponse"], BINDING_HTTP_POST,
                                          outstanding={request_id: "/"})
    refused = await AuditEvent.get(type="saml.request.refused")
    assert (refused.outcome, refused.client) == ("failure", JIRA)


async def test_is_passive_with_a_session_signs_in_silently(browser: Browser,
                                                           idp_metadata: str) -> None:
    await _sign_in_to_jira(browser, idp_metadata)
    jira = service_provider(JIRA, idp_metadata=idp_metadata)
    request_id, location = redirect_location(jira, IDP, is_passive="true")

    _, fields = posted(await browser.open(location))

    parsed = jira.parse_authn_request_response(fields["SAMLResponse"], BINDING_HTTP_POST,
                                               outstanding={request_id: "/"})
    assert parsed.name_id.text == "ada"


async def test_every_response_and_assertion_has_a_fresh_id(browser: Browser,
                                                           idp_metadata: str) -> None:
    await _sign_in_to_jira(browser, idp_metadata)
    jira = service_provider(JIRA, idp_metadata=idp_metadata)
    seen: set[str] = set()
    for _ in range(3):
        _, location = redirect_location(jira, IDP)
        _, fields = posted(await browser.open(location))
        response = xml_of(fields["SAMLResponse"])
        seen |= {response.get("ID"), response.find("saml:Assertion", NS).get("ID")}
    assert len(seen) == 6


async def test_groups_is_sent_with_no_value_for_a_person_in_no_group(
    client: QuartClient, settings: Settings, ada: User, idp_metadata: str
) -> None:
    bob = await create_user(await get_realm("master"), username="bob")
    person = await enrolled_browser(client, settings, bob, keep_session=True)
    jira = service_provider(JIRA, idp_metadata=idp_metadata)
    request_id, location = redirect_location(jira, IDP)

    _, fields = posted(await person.open(location))

    attributes = {a.get("Name"): a for a in
                  xml_of(fields["SAMLResponse"]).iterfind(".//saml:Attribute", NS)}
    assert list(attributes) == ["username", "email", "displayName", "groups"]
    assert attributes["groups"].findall("saml:AttributeValue", NS) == []
    assert attributes["email"].findall("saml:AttributeValue", NS) == []
    parsed = jira.parse_authn_request_response(fields["SAMLResponse"], BINDING_HTTP_POST,
                                               outstanding={request_id: "/"})
    assert parsed.ava["displayName"] == ["bob"]
