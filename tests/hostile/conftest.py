"""Fixtures of the hostile-input tests: a realm with one enrolled person, and an attacker's kit.

Every test here sends what no honest browser, authenticator, SP or administrator would, and
states what Portcullis should answer: a themed error page (or the right SAML status) and
nothing stored. A 500 or a traceback is a finding.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from quart import Quart
from quart.testing import QuartClient

from idp.directory import create_realm, create_user
from idp.enrolment import issue_enrolment_link
from idp.models import Realm, User
from idp.settings import Settings
from tests.flows.steps import Browser, Page, drop_cookies

SERVER_ERROR = 500


def b64url(data: bytes) -> str:
    """base64url without padding, as WebAuthn JSON carries binary values."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    """The bytes of a base64url value with or without padding."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def assert_clear_refusal(page: Page) -> None:
    """A refusal a person can read: a 4xx themed page, never a server error."""
    assert page.status != SERVER_ERROR, "server error instead of a clear refusal"
    assert 400 <= page.status < 500, (page.status, page.html[:300])
    assert "Internal Server Error" not in page.html


@pytest.fixture
async def acme(app: Quart) -> Realm:
    return await create_realm("acme", display_name="Acme Corp")


@pytest.fixture
async def ada(acme: Realm) -> User:
    return await create_user(acme, username="ada", email="ada@example.com")


@pytest.fixture
async def enrolled(client: QuartClient, settings: Settings, ada: User) -> Browser:
    """Ada's browser, enrolled with one passkey and then signed out (cookie dropped)."""
    person = Browser(client)
    page = await person.enrol((await issue_enrolment_link(ada, settings=settings)).url)
    assert page.status == 303, page.html
    drop_cookies(client)
    return person


@pytest.fixture
async def signed_in(client: QuartClient, settings: Settings, ada: User) -> Browser:
    """Ada's browser, just enrolled: signed in to her account page."""
    person = Browser(client)
    page = await person.enrol((await issue_enrolment_link(ada, settings=settings)).url)
    assert page.status == 303, page.html
    return person


async def passkey_post(browser: Browser, page: Page, credential: str) -> Page:
    """Post ``credential`` (any text) as the passkey page's form would."""
    fields: dict[str, Any] = dict(page.forms["passkey-form"], credential=credential)
    return await browser.post(page.actions["passkey-form"], fields)
