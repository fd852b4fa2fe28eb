"""What a ceremony sends to the browser: options JSON and the handle of its challenge."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from webauthn.helpers.structs import AuthenticatorTransport, PublicKeyCredentialDescriptor

__all__ = ["PasskeyOptions", "descriptors"]

_TRANSPORTS = {transport.value: transport for transport in AuthenticatorTransport}


@dataclass(frozen=True, slots=True)
class PasskeyOptions:
    """Creation or request options as JSON for ``PublicKeyCredential.parse*OptionsFromJSON``.

    ``handle`` names the server-side challenge; the page posts it back with the response.
    https://www.w3.org/TR/webauthn-3/#dictdef-publickeycredentialcreationoptionsjson
    """

    handle: str
    options: dict[str, Any]

    @property
    def options_json(self) -> str:
        """The options as a JSON string."""
        return json.dumps(self.options, separators=(",", ":"))


def descriptors(rows: Iterable[tuple[bytes, list[str]]]) -> list[PublicKeyCredentialDescriptor]:
    """Credential descriptors (§5.8.3) from stored ``(credential_id, transports)`` pairs.

    Transport names this version of py_webauthn does not know are left out: they are hints.
    """
    return [
        PublicKeyCredentialDescriptor(
            id=bytes(credential_id),
            transports=[_TRANSPORTS[t] for t in transports or () if t in _TRANSPORTS] or None,
        )
        for credential_id, transports in rows
    ]
