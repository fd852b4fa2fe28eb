"""SP-initiated single logout: the LogoutRequest ends the SSO session, answered signed.

The application signs its requests and registered a SingleLogoutService (HTTP-POST) in its
metadata; Jira (preset) neither signs nor has one. pysaml2's ``Saml2Client`` makes the
LogoutRequests and checks the signed LogoutResponses.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from quart import Quart
from quart.typing import TestClientProtocol as QuartClient
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.saml import NAMEID_FORMAT_UNSPECIFIED, NameID

from idp.directory import create_user, get_realm
from idp.models import AuditEvent, SsoSession, User
from idp.sessions import SESSION_COOKIE
from idp.settings import Settings
from protocols.saml.cli import register_from_metadata, register_preset
from tests.flows.steps import Browser, path_of, read
from tests.protocols.saml.flowkit import (
    IDP,
    SSO_URL,
    descriptor,
    enrolled_browser,
    session_index,
)
from tests.protocols.saml.spkit import (
    JIRA,
    Credential,
    credential,
    post_binding_fields,
    service_provider,
    sp_metadata,
)

APP = "https://app.example.com"
SLO = APP + "/saml/logout"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"


@pytest.fixture
async def grace(app: Quart) -> User:
    realm = await get_realm("master")
    await register_preset(realm, name="jira", preset="jira", base_url=JIRA)
    return await create_user(realm, username="grace", email="grace@example.com")


@pytest.fixture
async def signed_in(client: QuartClient, settings: Settings, grace: User) -> Browser:
    """Grace's browser with a live SSO session (from enrolling her passkey)."""
    return await enrolled_browser(client, settings, grace, keep_session=True)


@pytest.fixture
async def app_sp(client: QuartClient, grace: User,
                 tmp_path: Path) -> tuple[Saml2Client, Credential]:
    key = credential("app")
    sp = service_provider(APP, idp_metadata=await descriptor(client), signing=key, slo_url=SLO)
    (tmp_path / "app.xml").write_bytes(sp_metadata(sp, signing=key))
    await register_from_metadata(await get_realm("master"), name="app",
                                 metadata=str(tmp_path / "app.xml"))
    return sp, key


def _logout_request(sp: Saml2Client, *, name: str, index: str | None, sign: bool) -> str:
    _, request = sp.create_logout_request(
        SSO_URL, IDP, name_id=NameID(format=NAMEID_FORMAT_UNSPECIFIED, text=name),
        session_indexes=[index] if index else None, sign=sign, sign_alg=RSA_SHA256)
    return str(request)


async def test_a_signed_redirect_logout_ends_the_session_and_answers_signed(
    signed_in: Browser, app_sp: tuple[Saml2Client, Credential]
) -> None:
    sp, _ = app_sp
    index = session_index(signed_in)
    info = sp.apply_binding(BINDING_HTTP_REDIRECT,
                            _logout_request(sp, name="grace", index=index, sign=False),
                            SSO_URL, relay_state="bye", sign=True, sigalg=RSA_SHA256)

    response = await signed_in.client.get(path_of(dict(info["headers"])["Location"]))
    page = await read(response)

    assert page.status == 200, page.html
    assert page.actions["autopost"] == SLO
    assert page.forms["autopost"]["RelayState"] == "bye"
    cleared = [c for c in response.headers.get_all("Set-Cookie") if SESSION_COOKIE in c]
    assert cleared and "Expires=Thu, 01 Jan 1970" in cleared[0]
    assert not await SsoSession.filter(id_hash=index).exists()
    answer = sp.parse_logout_request_response(page.forms["autopost"]["SAMLResponse"],
                                              BINDING_HTTP_POST)
    assert answer.response.status.status_code.value == (
        "urn:oasis:names:tc:SAML:2.0:status:Success")
    assert answer.response.signature is not None
    assert await AuditEvent.filter(type="saml.logout", client=APP).count() == 1


async def test_a_signed_post_logout_without_the_cookie_ends_the_session_by_index(
    signed_in: Browser, app_sp: tuple[Saml2Client, Credential]
) -> None:
    sp, _ = app_sp
    index = session_index(signed_in)
    signed_in.client.cookie_jar.clear()  # a cross-site POST carries no SameSite=Lax cookie
    info = sp.apply_binding(BINDING_HTTP_POST,
                            _logout_request(sp, name="grace", index=index, sign=True),
                            SSO_URL, relay_state="")

    page = await read(await signed_in.client.post("/realms/master/protocol/saml",
                                                  form=post_binding_fields(info)))

    assert page.status == 200, page.html
    assert not await SsoSession.filter(id_hash=index).exists()


async def test_an_unsigned_logout_from_a_signing_application_is_refused(
    signed_in: Browser, app_sp: tuple[Saml2Client, Credential]
) -> None:
    sp, _ = app_sp
    index = session_index(signed_in)
    info = sp.apply_binding(BINDING_HTTP_REDIRECT,
                            _logout_request(sp, name="grace", index=index, sign=False),
                            SSO_URL, sign=False)

    page = await read(await signed_in.client.get(path_of(dict(info["headers"])["Location"])))

    assert page.status == 403
    assert await SsoSession.filter(id_hash=index).exists()


async def test_an_unsigned_logout_ends_only_the_browsers_own_session_of_that_person(
    signed_in: Browser,
) -> None:
    jira = service_provider(JIRA, idp_metadata=await descriptor(signed_in.client))
    index = session_index(signed_in)

    someone_else = jira.apply_binding(
        BINDING_HTTP_REDIRECT, _logout_request(jira, name="mallory", index=index, sign=False),
        SSO_URL)
    await signed_in.client.get(path_of(dict(someone_else["headers"])["Location"]))
    assert await SsoSession.filter(id_hash=index).exists()

    hers = jira.apply_binding(
        BINDING_HTTP_REDIRECT, _logout_request(jira, name="grace", index=index, sign=False),
        SSO_URL)
    response = await signed_in.client.get(path_of(dict(hers["headers"])["Location"]))

    # Jira registered no SingleLogoutService: the person lands on the logout page.
    assert response.status_code == 302
    assert response.headers["Location"] == "/realms/master/login/logout"
    assert not await SsoSession.filter(id_hash=index).exists()


async def test_an_unsigned_logout_without_session_index_asks_the_person_first(
    signed_in: Browser,
) -> None:
    """A username is all a cross-site link needs to name; the SessionIndex is not known."""
    jira = service_provider(JIRA, idp_metadata=await descriptor(signed_in.client))
    index = session_index(signed_in)

    hers = jira.apply_binding(
        BINDING_HTTP_REDIRECT, _logout_request(jira, name="grace", index=None, sign=False),
        SSO_URL)
    response = await signed_in.client.get(path_of(dict(hers["headers"])["Location"]),
                                          headers={"Sec-Fetch-Site": "cross-site"})

    assert response.status_code == 302
    assert response.headers["Location"] == "/realms/master/login/logout"
    assert await SsoSession.filter(id_hash=index).exists()
    page = await read(await signed_in.client.get("/realms/master/login/logout"))
    assert "/realms/master/login/logout" in page.actions.values()  # the confirmation form
