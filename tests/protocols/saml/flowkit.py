"""The browser's side of the SAML flow tests: the IdP's metadata, login hops, posted forms.

Used by ``tests/flows/test_saml_*.py`` together with :mod:`tests.flows.steps` (the sign-in
pages) and :mod:`tests.protocols.saml.spkit` (the service providers).
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import parse_qs, urlsplit

from lxml import etree

from idp.enrolment import issue_enrolment_link
from idp.models import User
from idp.sessions import SESSION_COOKIE
from idp.settings import Settings
from tests.flows.steps import Browser, Page, path_of
from tests.protocols.saml.spkit import NS

__all__ = [
    "IDP",
    "SSO_URL",
    "descriptor",
    "enrolled_browser",
    "idp_certificate",
    "login_transaction",
    "posted",
    "session_index",
]

IDP = "http://localhost:8080/realms/master"
SSO_URL = IDP + "/protocol/saml"


async def descriptor(client: Any) -> str:
    """The master realm's IdP metadata, as an SP administrator would fetch it."""
    response = await client.get("/realms/master/protocol/saml/descriptor")
    assert response.status_code == 200
    return str(await response.get_data(as_text=True))


def idp_certificate(metadata: str) -> str:
    """The base64 signing certificate published in the IdP metadata."""
    root = etree.fromstring(metadata.encode())
    return root.findtext(".//ds:X509Certificate", namespaces=NS) or ""


async def enrolled_browser(client: Any, settings: Settings, user: User, *,
                           keep_session: bool = False) -> Browser:
    """A browser whose person registered a passkey through an enrolment link."""
    browser = Browser(client, realm="master")
    page = await browser.enrol((await issue_enrolment_link(user, settings=settings)).url)
    assert page.status == 303, page.html
    if not keep_session:
        client.cookie_jar.clear()
    return browser


async def login_transaction(browser: Browser, location: str) -> str:
    """Follow an SSO request to the login page; the login transaction's id."""
    redirect = await browser.client.get(path_of(location))
    assert redirect.status_code == 302, await redirect.get_data(as_text=True)
    target = urlsplit(redirect.headers["Location"])
    assert target.path == "/realms/master/login/"
    return parse_qs(target.query)["txn"][0]


def posted(page: Page) -> tuple[str, dict[str, str]]:
    """Where the auto-posting form goes, and its fields."""
    assert page.status == 200, page.html
    return page.actions["autopost"], page.forms["autopost"]


def session_index(browser: Browser) -> str:
    """The SessionIndex of the browser's SSO session: the SHA-256 of its cookie."""
    cookie = next(c.value for c in browser.client.cookie_jar if c.name == SESSION_COOKIE)
    return hashlib.sha256(cookie.encode()).hexdigest()
