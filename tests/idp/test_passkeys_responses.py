"""Credential JSON read at the boundary: real responses pass, hostile shapes are refused."""

from __future__ import annotations

import json

import pytest

from idp.errors import PasskeyError
from idp.passkeys.responses import RESPONSE_MAX, load_response_json
from tests.support.authenticator import SoftAuthenticator

ORIGIN = "https://localhost"
OPTIONS = {
    "challenge": "AAAAAAAAAAAAAAAAAAAAAA", "rp": {"id": "localhost", "name": "Acme"},
    "user": {"id": "dXNlcg", "name": "ada", "displayName": "Ada"},
    "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
}


def _registration() -> dict[str, object]:
    return SoftAuthenticator().create(OPTIONS, origin=ORIGIN)


def test_accepts_a_real_registration_response_as_text() -> None:
    response = _registration()

    assert load_response_json(json.dumps(response), kind="registration") == response


@pytest.mark.parametrize("text", [
    '{"id": 1' + "0" * 5000 + "}", "[" * 60000, "[]", '{"id": "a"}', "not json",
], ids=["5000-digits", "nested", "array", "no-response", "not-json"])
def test_rejects_text_that_is_no_response_object(text: str) -> None:
    with pytest.raises(PasskeyError):
        load_response_json(text, kind="authentication")


def test_rejects_a_response_beyond_the_bound() -> None:
    with pytest.raises(PasskeyError, match="at most"):
        load_response_json(" " * (RESPONSE_MAX + 1), kind="registration")


@pytest.mark.parametrize(("member", "value"), [
    ("clientDataJSON", "a"), ("clientDataJSON", "+/=="), ("attestationObject", 5),
    ("transports", "usb"), ("transports", [1]),
])
def test_rejects_members_that_are_not_base64url_strings(member: str, value: object) -> None:
    response = _registration()
    response["response"][member] = value  # type: ignore[index]

    with pytest.raises(PasskeyError):
        load_response_json(response, kind="registration")  # type: ignore[arg-type]
