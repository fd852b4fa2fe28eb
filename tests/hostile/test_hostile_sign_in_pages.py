"""The sign-in pages under replay, enumeration and reflected input.

* A login transaction is single use, but the passkey POST starts the SSO session before it
  takes the transaction: a second assertion for a used transaction leaves a session behind.
* The options for an unknown identifier must look like a real person's (WebAuthn Level 3
  §14.6.2); their transports hint gives them away.
* An unknown realm's error page prints the realm segment of the URL as the page's banner.
"""

from __future__ import annotations

from quart.testing import QuartClient

from idp.models import SsoSession
from tests.flows.steps import Browser, drop_cookies, read


async def test_rejects_second_assertion_for_a_used_transaction_without_storing_a_session(
    client: QuartClient, enrolled: Browser
) -> None:
    """Two tabs of one sign-in: the first completes it, the second must change nothing."""
    txn = (await enrolled.start()).forms["identifier-form"]["txn"]
    first_tab = await enrolled.identify("ada", txn=txn)
    second_tab = await enrolled.identify("ada", txn=txn)
    assert (await enrolled.use_passkey(first_tab)).status == 302
    drop_cookies(client)
    sessions = await SsoSession.all().count()

    refused = await enrolled.use_passkey(second_tab)

    assert refused.status == 400
    assert not refused.headers.get_all("Set-Cookie")
    assert await SsoSession.all().count() == sessions, "an SSO session nobody holds was stored"


async def test_unknown_identifier_options_carry_the_same_transports_as_a_real_persons(
    enrolled: Browser,
) -> None:
    """§14.6.2: the page for nobody must not differ from the page for a real person.

    Ada's passkey reported transports ["internal"]; the made-up credentials of an unknown
    identifier always say ["hybrid", "internal"], so the hint tells who has an account.
    """
    known = (await enrolled.identify("ada")).data["passkey-options"]["allowCredentials"]
    unknown = (await enrolled.identify("nobody")).data["passkey-options"]["allowCredentials"]

    assert {tuple(c.get("transports", ())) for c in unknown} == {
        tuple(c.get("transports", ())) for c in known
    }


async def test_error_page_of_an_unknown_realm_does_not_print_the_urls_text(
    client: QuartClient,
) -> None:
    """The banner and title of the 404 page name the realm; for an unknown realm that name
    is whatever the link said, which lets a phishing link put its own sentence on our page."""
    page = await read(await client.get(
        "/realms/Your%20account%20is%20locked.%20Call%20+1-555-0100/login/"))

    assert page.status == 404
    assert "Call +1-555-0100" not in page.html
