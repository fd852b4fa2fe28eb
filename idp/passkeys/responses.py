"""The credential JSON a browser posts back, read at the boundary before py_webauthn sees it.

``PublicKeyCredential.toJSON()`` gives a small object of strings (WebAuthn Level 3 §5.1,
RegistrationResponseJSON and AuthenticationResponseJSON). Anything else (a number of thousands
of digits, arrays nested thousands deep, a user handle that is not base64url) is refused here
with :class:`PasskeyError`, so that no decoding error of Python or py_webauthn escapes as a 500.

https://www.w3.org/TR/webauthn-3/#dictdef-authenticationresponsejson
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from idp.errors import PasskeyError

__all__ = ["RESPONSE_MAX", "load_response_json"]

RESPONSE_MAX = 64 * 1024
"""Characters of credential JSON accepted; a real response is a few kilobytes."""

ResponseKind = Literal["registration", "authentication"]

_BASE64URL = re.compile(r"[A-Za-z0-9_-]*={0,2}")
_REQUIRED: dict[str, tuple[str, ...]] = {
    "registration": ("clientDataJSON", "attestationObject"),
    "authentication": ("clientDataJSON", "authenticatorData", "signature"),
}
_OPTIONAL_BINARY = ("userHandle", "publicKey", "authenticatorData")


def load_response_json(
    response: str | dict[str, Any], *, kind: ResponseKind
) -> dict[str, Any]:
    """Parse and shape-check a RegistrationResponseJSON or AuthenticationResponseJSON.

    Binary members must be base64url (§5.1: ``Base64URLString``), so that py_webauthn's
    decoding cannot fail later; ``transports`` must be a list of strings. An already parsed
    object is shape-checked the same way.
    """
    value: object = response
    if isinstance(response, str):
        value = _loads(response, kind=kind)

    if not isinstance(value, dict) or not isinstance(value.get("response"), dict):
        raise PasskeyError(f"{kind} response is not an object with a response object")

    for name in ("id", "rawId"):
        _require_base64url(value.get(name), f"{kind} response member {name}")

    for name in ("type", "authenticatorAttachment"):
        if value.get(name) is not None and not isinstance(value[name], str):
            raise PasskeyError(f"{kind} response member {name} is not a string")

    members = value["response"]
    for name in _REQUIRED[kind]:
        _require_base64url(members.get(name), f"{kind} response.{name}")
    for name in _OPTIONAL_BINARY:
        if members.get(name) is not None:
            _require_base64url(members[name], f"{kind} response.{name}")

    transports = members.get("transports")
    if transports is not None and not (
        isinstance(transports, list) and all(isinstance(t, str) for t in transports)
    ):
        raise PasskeyError(f"{kind} response.transports is not a list of strings")
    return value


def _loads(text: str, *, kind: ResponseKind) -> object:
    if len(text) > RESPONSE_MAX:
        raise PasskeyError(f"{kind} response of {len(text)} characters, at most {RESPONSE_MAX}")
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise PasskeyError(f"{kind} response is not JSON: {type(exc).__name__}") from exc


def _require_base64url(value: object, what: str) -> None:
    # One base64 character left over encodes no byte: "a" is not base64url of anything.
    if not isinstance(value, str) or not _BASE64URL.fullmatch(value):
        raise PasskeyError(f"{what} is not a base64url string")
    if len(value.rstrip("=")) % 4 == 1:
        raise PasskeyError(f"{what} has a base64url length no bytes encode")
