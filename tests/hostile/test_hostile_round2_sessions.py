"""Second round: SSO sessions, enrolment links and the account page against a hostile browser.

Each test plays what an attacker can do with their own browser, a planted cookie, another
person's link or another session's token, and states what must not follow from it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json

from quart import Quart
from quart.testing import QuartClient

from idp.directory import create_user, set_user_enabled
from idp.enrolment import issue_enrolment_link
from idp.models import PasskeyCredential, Realm, SsoSession, User
from idp.sessions import SESSION_COOKIE
from idp.settings import Settings
from tests.flows.steps import ORIGIN, Browser, drop_cookies, read
from tests.hostile.conftest import assert_clear_refusal
from tests.support.authenticator import SoftAuthenticator


def _cookie(client: QuartClient) -> str:
    return next(c.value for c in client.cookie_jar if c.name == SESSION_COOKIE)


async def test_planted_session_cookie_is_replaced_at_sign_in(client: QuartClient,
                                                            enrolled: Browser) -> None:
    """Session fixation: a cookie value chosen before sign-in never becomes a session."""
    planted = "attacker-chosen-session-value-0123456789"
    client.set_cookie("localhost", SESSION_COOKIE, planted, path="/realms/acme/")

    page = await enrolled.sign_in("ada")

    assert page.status in (302, 303), page.html[:300]
    assert _cookie(client) != planted
    planted_hash = hashlib.sha256(planted.encode()).hexdigest()
    assert not await SsoSession.filter(id_hash=planted_hash).exists()


async def test_session_of_a_person_disabled_meanwhile_stops_working(
        signed_in: Browser, acme: Realm) -> None:
    await set_user_enabled(acme, "ada", enabled=False)

    page = await signed_in.open("/realms/acme/account/")

    assert page.status == 303 and page.headers["Location"] == "/realms/acme/login/"
    assert await SsoSession.all().count() == 0


async def test_session_cookie_of_one_realm_is_not_a_session_in_another(
        client: QuartClient, signed_in: Browser, app: Quart) -> None:
    """The cookie is scoped to its realm's path, and its value is looked up per realm."""
    await create_user(await Realm.get(name="master"), username="ada")
    value = _cookie(client)

    response = await client.get("/realms/master/account/",
                                headers={"Cookie": f"{SESSION_COOKIE}={value}"})

    assert response.status_code == 303
    assert response.headers["Location"] == "/realms/master/login/"


async def test_enrolment_link_of_another_person_is_refused_while_signed_in(
        client: QuartClient, settings: Settings, signed_in: Browser, acme: Realm) -> None:
    """Ada is signed in; she opens Bob's temporary-access link (a link Bob, or an attacker
    holding Bob's account, sent her).

    As Keycloak does with action tokens for another user, the link is refused until she signs
    out: her browser never becomes Bob's and no passkey of hers lands on his account.
    """
    bob = await create_user(acme, username="bob")
    link = await issue_enrolment_link(bob, settings=settings, purpose="temporary_access")

    page = await signed_in.open(link.url)

    assert page.status == 409
    assert "Sign out first" in page.html
    assert await PasskeyCredential.filter(user=bob).count() == 0
    assert await SsoSession.filter(user__username="ada").count() == 1
    assert await SsoSession.filter(user__username="bob").count() == 0


async def test_enrolment_link_of_one_realm_is_refused_under_another(
        client: QuartClient, settings: Settings, ada: User) -> None:
    await Realm.create(name="other", display_name="Other")
    link = await issue_enrolment_link(ada, settings=settings)

    page = await Browser(client).open(link.url.replace("/realms/acme/", "/realms/other/"))

    assert_clear_refusal(page)


async def test_one_enrolment_link_redeemed_twice_at_once_stores_one_passkey(
        app: Quart, settings: Settings, ada: User) -> None:
    link = await issue_enrolment_link(ada, settings=settings)
    browsers = [Browser(app.test_client(), authenticator=SoftAuthenticator()) for _ in "ab"]
    forms = []
    for browser in browsers:
        page = await browser.open(link.url)
        answer = browser.authenticator.create(page.data["registration-options"], origin=ORIGIN)
        forms.append((browser, page.actions["enrol-form"],
                      dict(page.forms["enrol-form"], credential=json.dumps(answer))))

    pages = await asyncio.gather(*(b.post(action, f) for b, action, f in forms))

    assert sorted(p.status for p in pages) == [303, 410], [p.status for p in pages]
    assert await PasskeyCredential.all().count() == 1
    assert await SsoSession.all().count() == 1


async def test_rename_to_markup_is_shown_as_text(signed_in: Browser) -> None:
    page = await signed_in.open("/realms/acme/account/")
    passkey = await PasskeyCredential.get()
    hostile = '"><script>alert(1)</script><img src=x onerror=alert(1)>'

    await signed_in.post(f"/realms/acme/account/passkeys/{passkey.id}/rename",
                         {"csrf": page.forms["add-form"]["csrf"], "name": hostile})
    shown = await signed_in.open("/realms/acme/account/")

    assert "<script>alert" not in shown.html and "<img src=x" not in shown.html
    assert all(s.get("src", "").startswith("/resources/") or s.get("type") ==
               "application/json" for s in shown.scripts)


async def test_cannot_remove_or_rename_another_persons_passkey(
        client: QuartClient, settings: Settings, signed_in: Browser, acme: Realm) -> None:
    """IDOR: Ada posts Bob's passkey id with her own valid CSRF token."""
    bob = await create_user(acme, username="bob")
    ada_cookie = _cookie(client)
    drop_cookies(client)
    bob_browser = Browser(client)
    await bob_browser.enrol((await issue_enrolment_link(bob, settings=settings)).url)
    await Browser(client).enrol((await issue_enrolment_link(bob, settings=settings)).url)
    bob_ids = await PasskeyCredential.filter(user_id=bob.id).values_list("id", flat=True)
    assert len(bob_ids) == 2
    drop_cookies(client)
    client.set_cookie("localhost", SESSION_COOKIE, ada_cookie, path="/realms/acme/")
    csrf = (await signed_in.open("/realms/acme/account/")).forms["add-form"]["csrf"]

    renamed = await signed_in.post(f"/realms/acme/account/passkeys/{bob_ids[0]}/rename",
                                   {"csrf": csrf, "name": "pwned"})
    removed = await signed_in.post(f"/realms/acme/account/passkeys/{bob_ids[1]}/remove",
                                   {"csrf": csrf})

    assert_clear_refusal(renamed)
    assert_clear_refusal(removed)
    assert await PasskeyCredential.filter(user_id=bob.id).count() == 2
    assert "pwned" not in await PasskeyCredential.all().values_list("name", flat=True)


async def test_add_passkey_options_of_one_session_cannot_be_finished_in_another(
        client: QuartClient, signed_in: Browser) -> None:
    """Options fetched by session 1; the answer posted by session 2 of the same person."""
    page = await signed_in.open("/realms/acme/account/")
    csrf = page.forms["add-form"]["csrf"]
    fetched = await client.post("/realms/acme/account/passkeys/options",
                                headers={"X-CSRF-Token": csrf})
    body = await fetched.get_json()
    answer = SoftAuthenticator().create(body["options"], origin=ORIGIN)
    drop_cookies(client)
    page2 = await signed_in.sign_in("ada")
    assert page2.status in (302, 303)
    csrf2 = (await signed_in.open("/realms/acme/account/")).forms["add-form"]["csrf"]

    refused = await signed_in.post("/realms/acme/account/passkeys", {
        "csrf": csrf2, "handle": body["handle"], "credential": json.dumps(answer),
        "name": "Smuggled"})

    assert_clear_refusal(refused)
    assert await PasskeyCredential.all().count() == 1


async def test_csrf_token_of_another_session_is_refused(client: QuartClient,
                                                       signed_in: Browser) -> None:
    old_csrf = (await signed_in.open("/realms/acme/account/")).forms["add-form"]["csrf"]
    drop_cookies(client)
    assert (await signed_in.sign_in("ada")).status in (302, 303)
    passkey = await PasskeyCredential.get()

    refused = await signed_in.post(f"/realms/acme/account/passkeys/{passkey.id}/rename",
                                   {"csrf": old_csrf, "name": "Renamed"})

    assert refused.status == 403
    assert (await PasskeyCredential.get()).name == "Passkey"


async def test_json_error_answers_carry_no_detail(client: QuartClient, acme: Realm) -> None:
    response = await client.post("/realms/acme/login/passkey/options", data="[" * 3000,
                                 headers={"Accept": "application/json",
                                          "Content-Type": "application/json"})

    text = await response.get_data(as_text=True)
    assert 400 <= response.status_code < 500, text
    assert "Traceback" not in text and "RecursionError" not in text
    assert "malformed" not in text


async def test_logout_then_reuse_of_the_pre_logout_page_signs_nobody_in(
        client: QuartClient, signed_in: Browser) -> None:
    """Back button after logout: the old account page's forms no longer act."""
    page = await signed_in.open("/realms/acme/account/")
    logout = await signed_in.open("/realms/acme/login/logout")
    await signed_in.post("/realms/acme/login/logout", logout.forms.get(
        next(iter(logout.forms)), {}))
    passkey = await PasskeyCredential.get()

    refused = await signed_in.post(f"/realms/acme/account/passkeys/{passkey.id}/rename",
                                   {"csrf": page.forms["add-form"]["csrf"], "name": "x"})

    assert_clear_refusal(refused)
    assert await SsoSession.all().count() == 0
    assert (await read(await client.get("/realms/acme/account/"))).status == 303
