"""Hostile posts to the account page's forms by a signed-in person with a valid CSRF token."""

from __future__ import annotations

import pytest

from idp.models import PasskeyCredential
from tests.flows.steps import Browser
from tests.hostile.conftest import assert_clear_refusal

HUGE_ID = "9" * 30  # matches <int:passkey_id>, does not fit a 64-bit database integer


@pytest.mark.parametrize("action", ["rename", "remove"])
async def test_rejects_passkey_id_beyond_a_database_integer(signed_in: Browser,
                                                            action: str) -> None:
    page = await signed_in.open("/realms/acme/account/")
    csrf = page.forms["add-form"]["csrf"]

    refused = await signed_in.post(f"/realms/acme/account/passkeys/{HUGE_ID}/{action}",
                                   {"csrf": csrf, "name": "Renamed"})

    assert_clear_refusal(refused)
    assert await PasskeyCredential.all().values_list("name", flat=True) == ["Passkey"]
