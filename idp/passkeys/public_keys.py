"""Credential public keys: a COSE_Key must load as a usable key before it is stored or used.

With attestation ``none`` nothing vouches for the attested credential public key: a client can
register any bytes, such as an EC2 point that is not on its curve. Loaded once at registration
(WebAuthn Level 3 §7.1 step 24, "the credential public key ... of the algorithm"), such a key is
refused instead of breaking every later sign-in; loaded again before an assertion is checked,
a stored key that still cannot load is a refused ceremony, not a server error.

https://www.w3.org/TR/webauthn-3/#sctn-attested-credential-data
"""

from __future__ import annotations

from typing import Any

from webauthn.helpers import decode_credential_public_key, decoded_public_key_to_cryptography
from webauthn.helpers.exceptions import WebAuthnException

from idp.errors import PasskeyError

__all__ = ["load_credential_public_key"]

# What py_webauthn's COSE decoding and cryptography's key loading raise on a malformed key:
# a missing label (KeyError), a key that is not a map (TypeError), an empty key (IndexError),
# an unknown kty/alg/crv or a point off its curve (ValueError).
_DECODING_ERRORS = (
    WebAuthnException, KeyError, TypeError, IndexError, ValueError, OverflowError,
    RecursionError,
)


def load_credential_public_key(cose_key: bytes) -> Any:
    """The credential public key as a ``cryptography`` key; :class:`PasskeyError` otherwise."""
    try:
        decoded = decode_credential_public_key(cose_key)
        return decoded_public_key_to_cryptography(decoded)
    except _DECODING_ERRORS as exc:
        raise PasskeyError(
            f"credential public key does not load as a key: {type(exc).__name__}"
        ) from exc
