"""Second round: SAML requests on the edge of the registration, and ForceAuthn shortcuts."""

from __future__ import annotations

import json

import pytest
from quart import Quart
from quart.testing import QuartClient
from saml2 import BINDING_HTTP_POST

from idp.directory import create_user, get_realm
from idp.enrolment import issue_enrolment_link
from idp.models import SsoSession, User
from idp.settings import Settings
from protocols.saml.cli import register_preset
from protocols.saml.registry import set_service_provider_enabled
from tests.flows.steps import ORIGIN, read
from tests.hostile.conftest import assert_clear_refusal
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
    credential,
    sp_metadata,
    JIRA,
    NS,
    acs_of,
    authn_request_xml,
    onelogin_response,
    redirect_location,
    redirect_query,
    service_provider,
    xml_of,
)

ENDPOINT = "/realms/master/protocol/saml"
STATUS = "urn:oasis:names:tc:SAML:2.0:status:"
CSP_NO_INLINE = "script-src 'self'"


@pytest.fixture
async def ada(app: Quart) -> User:
    realm = await get_realm("master")
    await register_preset(realm, name="jira", preset="jira", base_url=JIRA)
    return await create_user(realm, username="ada", email="ada@example.com")


def _status(page) -> str:  # type: ignore[no-untyped-def]
    code = xml_of(page.forms["autopost"]["SAMLResponse"]).find("samlp:Status/samlp:StatusCode",
                                                               NS)
    return code.get("Value") if code is not None else ""


async def test_force_authn_is_not_skipped_by_the_sso_cookie(client: QuartClient,
                                                           settings: Settings,
                                                           ada: User) -> None:
    browser = await enrolled_browser(client, settings, ada, keep_session=True)
    xml = authn_request_xml(attributes=' ForceAuthn="true"')

    txn = await login_transaction(browser, f"{ENDPOINT}?{redirect_query(xml)}")
    page = await browser.open(f"/realms/master/login/?txn={txn}")

    assert page.status == 200 and "identifier-form" in page.forms
    assert "autopost" not in page.forms


async def test_challenge_of_another_transaction_is_refused(client: QuartClient,
                                                          settings: Settings,
                                                          ada: User) -> None:
    """ForceAuthn: the options of txn 1, answered, posted with txn 2's id."""
    browser = await enrolled_browser(client, settings, ada, keep_session=True)
    xml = authn_request_xml(attributes=' ForceAuthn="true"')
    txn1 = await login_transaction(browser, f"{ENDPOINT}?{redirect_query(xml)}")
    txn2 = await login_transaction(browser, f"{ENDPOINT}?{redirect_query(xml)}")
    passkey_page = await browser.identify("ada", txn=txn1)
    answer = browser.authenticator.get(passkey_page.data["passkey-options"], origin=ORIGIN)
    fields = dict(passkey_page.forms["passkey-form"], credential=json.dumps(answer), txn=txn2)

    page = await browser.post(passkey_page.actions["passkey-form"], fields)

    assert "autopost" not in page.forms
    assert_clear_refusal(page)


async def test_challenge_for_ada_cannot_be_answered_with_bobs_passkey(
        client: QuartClient, settings: Settings, ada: User) -> None:
    bob = await create_user(await get_realm("master"), username="bob")
    bobs = await enrolled_browser(client, settings, bob)
    txn = await login_transaction(bobs, f"{ENDPOINT}?{redirect_query(authn_request_xml())}")
    passkey_page = await bobs.identify("ada", txn=txn)

    page = await bobs.use_passkey(passkey_page, ignore_allow_list=True)

    assert "autopost" not in page.forms
    assert_clear_refusal(page)
    assert await SsoSession.all().count() == 1  # Bob's, left from enrolling only


async def test_idp_initiated_for_a_disabled_sp_issues_nothing(client: QuartClient,
                                                             settings: Settings,
                                                             ada: User) -> None:
    await enrolled_browser(client, settings, ada, keep_session=True)
    await set_service_provider_enabled(await get_realm("master"), "jira", enabled=False)

    page = await read(await client.get(f"{ENDPOINT}/clients/jira"))

    assert_clear_refusal(page)
    assert "SAMLResponse" not in page.html


@pytest.mark.parametrize("variant", [
    acs_of(JIRA).upper().replace("HTTPS://", "https://"),
    acs_of(JIRA) + "/",
    acs_of(JIRA).replace("samlconsumer", "saml%63onsumer"),
    acs_of(JIRA).replace("jira.example.com", "JIRA.example.com"),
    acs_of(JIRA) + "?next=https://evil.example",
])
async def test_acs_url_close_to_the_registered_one_gets_no_response(
        client: QuartClient, settings: Settings, ada: User, variant: str) -> None:
    await enrolled_browser(client, settings, ada, keep_session=True)
    xml = authn_request_xml(acs_url=variant.replace("&", "&amp;"))

    page = await read(await client.get(f"{ENDPOINT}?{redirect_query(xml)}"))

    assert page.actions.get("autopost") in (None, acs_of(JIRA)), page.actions
    if page.actions.get("autopost"):
        assert _status(page) != STATUS + "Success"
    else:
        assert_clear_refusal(page)


async def test_acs_index_and_url_together_are_refused(client: QuartClient, settings: Settings,
                                                     ada: User) -> None:
    await enrolled_browser(client, settings, ada, keep_session=True)
    xml = authn_request_xml(acs_url=acs_of(JIRA), acs_index=0)

    page = await read(await client.get(f"{ENDPOINT}?{redirect_query(xml)}"))

    assert page.status != 500
    assert "autopost" not in page.forms or _status(page) != STATUS + "Success"


@pytest.mark.parametrize("attributes, expected", [
    (' ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact"',
     "UnsupportedBinding"),
])
async def test_artifact_binding_is_answered_with_an_error_status(
        client: QuartClient, settings: Settings, ada: User, attributes: str,
        expected: str) -> None:
    await enrolled_browser(client, settings, ada, keep_session=True)
    xml = authn_request_xml(attributes=attributes)

    page = await read(await client.get(f"{ENDPOINT}?{redirect_query(xml)}"))

    assert page.status == 200, page.html[:300]
    assert _status(page) == STATUS + "Requester"


async def test_persistent_name_id_policy_for_an_unspecified_sp_is_refused(
        client: QuartClient, settings: Settings, ada: User) -> None:
    await enrolled_browser(client, settings, ada, keep_session=True)
    policy = ('<samlp:NameIDPolicy Format='
              '"urn:oasis:names:tc:SAML:2.0:nameid-format:persistent" AllowCreate="true"/>')
    xml = authn_request_xml(children=policy)

    page = await read(await client.get(f"{ENDPOINT}?{redirect_query(xml)}"))

    assert page.status == 200
    assert _status(page) != STATUS + "Success"


async def test_unicode_relay_state_survives_strict_validation(client: QuartClient,
                                                             settings: Settings,
                                                             ada: User) -> None:
    browser = await enrolled_browser(client, settings, ada)
    metadata = await descriptor(client)
    jira = service_provider(JIRA, idp_metadata=metadata)
    relay = "/browse/ÄÖÜ-€-日本語-🔑?q=a&b=\"<x>\""
    request_id, location = redirect_location(jira, IDP, relay_state=relay)

    txn = await login_transaction(browser, location)
    url, fields = posted(await browser.sign_in("ada", txn=txn))

    assert url == acs_of(JIRA) and fields["RelayState"] == relay
    onelogin_response(fields["SAMLResponse"], sp_entity_id=JIRA, idp_entity_id=IDP,
                      sso_url=SSO_URL, idp_cert_base64=idp_certificate(metadata),
                      request_id=request_id)
    jira.parse_authn_request_response(fields["SAMLResponse"], BINDING_HTTP_POST,
                                      outstanding={request_id: "/"})


@pytest.mark.parametrize("suffix", [
    "&SAMLRequest=AAAA",
    "&Signature=AAAA",
    "&RelayState=a&RelayState=b",
])
async def test_duplicate_or_half_signature_parameters_are_refused(
        client: QuartClient, ada: User, suffix: str) -> None:
    query = redirect_query(authn_request_xml())

    page = await read(await client.get(f"{ENDPOINT}?{query}{suffix}"))

    assert_clear_refusal(page)
    assert "autopost" not in page.forms
    assert CSP_NO_INLINE in page.headers["Content-Security-Policy"]


async def test_logout_request_for_another_persons_session_index_ends_nothing(
        client: QuartClient, settings: Settings, app: Quart, ada: User) -> None:
    bob = await create_user(await get_realm("master"), username="bob")
    await enrolled_browser(app.test_client(), settings, bob, keep_session=True)
    bob_index = (await SsoSession.get()).id_hash
    await enrolled_browser(client, settings, ada, keep_session=True)
    logout = (
        f'<samlp:LogoutRequest xmlns:samlp="{NS["samlp"]}" xmlns:saml="{NS["saml"]}" '
        f'ID="_x1" Version="2.0" IssueInstant="'
        f'{__import__("datetime").datetime.now(__import__("datetime").timezone.utc):%Y-%m-%dT%H:%M:%SZ}">'
        f"<saml:Issuer>{JIRA}</saml:Issuer><saml:NameID>bob</saml:NameID>"
        f"<samlp:SessionIndex>{bob_index}</samlp:SessionIndex></samlp:LogoutRequest>"
    ).encode()

    page = await read(await client.get(f"{ENDPOINT}?{redirect_query(logout)}"))

    assert page.status != 500
    assert await SsoSession.filter(id_hash=bob_index).exists()
    assert await SsoSession.all().count() == 2


async def test_every_html_answer_carries_the_csp_and_no_inline_script(
        client: QuartClient, settings: Settings, ada: User) -> None:
    link = (await issue_enrolment_link(ada, settings=settings)).url
    paths = ["/realms/master/login/", "/realms/nope/login/", "/realms/master/account/",
             "/realms/master/login/logout", link, "/realms/master/login/enrol?token=x",
             f"{ENDPOINT}?SAMLRequest=%%%", f"{ENDPOINT}/clients/nope", "/nothing-here"]
    for path in paths:
        response = await client.get(path, follow_redirects=True)
        text = await response.get_data(as_text=True)
        if response.mimetype != "text/html":
            continue
        assert CSP_NO_INLINE in response.headers.get("Content-Security-Policy", ""), path
        assert "unsafe-inline" not in response.headers["Content-Security-Policy"], path
        page = await read(response)
        for script in page.scripts:
            assert script.get("src") or script.get("type") == "application/json", (path,
                                                                                   text[:200])
        assert "Traceback" not in text and "Error:" not in text, path


async def test_sha1_query_signature_of_a_signing_sp_is_refused(
        client: QuartClient, settings: Settings, ada: User, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A correct RSA-SHA1 signature by the registered key; SigAlg rsa-sha1."""
    import base64
    from urllib.parse import quote

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    from protocols.saml.cli import register_from_metadata

    app_url = "https://app.example.com"
    key = credential("app")
    sp = service_provider(app_url, idp_metadata=await descriptor(client), signing=key)
    (tmp_path / "app.xml").write_bytes(sp_metadata(sp, signing=key))
    await register_from_metadata(await get_realm("master"), name="app",
                                 metadata=str(tmp_path / "app.xml"))
    await enrolled_browser(client, settings, ada, keep_session=True)
    xml = authn_request_xml(issuer=app_url, destination=SSO_URL)
    octets = (redirect_query(xml) + "&SigAlg="
              + quote("http://www.w3.org/2000/09/xmldsig#rsa-sha1", safe=""))
    private = serialization.load_pem_private_key(key.key_pem, password=None)
    signature = private.sign(octets.encode(), padding.PKCS1v15(), hashes.SHA1())  # type: ignore[union-attr]
    query = octets + "&Signature=" + quote(base64.b64encode(signature).decode(), safe="")

    page = await read(await client.get(f"{ENDPOINT}?{query}"))

    assert page.status != 500
    assert "autopost" not in page.forms or _status(page) != STATUS + "Success"
    assert page.status != 302, "a SHA-1 signed request was accepted"
