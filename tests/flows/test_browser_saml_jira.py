"""Browser flow: enrol a passkey, then sign in to a Jira-like SAML SP through the real pages.

Headless Chromium with a DevTools virtual authenticator (Touch ID standing in) drives the
running server; the Jira stand-in is pysaml2's ``Saml2Client`` configured as Jira is, and the
browser's POST to Jira's ACS is intercepted and handed to it to validate.
"""

from __future__ import annotations

import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from saml2 import BINDING_HTTP_POST

from tests.protocols.saml.spkit import JIRA, acs_of, redirect_location, service_provider
from tests.support.browser import chromium_page, require_chromium
from tests.support.server import running_server

pytestmark = pytest.mark.browser

REALM = "master"


class JiraStandIn:
    """Answers the browser's POSTs to Jira's ACS and keeps what they carried."""

    def __init__(self) -> None:
        self.posts: list[dict[str, str]] = []

    def __call__(self, route: Any) -> None:
        fields = parse_qs(route.request.post_data or "", keep_blank_values=True)
        self.posts.append({name: values[0] for name, values in fields.items()})
        route.fulfill(status=200, content_type="text/html",
                      body="<!doctype html><title>Jira</title><h1>System dashboard</h1>")


# The virtual authenticator answers a conditional (autofill) request at once, as if the person
# picked the suggestion; pages that should wait for a click get no autofill.
NO_AUTOFILL = "PublicKeyCredential.isConditionalMediationAvailable = async () => false;"


def _sp_initiated_login(page: Any, sp: Any, idp_entity_id: str, jira: JiraStandIn,
                        start: Any) -> Any:
    """Start at the SP, run ``start`` on the login page, and return the SP's verdict."""
    request_id, location = redirect_location(sp, idp_entity_id, relay_state="/browse/PROJ-1")
    posts_before = len(jira.posts)
    page.goto(location)
    start(page)
    page.wait_for_url(acs_of(JIRA))
    assert len(jira.posts) == posts_before + 1
    post = jira.posts[-1]
    assert post["RelayState"] == "/browse/PROJ-1"
    return sp.parse_authn_request_response(
        post["SAMLResponse"], BINDING_HTTP_POST, outstanding={request_id: "/browse/PROJ-1"}
    )


def _identifier_first(page: Any) -> None:
    page.wait_for_selector("#identifier-form")
    page.fill("#identifier", "alice@example.com")
    page.click("#identifier-form button[type=submit]")
    # The passkey page starts the ceremony by itself; the authenticator answers.


def _autofill(page: Any) -> None:
    """Nothing to click: the identifier field's passkey suggestion is taken."""


def _discoverable(page: Any) -> None:
    page.wait_for_selector("#discoverable-button", state="visible")
    page.click("#discoverable-button")


def test_enrol_then_sign_in_to_jira_identifier_first_and_with_discoverable_passkey(
    tmp_path: Path,
) -> None:
    require_chromium()
    with running_server(tmp_path) as server:
        server.cli("saml", "add", "jira", "--preset", "jira", "--base-url", JIRA)
        output = server.cli("user", "add", "alice", "--email", "alice@example.com",
                            "--display-name", "Alice Liddell", "--group",
                            "jira-software-users", "--enrol")
        enrolment_link = output.strip().splitlines()[-1]
        descriptor = f"{server.base_url}/realms/{REALM}/protocol/saml/descriptor"
        with urllib.request.urlopen(descriptor) as answer:
            metadata = answer.read().decode()
        sp = service_provider(JIRA, idp_metadata=metadata)
        idp_entity_id = f"{server.base_url}/realms/{REALM}"

        with chromium_page() as (page, authenticator):
            jira = JiraStandIn()
            page.route(acs_of(JIRA), jira)

            # Enrolment: the link runs the registration ceremony and signs the person in.
            page.goto(enrolment_link)
            page.click("#create-button")
            page.wait_for_url(f"{server.base_url}/realms/{REALM}/account/**")
            assert len(authenticator.credentials()) == 1
            assert authenticator.credentials()[0]["isResidentCredential"]

            # The account page offers another passkey; this device already holds one, and
            # the server's excludeCredentials makes the browser say so.
            page.click("#add-button")
            page.wait_for_selector("#alert.alert-error")
            assert "already holds" in page.inner_text("#alert")
            assert len(authenticator.credentials()) == 1

            # Through autofill: the passkey offered in the identifier field.
            page.context.clear_cookies()
            verdict = _sp_initiated_login(page, sp, idp_entity_id, jira, _autofill)
            assert verdict.name_id.text == "alice"

            # A fresh browser session: identifier first, then the passkey.
            page.add_init_script(NO_AUTOFILL)
            page.context.clear_cookies()
            verdict = _sp_initiated_login(page, sp, idp_entity_id, jira, _identifier_first)
            assert verdict.name_id.text == "alice"
            attributes = verdict.get_identity()
            assert attributes["email"] == ["alice@example.com"]
            assert attributes["groups"] == ["jira-software-users"]

            # Again, with the discoverable passkey button and no identifier.
            page.context.clear_cookies()
            verdict = _sp_initiated_login(page, sp, idp_entity_id, jira, _discoverable)
            assert verdict.name_id.text == "alice"
