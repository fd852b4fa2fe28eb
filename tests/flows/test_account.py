"""The account page end to end: sign in to it, add, rename and remove passkeys, CSRF."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from quart import Quart
from quart.testing import QuartClient

from idp.directory import create_realm, create_user
from idp.enrolment import issue_enrolment_link
from idp.models import AuditEvent, PasskeyCredential, User
from idp.settings import Settings
from tests.flows.steps import ORIGIN, Browser, Page, drop_cookies
from tests.support.authenticator import FLAG_UP, InvalidStateError, SoftAuthenticator


@pytest.fixture
async def ada(app: Quart) -> User:
    realm = await create_realm("acme", display_name="Acme Corp")
    return await create_user(realm, username="ada")


@pytest.fixture
async def browser(client: QuartClient, settings: Settings, ada: User) -> Browser:
    """Ada's browser, just enrolled: signed in, with one passkey."""
    person = Browser(client)
    assert (await person.enrol((await issue_enrolment_link(ada, settings=settings)).url,
                               name="Laptop")).status == 303
    return person


async def _account(browser: Browser) -> Page:
    page = await browser.open("/realms/acme/account/")
    assert page.status == 200, page.html
    return page


async def _add_passkey(browser: Browser, authenticator: SoftAuthenticator, *,
                       name: str = "", **create: Any) -> Page:
    """What account.js does: fetch options with the CSRF header, create, post the form."""
    page = await _account(browser)
    form = page.forms["add-form"]
    fetched = await browser.client.post("/realms/acme/account/passkeys/options", json={},
                                        headers={"X-CSRF-Token": form["csrf"]})
    assert fetched.status_code == 200, await fetched.get_data(as_text=True)
    body = await fetched.get_json()
    created = authenticator.create(body["options"], origin=ORIGIN, **create)
    fields = dict(form, handle=body["handle"], credential=json.dumps(created), name=name)
    return await browser.post(page.actions["add-form"], fields)


def _form_ending(page: Page, suffix: str) -> str:
    return next(form for form, action in page.actions.items() if action.endswith(suffix))


async def test_the_account_page_sends_a_stranger_to_sign_in_and_back(
    browser: Browser,
) -> None:
    drop_cookies(browser.client)

    detour = await browser.open("/realms/acme/account/")
    assert detour.status == 303 and detour.headers["Location"] == "/realms/acme/login/"
    done = await browser.sign_in("ada")

    assert done.status == 302 and done.headers["Location"] == "/realms/acme/account/"
    page = await _account(browser)
    assert "Laptop" in page.html and "Acme Corp" in page.html


async def test_lists_passkeys_with_name_creation_and_last_use(browser: Browser) -> None:
    drop_cookies(browser.client)
    await browser.sign_in("ada")

    page = await _account(browser)

    assert "Laptop" in page.html
    assert "Created" in page.html and "Last used" in page.html
    assert "Not yet" not in page.html


async def test_adds_another_passkey_excluding_those_already_registered(
    browser: Browser,
) -> None:
    page = await _account(browser)
    fetched = await browser.client.post("/realms/acme/account/passkeys/options", json={},
                                        headers={"X-CSRF-Token": page.forms["add-form"]["csrf"]})
    options = (await fetched.get_json())["options"]
    held = browser.authenticator.credentials[0].credential_id
    assert [d["id"] for d in options["excludeCredentials"]] == [
        base64.urlsafe_b64encode(held).rstrip(b"=").decode()]
    assert options["authenticatorSelection"]["userVerification"] == "required"
    with pytest.raises(InvalidStateError):
        browser.authenticator.create(options, origin=ORIGIN)

    added = await _add_passkey(browser, SoftAuthenticator(algorithm="EdDSA"), name="Phone")

    assert added.status == 303 and added.headers["Location"].endswith("?notice=added")
    assert sorted(await PasskeyCredential.all().values_list("name", flat=True)) == [
        "Laptop", "Phone"]
    assert await AuditEvent.filter(type="passkey.added", username="ada").count() == 1


async def test_adding_a_passkey_without_user_verification_is_refused(
    browser: Browser,
) -> None:
    refused = await _add_passkey(browser, SoftAuthenticator(), flags_override=FLAG_UP | 0x40)

    assert refused.status == 400
    assert "could not be verified" in refused.html
    assert await PasskeyCredential.all().count() == 1


async def test_renames_a_passkey(browser: Browser) -> None:
    page = await _account(browser)
    form = _form_ending(page, "/rename")

    renamed = await browser.post(page.actions[form], dict(page.forms[form], name="Work Mac"))

    assert renamed.status == 303
    assert "Work Mac" in (await _account(browser)).html
    assert (await PasskeyCredential.get()).name == "Work Mac"


async def test_cannot_remove_the_last_passkey(browser: Browser) -> None:
    page = await _account(browser)
    form = _form_ending(page, "/remove")

    refused = await browser.post(page.actions[form], page.forms[form])

    assert refused.status == 409
    assert "cannot remove your only passkey" in refused.html
    assert await PasskeyCredential.all().count() == 1


async def test_removes_a_passkey_when_another_remains(browser: Browser) -> None:
    await _add_passkey(browser, SoftAuthenticator(), name="Phone")
    page = await _account(browser)
    form = _form_ending(page, "/remove")

    removed = await browser.post(page.actions[form], page.forms[form])

    assert removed.status == 303 and removed.headers["Location"].endswith("?notice=removed")
    assert await PasskeyCredential.all().values_list("name", flat=True) == ["Phone"]


@pytest.mark.parametrize("csrf", ["missing", "wrong", "another session's"])
async def test_a_form_without_its_csrf_token_is_refused(
    browser: Browser, client: QuartClient, settings: Settings, csrf: str
) -> None:
    await _add_passkey(browser, SoftAuthenticator(), name="Phone")
    page = await _account(browser)
    form = _form_ending(page, "/remove")
    fields = dict(page.forms[form])
    if csrf == "missing":
        del fields["csrf"]
    elif csrf == "wrong":
        fields["csrf"] = "0" * 64
    else:
        bob = await create_user(await (await User.get(username="ada")).realm, username="bob")
        other = Browser(client.app.test_client())
        await other.enrol((await issue_enrolment_link(bob, settings=settings)).url)
        fields["csrf"] = (await _account(other)).forms["add-form"]["csrf"]

    refused = await browser.post(page.actions[form], fields)

    assert refused.status == 403
    assert "reload the page" in refused.html
    assert await PasskeyCredential.filter(user__username="ada").count() == 2


async def test_the_options_fetch_needs_the_csrf_header(browser: Browser) -> None:
    refused = await browser.client.post("/realms/acme/account/passkeys/options", json={})

    assert refused.status_code == 403
    assert (await refused.get_json())["error"] == "CsrfError"


async def test_forms_posted_after_the_session_ended_are_refused(browser: Browser) -> None:
    page = await _account(browser)
    form = _form_ending(page, "/rename")
    drop_cookies(browser.client)

    refused = await browser.post(page.actions[form], dict(page.forms[form], name="Hacked"))

    assert refused.status == 401
    assert (await PasskeyCredential.get()).name == "Laptop"


async def test_cannot_touch_another_persons_passkey(
    browser: Browser, client: QuartClient, settings: Settings
) -> None:
    bob = await create_user(await (await User.get(username="ada")).realm, username="bob")
    other = Browser(client.app.test_client())
    await other.enrol((await issue_enrolment_link(bob, settings=settings)).url)
    bobs = await PasskeyCredential.get(user=bob)
    csrf = (await _account(browser)).forms["add-form"]["csrf"]

    refused = await browser.post(f"/realms/acme/account/passkeys/{bobs.id}/rename",
                                 {"csrf": csrf, "name": "mine"})

    assert refused.status == 404
    assert (await PasskeyCredential.get(id=bobs.id)).name == "Passkey"
