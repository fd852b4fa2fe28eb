"""Hostile requests at ``/realms/{realm}/protocol/saml`` in a registered SP's name.

Most malformed messages are already refused cleanly (see tests/flows/test_saml_refusals.py);
these are the ones found to reach the application as a 500, or to be honoured when they
should not be.
"""

from __future__ import annotations

import pytest
from quart import Quart
from quart.testing import QuartClient

from idp.directory import create_user, get_realm
from idp.models import AuditEvent, SsoSession
from idp.settings import Settings
from protocols.saml.cli import register_preset
from tests.flows.steps import read
from tests.protocols.saml.flowkit import enrolled_browser
from tests.protocols.saml.spkit import JIRA, NS, acs_of, authn_request_xml, redirect_query, xml_of

ENDPOINT = "/realms/master/protocol/saml"
STATUS = "urn:oasis:names:tc:SAML:2.0:status:"


@pytest.fixture
async def jira(app: Quart) -> None:
    await register_preset(await get_realm("master"), name="jira", preset="jira", base_url=JIRA)


async def test_answers_version_mismatch_to_a_version_of_5000_digits(client: QuartClient,
                                                                   jira: None) -> None:
    """SAML Core §4.1.3.1: a Version this IdP does not speak is answered VersionMismatch.

    ``Version="10.0"`` gets that Response; ``Version="999…9.0"`` makes ``int()`` refuse the
    major version (Python's 4300-digit limit) and the request ends as a 500.
    """
    xml = authn_request_xml(version="9" * 5000 + ".0")

    page = await read(await client.get(f"{ENDPOINT}?{redirect_query(xml)}"))

    assert page.status == 200, page.status
    assert page.actions["autopost"] == acs_of(JIRA)
    code = xml_of(page.forms["autopost"]["SAMLResponse"]).find(
        "samlp:Status/samlp:StatusCode", NS)
    assert code is not None and code.get("Value") == STATUS + "VersionMismatch"
    assert await AuditEvent.filter(type="saml.request.refused").count() == 1


async def test_rejects_logout_request_issued_years_ago(client: QuartClient, settings: Settings,
                                                      jira: None) -> None:
    """An AuthnRequest older than an hour is refused (authn_request.MAX_REQUEST_AGE); a
    LogoutRequest of 2001 still ends the session of the browser that follows the link.

    The same unsigned request with a fresh IssueInstant, sent as a cross-site link, ends it
    too: for an SP registered as not signing (Atlassian Data Center), anyone who knows a
    person's username can sign them out with a link, which the logout page's confirmation
    step exists to prevent.
    """
    person = await create_user(await get_realm("master"), username="ada")
    await enrolled_browser(client, settings, person, keep_session=True)
    assert await SsoSession.all().count() == 1
    stale = (
        f'<samlp:LogoutRequest xmlns:samlp="{NS["samlp"]}" xmlns:saml="{NS["saml"]}" '
        f'ID="_stale" Version="2.0" IssueInstant="2001-01-01T00:00:00Z">'
        f"<saml:Issuer>{JIRA}</saml:Issuer><saml:NameID>ada</saml:NameID>"
        f"</samlp:LogoutRequest>"
    ).encode()

    page = await read(await client.get(f"{ENDPOINT}?{redirect_query(stale)}",
                                       headers={"Sec-Fetch-Site": "cross-site"}))

    assert page.status == 400, page.status
    assert await SsoSession.all().count() == 1
