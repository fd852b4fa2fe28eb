"""The registration ceremony: a person creates a passkey for this relying party.

Options go to the browser with user verification and a discoverable credential required, the
person's other credentials excluded, and no attestation asked for. The response is verified by
py_webauthn against the challenge taken from the TTL store, the configured origin and RP ID.

WebAuthn Level 3 §7.1: https://www.w3.org/TR/webauthn-3/#sctn-registering-a-new-credential
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError
from webauthn import generate_registration_options, verify_registration_response
from webauthn.helpers import (
    options_to_json_dict,
    parse_authenticator_data,
    parse_registration_credential_json,
)
from webauthn.helpers.encode_cbor import encode_cbor
from webauthn.helpers.exceptions import InvalidCBORData, WebAuthnException
from webauthn.helpers.parse_cbor import parse_cbor
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorSelectionCriteria,
    CredentialDeviceType,
    RegistrationCredential,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from idp.errors import ConflictError, PasskeyError
from idp.models import PasskeyCredential, Realm, User
from idp.passkeys.challenges import issue_challenge, take_challenge
from idp.passkeys.options import PasskeyOptions, descriptors
from idp.passkeys.public_keys import load_credential_public_key
from idp.passkeys.responses import load_response_json
from idp.settings import Settings
from idp.ttl import TtlStore

__all__ = [
    "VerifiedPasskey",
    "begin_registration",
    "clean_name",
    "credential_id_hash",
    "finish_registration",
    "store_passkey",
    "verify_registration",
]

DEFAULT_NAME = "Passkey"
NAME_MAX = 100


@dataclass(frozen=True, slots=True)
class VerifiedPasskey:
    """A new credential whose registration response passed every check, not yet stored."""

    user_id: int
    credential_id: bytes
    public_key: bytes
    sign_count: int
    aaguid: str
    transports: tuple[str, ...]
    backup_eligible: bool
    backed_up: bool


def credential_id_hash(credential_id: bytes) -> str:
    """The SHA-256 (hex) of a credential ID: the unique key a credential is found by."""
    return hashlib.sha256(credential_id).hexdigest()


async def begin_registration(
    store: TtlStore, *, settings: Settings, realm: Realm, user: User, context: str,
) -> PasskeyOptions:
    """Options for ``navigator.credentials.create()`` and the handle of their challenge.

    ``context`` binds the challenge to what started the ceremony (an enrolment link's hash,
    the SSO session's index). The user handle is the person's one stable ``user_handle``
    (§5.4.3), so every credential of a person answers to the same account.
    """
    existing = await PasskeyCredential.filter(user_id=user.id).values_list(
        "credential_id", "transports"
    )
    challenge = await issue_challenge(
        store, realm=realm.name, purpose="registration", context=context, user_id=user.id,
        ttl_seconds=settings.challenge_ttl_seconds,
    )
    options = generate_registration_options(
        rp_id=settings.rp_id,
        rp_name=realm.display_name or realm.name,
        user_id=bytes(user.user_handle),
        user_name=user.username,
        user_display_name=user.display_name or user.username,
        challenge=challenge.value,
        timeout=settings.challenge_ttl_seconds * 1000,
        attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=descriptors(existing),
    )
    return PasskeyOptions(handle=challenge.handle, options=options_to_json_dict(options))


async def verify_registration(
    store: TtlStore, *, settings: Settings, realm: Realm, user: User, handle: str,
    context: str, response: str | dict[str, Any],
) -> VerifiedPasskey:
    """Check a RegistrationResponseJSON as §7.1 says; nothing is stored yet.

    The challenge is taken first, so a failed response cannot be retried with it. User
    verification is required (§7.1 step 15), origin and RP ID must match exactly (steps 9, 13).
    """
    challenge = await take_challenge(
        store, realm=realm.name, handle=handle, purpose="registration", context=context,
    )

    if challenge.user_id != user.id:
        raise PasskeyError("registration challenge was issued for another user")

    credential = _parse(response)
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge.value,
            expected_rp_id=settings.rp_id,
            expected_origin=settings.origin,
            require_user_presence=True,
            require_user_verification=True,
        )
    except WebAuthnException as exc:
        raise PasskeyError(f"registration response refused: {exc}") from exc

    return VerifiedPasskey(
        user_id=user.id,
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        aaguid=verified.aaguid,
        transports=tuple(t.value for t in credential.response.transports or ()),
        backup_eligible=verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE,
        backed_up=verified.credential_backed_up,
    )


async def store_passkey(verified: VerifiedPasskey, *, name: str = "") -> PasskeyCredential:
    """Register the credential to its user; a credential ID is never registered twice.

    §7.1 step 25: https://www.w3.org/TR/webauthn-3/#reg-ceremony-verify-credential-id
    """
    try:
        return await PasskeyCredential.create(
            user_id=verified.user_id,
            credential_id=verified.credential_id,
            credential_id_hash=credential_id_hash(verified.credential_id),
            public_key=verified.public_key,
            sign_count=verified.sign_count,
            transports=list(verified.transports),
            aaguid=verified.aaguid,
            name=clean_name(name),
            backup_eligible=verified.backup_eligible,
            backed_up=verified.backed_up,
        )
    except IntegrityError as exc:
        raise ConflictError(
            "credential ID already registered",
            public_message="This passkey is already registered.",
        ) from exc


async def finish_registration(
    store: TtlStore, *, settings: Settings, realm: Realm, user: User, handle: str,
    context: str, response: str | dict[str, Any], name: str = "",
) -> PasskeyCredential:
    """Verify a registration response and store the new credential."""
    verified = await verify_registration(
        store, settings=settings, realm=realm, user=user, handle=handle, context=context,
        response=response,
    )
    return await store_passkey(verified, name=name)


def clean_name(name: str) -> str:
    """A passkey's display name: printable, trimmed, at most 100 characters."""
    printable = "".join(ch for ch in name if ch.isprintable()).strip()
    return printable[:NAME_MAX] or DEFAULT_NAME


def _parse(response: str | dict[str, Any]) -> RegistrationCredential:
    """Parse the response and set aside its attestation statement.

    Attestation "none" was asked for (§5.4.7) and no attestation root is trusted, so whatever
    statement an authenticator still sends proves nothing here: it is replaced by the ``none``
    format (as browsers do themselves), and any format is accepted. Every other check of §7.1
    still runs on the authenticator data and client data.

    Since no attestation vouches for it, the attested credential public key must load as a
    key of its algorithm before py_webauthn (whose COSE decoding raises ``KeyError`` and the
    like on a malformed key) or the database sees it (§7.1 steps 24-26).
    """
    value = load_response_json(response, kind="registration")
    try:
        credential = parse_registration_credential_json(value)
        attestation = _attestation_map(credential.response.attestation_object)
        attested = parse_authenticator_data(attestation["authData"]).attested_credential_data
    except WebAuthnException as exc:
        raise PasskeyError(f"registration response malformed: {exc}") from exc

    if attested is None:
        raise PasskeyError("registration response without attested credential data (AT unset)")
    load_credential_public_key(attested.credential_public_key)

    attestation_object = _none_attestation(attestation)
    return dataclasses.replace(
        credential,
        response=dataclasses.replace(credential.response, attestation_object=attestation_object),
    )


def _attestation_map(raw: bytes) -> dict[Any, Any]:
    """The attestation object as a CBOR map (§6.5.4), or a py_webauthn error."""
    decoded = parse_cbor(raw)
    if not isinstance(decoded, dict) or not isinstance(decoded.get("authData"), bytes):
        raise InvalidCBORData("attestation object has no authData")
    return decoded


def _none_attestation(attestation: dict[Any, Any]) -> bytes:
    """Re-encode an attestation object as format ``none`` with an empty statement (§8.7)."""
    return encode_cbor({"fmt": "none", "attStmt": {}, "authData": attestation["authData"]})
