"""Local sign-in end to end: enrolment link, identifier-first and discoverable passkeys.

Every step is a real request to the real app; the software authenticator produces the
WebAuthn data that py_webauthn verifies.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from quart import Quart
from quart.testing import QuartClient

from idp.directory import create_realm, create_user
from idp.enrolment import EnrolmentPurpose, issue_enrolment_link
from idp.models import AuditEvent, EnrolmentToken, PasskeyCredential, SsoSession, User
from idp.sessions import SESSION_COOKIE, SignIn
from idp.settings import Settings
from idp.transactions import (
    Completion,
    LoginTransaction,
    TransactionStore,
    register_completer,
)
from tests.flows.steps import ORIGIN, Browser, Page, drop_cookies, path_of
from tests.support.authenticator import FLAG_UP, SoftAuthenticator


@pytest.fixture
async def ada(app: Quart) -> User:
    realm = await create_realm("acme", display_name="Acme Corp")
    return await create_user(realm, username="ada", email="ada@example.com")


@pytest.fixture
async def browser(client: QuartClient, settings: Settings, ada: User) -> Browser:
    """Ada's browser, enrolled with one passkey and then signed out (cookie dropped)."""
    person = Browser(client)
    link = await issue_enrolment_link(ada, settings=settings)
    page = await person.enrol(link.url)
    assert page.status == 303, page.html
    drop_cookies(client)
    return person


@pytest.fixture
def app_protocol(app: Quart) -> TransactionStore:
    """A protocol of a pretend application that answers with an auto-posting form."""

    async def complete(transaction: LoginTransaction, sign_in: SignIn) -> Completion:
        return Completion(kind="post", url="https://app.example/acs",
                          fields={"user": sign_in.username, "state": transaction.request["s"]})

    register_completer("testapp", complete)
    transactions: TransactionStore = app.extensions["portcullis"].transactions
    return transactions


def _has_session_cookie(page: Page) -> bool:
    return any(value.startswith(f"{SESSION_COOKIE}=") and "HttpOnly" in value
               for value in page.headers.get_all("Set-Cookie"))


@pytest.mark.parametrize("purpose", ["enrolment", "temporary_access"])
async def test_enrolment_link_registers_a_passkey_and_signs_the_person_in(
    client: QuartClient, settings: Settings, ada: User, purpose: EnrolmentPurpose
) -> None:
    person = Browser(client)
    link = await issue_enrolment_link(ada, settings=settings, purpose=purpose)

    enrol_page = await person.open(link.url)
    assert "Create your passkey" in enrol_page.html and "Acme Corp" in enrol_page.html
    done = await person.enrol(link.url, name="Work laptop")

    assert done.status == 303
    assert done.headers["Location"] == "/realms/acme/account/?notice=enrolled"
    assert _has_session_cookie(done)
    account = await person.open(done.headers["Location"])
    assert account.status == 200
    assert "Work laptop" in account.html and "Your passkey is ready" in account.html
    assert await PasskeyCredential.filter(user=ada).count() == 1
    event = await AuditEvent.get(type="enrolment.completed", username="ada")
    assert event.details["purpose"] == purpose


async def test_identifier_first_sign_in_completes_the_transaction(
    browser: Browser, app_protocol: TransactionStore
) -> None:
    transaction = await app_protocol.begin(realm="acme", protocol="testapp", client="app",
                                           request={"s": "xyz"})

    passkey_page = await browser.identify("ada", txn=transaction.id)
    assert passkey_page.status == 200
    assert len(passkey_page.data["passkey-options"]["allowCredentials"]) == 1
    done = await browser.use_passkey(passkey_page)

    assert done.status == 200
    assert done.actions["autopost"] == "https://app.example/acs"
    assert done.forms["autopost"] == {"user": "ada", "state": "xyz"}
    assert "form-action https://app.example/acs" in done.headers["Content-Security-Policy"]
    assert _has_session_cookie(done)
    event = await AuditEvent.filter(type="login.succeeded", client="app").get()
    assert (event.username, event.details["method"]) == ("ada", "passkey")


async def test_the_login_page_prefills_the_login_hint(
    browser: Browser, app_protocol: TransactionStore
) -> None:
    transaction = await app_protocol.begin(realm="acme", protocol="testapp", client="app",
                                           request={"s": "1"}, login_hint="ada@example.com")

    page = await browser.start(transaction.id)

    assert page.forms["identifier-form"]["identifier"] == "ada@example.com"
    assert 'autocomplete="username webauthn"' in page.html


async def test_discoverable_sign_in_needs_no_identifier(browser: Browser) -> None:
    done = await browser.sign_in_discoverable()

    assert done.status == 302
    assert done.headers["Location"] == "/realms/acme/account/"
    assert _has_session_cookie(done)
    event = await AuditEvent.filter(type="login.succeeded").order_by("-id").first()
    assert event is not None and event.details["method"] == "passkey_discoverable"


async def test_sign_in_without_user_verification_is_refused(browser: Browser) -> None:
    refused = await browser.sign_in("ada", flags_override=FLAG_UP)

    assert refused.status == 400
    assert "could not be verified" in refused.html
    assert not _has_session_cookie(refused)
    failed = await AuditEvent.filter(type="login.failed").get()
    assert failed.error_id and failed.error_id in refused.html


async def test_sign_in_from_another_origin_is_refused(browser: Browser) -> None:
    refused = await browser.sign_in("ada", origin="http://localhost:9999")

    assert refused.status == 400
    assert not _has_session_cookie(refused)


async def test_sign_in_for_another_rp_id_is_refused(browser: Browser) -> None:
    refused = await browser.sign_in("ada", rp_id_override="evil.example")

    assert refused.status == 400
    assert not _has_session_cookie(refused)


async def test_a_posted_assertion_cannot_be_replayed(
    browser: Browser, client: QuartClient
) -> None:
    page = await browser.identify("ada")
    response = browser.authenticator.get(page.data["passkey-options"], origin=ORIGIN)
    fields = dict(page.forms["passkey-form"], credential=json.dumps(response))
    first = await browser.post(page.actions["passkey-form"], fields)
    drop_cookies(client)

    replay = await browser.post(page.actions["passkey-form"], fields)

    assert first.status == 302
    assert replay.status == 400
    assert "expired" in replay.html
    assert not _has_session_cookie(replay)


async def test_a_transaction_completes_only_once(
    browser: Browser, app_protocol: TransactionStore, client
) -> None:
    transaction = await app_protocol.begin(realm="acme", protocol="testapp", client="app",
                                           request={"s": "1"})
    first_page = await browser.identify("ada", txn=transaction.id)
    second_page = await browser.identify("ada", txn=transaction.id)
    assert (await browser.use_passkey(first_page)).status == 200
    drop_cookies(client)

    again = await browser.use_passkey(second_page)

    assert again.status == 400
    assert "expired" in again.html
    assert not _has_session_cookie(again)


async def test_a_counter_that_does_not_increase_is_refused_and_audited(
    browser: Browser,
) -> None:
    twin = Browser(browser.client, authenticator=browser.authenticator.clone())
    assert (await browser.sign_in("ada")).status == 302
    drop_cookies(browser.client)

    refused = await twin.sign_in("ada")

    assert refused.status == 400
    assert "could not be verified" in refused.html
    clone = await AuditEvent.get(type="passkey.possible_clone")
    assert clone.username == "ada" and clone.outcome == "failure"
    failed = await AuditEvent.get(type="login.failed")
    assert failed.details == {"error": "PossibleCloneError"}


async def test_a_synced_passkey_whose_counter_stays_zero_is_accepted(
    client: QuartClient, settings: Settings, ada: User
) -> None:
    person = Browser(client, authenticator=SoftAuthenticator(sign_count_mode="zero"))
    await person.enrol((await issue_enrolment_link(ada, settings=settings)).url)

    for _ in range(2):
        drop_cookies(client)
        assert (await person.sign_in("ada")).status == 302
    assert (await PasskeyCredential.get(user=ada)).sign_count == 0


async def test_an_unknown_person_sees_the_same_page_and_failure_as_a_wrong_passkey(
    browser: Browser, client: QuartClient, settings: Settings
) -> None:
    stranger = await create_user(await (await User.get(username="ada")).realm,
                                 username="stranger")
    strangers_browser = Browser(client)
    await strangers_browser.enrol((await issue_enrolment_link(stranger, settings=settings)).url)
    drop_cookies(client)

    known = await strangers_browser.identify("ada")
    unknown = await strangers_browser.identify("nobody@example.com")
    assert known.status == unknown.status == 200
    assert known.shape()[:2] == unknown.shape()[:2]
    assert unknown.shape()[2] in (1, 2, 3)
    # The stranger's own passkey answers both pages (as with an empty allow list).
    failures = [await strangers_browser.use_passkey(page, ignore_allow_list=True)
                for page in (known, unknown)]

    assert [f.status for f in failures] == [400, 400]
    messages = [_alert_text(f.html) for f in failures]
    assert messages[0] == messages[1]
    assert "could not be verified" in messages[0]


def _alert_text(html: str) -> str:
    match = re.search(r'id="alert"[^>]*>\s*<p>(.*?)<span', html, re.S)
    assert match, html
    return " ".join(match.group(1).split())


async def test_the_same_sso_session_completes_the_next_transaction_at_once(
    browser: Browser, app_protocol: TransactionStore
) -> None:
    assert (await browser.sign_in("ada")).status == 302
    transaction = await app_protocol.begin(realm="acme", protocol="testapp", client="app",
                                           request={"s": "2"})

    page = await browser.start(transaction.id)

    assert page.status == 200
    assert page.forms["autopost"] == {"user": "ada", "state": "2"}
    event = await AuditEvent.filter(type="login.succeeded").order_by("-id").first()
    assert event is not None and event.details["method"] == "sso_session"


async def test_forced_authentication_asks_for_the_passkey_again(
    browser: Browser, app_protocol: TransactionStore
) -> None:
    assert (await browser.sign_in("ada")).status == 302
    transaction = await app_protocol.begin(realm="acme", protocol="testapp", client="app",
                                           request={"s": "3"}, force_authn=True)

    page = await browser.start(transaction.id)

    assert "identifier-form" in page.forms


async def test_a_new_sign_in_replaces_the_browsers_earlier_session(
    browser: Browser, app_protocol: TransactionStore
) -> None:
    assert (await browser.sign_in("ada")).status == 302
    earlier = set(await SsoSession.all().values_list("id_hash", flat=True))
    transaction = await app_protocol.begin(realm="acme", protocol="testapp", client="app",
                                           request={"s": "4"}, force_authn=True)

    assert (await browser.sign_in("ada", txn=transaction.id)).status == 200

    now = set(await SsoSession.all().values_list("id_hash", flat=True))
    assert len(now) == len(earlier)
    assert len(now - earlier) == 1


async def test_a_post_from_another_site_is_refused(browser: Browser) -> None:
    page = await browser.identify("ada")
    response = browser.authenticator.get(page.data["passkey-options"], origin=ORIGIN)
    fields = dict(page.forms["passkey-form"], credential=json.dumps(response))

    refused = await browser.post(page.actions["passkey-form"], fields,
                                 headers={"Origin": "https://evil.example"})

    assert refused.status == 403
    assert not _has_session_cookie(refused)


async def test_pages_carry_no_inline_script_or_style(
    browser: Browser, settings: Settings, ada: User
) -> None:
    pages = [await browser.start(), await browser.identify("ada"),
             await browser.open((await issue_enrolment_link(ada, settings=settings)).url)]
    await browser.sign_in("ada")
    pages += [await browser.open("/realms/acme/account/"),
              await browser.open("/realms/acme/login/logout")]

    for page in pages:
        assert page.status == 200
        assert page.headers["Content-Security-Policy"].startswith("default-src 'none'")
        assert all(s.get("src", "").startswith("/resources/")
                   or s.get("type") == "application/json" for s in page.scripts)
        assert "style=" not in page.html and "<style" not in page.html
        assert '<html lang="en">' in page.html and "Acme Corp" in page.html


async def test_logout_ends_the_sso_session(browser: Browser) -> None:
    assert (await browser.sign_in("ada")).status == 302
    sessions = await SsoSession.all().count()
    confirm = await browser.open("/realms/acme/login/logout")
    assert confirm.status == 200 and "Do you want to sign out?" in confirm.html

    done = await browser.post(confirm.actions[next(iter(confirm.forms))],
                              confirm.forms[next(iter(confirm.forms))])

    assert done.status == 200 and "You are signed out" in done.html
    assert any(c.startswith(f"{SESSION_COOKIE}=;") for c in done.headers.get_all("Set-Cookie"))
    assert await SsoSession.all().count() == sessions - 1
    assert await AuditEvent.filter(type="logout", username="ada").count() == 1
    account = await browser.open("/realms/acme/account/")
    assert account.status == 303


async def test_enrolment_without_user_verification_leaves_the_link_usable(
    client: QuartClient, settings: Settings, ada: User
) -> None:
    link = await issue_enrolment_link(ada, settings=settings)
    careless = Browser(client, authenticator=SoftAuthenticator(user_verification=False))

    refused = await careless.enrol(link.url)

    assert refused.status == 400
    assert "could not be verified" in refused.html
    assert "enrol-form" in refused.forms
    assert await PasskeyCredential.filter(user=ada).count() == 0
    assert (await Browser(client).enrol(link.url)).status == 303


@pytest.mark.parametrize("tamper", ["reuse", "expire", "alter", "omit"])
async def test_a_bad_enrolment_link_gives_a_clear_page_and_changes_nothing(
    client: QuartClient, settings: Settings, ada: User, tamper: str
) -> None:
    link = await issue_enrolment_link(ada, settings=settings)
    url = link.url
    if tamper == "reuse":
        assert (await Browser(client).enrol(link.url)).status == 303
        drop_cookies(client)
    elif tamper == "expire":
        await EnrolmentToken.filter(user=ada).update(
            expires_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1))
    elif tamper == "alter":
        url = link.url[:-1] + ("A" if link.url[-1] != "A" else "B")
    else:
        url = path_of(link.url).split("?")[0]
    before = (await PasskeyCredential.all().count(), await SsoSession.all().count(),
              await EnrolmentToken.filter(used_at__isnull=True).count())

    page = await Browser(client).open(url)

    assert page.status == (410 if tamper in ("reuse", "expire") else 400)
    assert "enrolment link" in page.html and "error id" in page.html.lower()
    assert "Acme Corp" in page.html
    after = (await PasskeyCredential.all().count(), await SsoSession.all().count(),
             await EnrolmentToken.filter(used_at__isnull=True).count())
    assert after == before


async def test_a_used_enrolment_link_cannot_be_posted_again(
    client: QuartClient, settings: Settings, ada: User
) -> None:
    link = await issue_enrolment_link(ada, settings=settings)
    person = Browser(client)
    page = await person.open(link.url)
    fields = dict(page.forms["enrol-form"])
    created = person.authenticator.create(page.data["registration-options"],
                                          origin=settings.origin)
    fields["credential"] = json.dumps(created)
    assert (await person.post(page.actions["enrol-form"], fields)).status == 303
    drop_cookies(client)

    again = await person.post(page.actions["enrol-form"], fields)

    assert again.status == 410
    assert await PasskeyCredential.filter(user=ada).count() == 1
    assert await SsoSession.all().count() == 1


async def test_the_pages_scripts_and_stylesheet_are_served(client: QuartClient) -> None:
    for name, kind in [("portcullis.css", "text/css"), ("login.js", "javascript"),
                       ("enrol.js", "javascript"), ("account.js", "javascript"),
                       ("autopost.js", "javascript")]:
        response = await client.get(f"/resources/{name}")
        assert response.status_code == 200, name
        assert kind in response.headers["Content-Type"]
