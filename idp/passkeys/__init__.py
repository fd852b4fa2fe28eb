"""Passkeys: the WebAuthn Level 3 registration and authentication ceremonies, on py_webauthn.

User verification is required in both ceremonies, origin and RP ID are compared exactly with
the configuration, and every challenge lives server-side and is used once.

https://www.w3.org/TR/webauthn-3/#sctn-rp-operations
"""

from idp.passkeys.authentication import (
    VerifiedPasskeySignIn,
    begin_discoverable_authentication,
    begin_identified_authentication,
    fake_credential_ids,
    finish_authentication,
)
from idp.passkeys.challenges import Challenge, issue_challenge, take_challenge
from idp.passkeys.credentials import (
    LastPasskeyError,
    PasskeySummary,
    list_passkeys,
    remove_passkey,
    rename_passkey,
)
from idp.passkeys.options import PasskeyOptions
from idp.passkeys.registration import (
    VerifiedPasskey,
    begin_registration,
    clean_name,
    credential_id_hash,
    finish_registration,
    store_passkey,
    verify_registration,
)

__all__ = [
    "Challenge",
    "LastPasskeyError",
    "PasskeyOptions",
    "PasskeySummary",
    "VerifiedPasskey",
    "VerifiedPasskeySignIn",
    "begin_discoverable_authentication",
    "begin_identified_authentication",
    "begin_registration",
    "clean_name",
    "credential_id_hash",
    "fake_credential_ids",
    "finish_authentication",
    "finish_registration",
    "issue_challenge",
    "list_passkeys",
    "remove_passkey",
    "rename_passkey",
    "store_passkey",
    "take_challenge",
    "verify_registration",
]
