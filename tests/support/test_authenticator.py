"""The software authenticator's output is real WebAuthn that py_webauthn accepts or refuses."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers.cose import COSEAlgorithmIdentifier
from webauthn.helpers.exceptions import (
    InvalidAuthenticationResponse,
    InvalidRegistrationResponse,
)
from webauthn.helpers.structs import (
    AttestationFormat,
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)
from webauthn.registration.verify_registration_response import VerifiedRegistration

from tests.support.authenticator import (
    FLAG_UP,
    Algorithm,
    Attestation,
    InvalidStateError,
    NotAllowedError,
    NotSupportedError,
    SoftAuthenticator,
)

RP_ID = "localhost"
ORIGIN = "http://localhost:8080"
USER_ID = b"user-handle-of-alice"
REQUIRED = UserVerificationRequirement.REQUIRED
COSE_ALG = {"ES256": -7, "EdDSA": -8, "RS256": -257}


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _spki(public_key: Any) -> bytes:
    return public_key.public_bytes(  # type: ignore[no-any-return]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _register(
    authenticator: SoftAuthenticator,
    *,
    user_id: bytes = USER_ID,
    resident_key: ResidentKeyRequirement = ResidentKeyRequirement.REQUIRED,
    exclude: list[bytes] | None = None,
    attestation: Attestation = "none",
    origin: str = ORIGIN,
) -> VerifiedRegistration:
    options = generate_registration_options(
        rp_id=RP_ID,
        rp_name="Portcullis",
        user_name="alice",
        user_id=user_id,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=resident_key, user_verification=REQUIRED
        ),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=i) for i in exclude or []],
    )
    credential = authenticator.create(
        options_to_json(options),
        origin=origin,
        attestation=attestation,
    )
    return verify_registration_response(
        credential=credential,
        expected_challenge=options.challenge,
        expected_rp_id=RP_ID,
        expected_origin=ORIGIN,
        require_user_verification=True,
    )


def _authenticate(
    authenticator: SoftAuthenticator,
    registration: VerifiedRegistration,
    *,
    current_sign_count: int = 0,
    discoverable: bool = False,
    origin: str = ORIGIN,
    **tamper: Any,
) -> tuple[dict[str, Any], int]:
    """Sign in once; return the response JSON and the sign count py_webauthn accepted."""
    allow = [] if discoverable else [PublicKeyCredentialDescriptor(id=registration.credential_id)]
    options = generate_authentication_options(
        rp_id=RP_ID, allow_credentials=allow, user_verification=REQUIRED
    )
    credential = authenticator.get(options_to_json(options), origin=origin, **tamper)
    verified = verify_authentication_response(
        credential=credential,
        expected_challenge=options.challenge,
        expected_rp_id=RP_ID,
        expected_origin=ORIGIN,
        credential_public_key=registration.credential_public_key,
        credential_current_sign_count=current_sign_count,
        require_user_verification=True,
    )
    assert verified.credential_id == registration.credential_id
    return credential, verified.new_sign_count


@pytest.mark.parametrize("attestation", ["none", "packed"])
@pytest.mark.parametrize("algorithm", ["ES256", "EdDSA", "RS256"])
def test_registers_and_signs_in_with_each_algorithm(
    algorithm: Algorithm, attestation: Attestation
) -> None:
    authenticator = SoftAuthenticator(algorithm=algorithm)

    registration = _register(authenticator, attestation=attestation)
    _, first = _authenticate(authenticator, registration)
    _, second = _authenticate(authenticator, registration, current_sign_count=first)

    assert registration.fmt == AttestationFormat(attestation)
    assert registration.user_verified
    assert registration.sign_count == 0
    assert (first, second) == (1, 2)


@pytest.mark.parametrize("algorithm", ["ES256", "EdDSA", "RS256"])
def test_registration_response_has_browser_to_json_shape(algorithm: Algorithm) -> None:
    authenticator = SoftAuthenticator(algorithm=algorithm)
    options = json.loads(
        options_to_json(generate_registration_options(rp_id=RP_ID, rp_name="P", user_name="a"))
    )

    credential = authenticator.create(options, origin=ORIGIN)

    response = credential["response"]
    client_data = json.loads(_b64url_decode(response["clientDataJSON"]))
    public_key = serialization.load_der_public_key(_b64url_decode(response["publicKey"]))
    assert set(credential) == {
        "id", "rawId", "type", "response", "authenticatorAttachment", "clientExtensionResults"
    }
    assert credential["id"] == credential["rawId"]
    assert client_data == {
        "type": "webauthn.create",
        "challenge": options["challenge"],
        "origin": ORIGIN,
        "crossOrigin": False,
    }
    assert response["publicKeyAlgorithm"] == COSE_ALG[algorithm]
    assert response["transports"] == ["internal"]
    assert _spki(public_key) == _spki(authenticator.credentials[0].private_key.public_key())


def test_accepts_options_as_json_text_wrapped_in_public_key() -> None:
    authenticator = SoftAuthenticator()
    options = generate_registration_options(rp_id=RP_ID, rp_name="P", user_name="a")
    wrapped = json.dumps({"publicKey": json.loads(options_to_json(options))})

    credential = authenticator.create(wrapped, origin=ORIGIN)

    verified = verify_registration_response(
        credential=credential,
        expected_challenge=options.challenge,
        expected_rp_id=RP_ID,
        expected_origin=ORIGIN,
    )
    assert verified.credential_id == authenticator.credentials[0].credential_id


def test_unverified_user_is_refused_when_verification_required() -> None:
    honest = SoftAuthenticator()
    registration = _register(honest)

    with pytest.raises(InvalidRegistrationResponse, match="User verification is required"):
        _register(SoftAuthenticator(user_verification=False))
    with pytest.raises(InvalidAuthenticationResponse, match="User verification is required"):
        _authenticate(honest, registration, flags_override=FLAG_UP)


def test_absent_user_is_refused() -> None:
    authenticator = SoftAuthenticator()
    registration = _register(authenticator)
    absent = authenticator.clone()
    absent.user_present = False

    with pytest.raises(InvalidAuthenticationResponse, match="User was not present"):
        _authenticate(absent, registration)


def test_wrong_origin_is_refused() -> None:
    authenticator = SoftAuthenticator()
    registration = _register(authenticator)

    with pytest.raises(InvalidRegistrationResponse, match="origin"):
        _register(SoftAuthenticator(), origin="https://portcullis.evil.example")
    with pytest.raises(InvalidAuthenticationResponse, match="origin"):
        _authenticate(authenticator, registration, origin="https://evil.example")


def test_other_rp_id_hash_is_refused() -> None:
    authenticator = SoftAuthenticator()
    registration = _register(authenticator)

    with pytest.raises(InvalidAuthenticationResponse, match="RP ID hash"):
        _authenticate(authenticator, registration, rp_id_override="evil.example")


def test_refuses_to_register_an_excluded_credential_twice() -> None:
    authenticator = SoftAuthenticator()
    registration = _register(authenticator)

    with pytest.raises(InvalidStateError):
        _register(authenticator, exclude=[b"someone else's key", registration.credential_id])
    assert len(authenticator.credentials) == 1
    assert _register(SoftAuthenticator(), exclude=[registration.credential_id]).user_verified


def test_refuses_algorithm_the_relying_party_does_not_offer() -> None:
    options = generate_registration_options(
        rp_id=RP_ID,
        rp_name="P",
        user_name="a",
        supported_pub_key_algs=[COSEAlgorithmIdentifier.ECDSA_SHA_256],
    )

    with pytest.raises(NotSupportedError):
        SoftAuthenticator(algorithm="EdDSA").create(options_to_json(options), origin=ORIGIN)


def test_discoverable_sign_in_returns_user_handle() -> None:
    authenticator = SoftAuthenticator()
    registration = _register(authenticator)

    credential, _ = _authenticate(authenticator, registration, discoverable=True)

    assert _b64url_decode(credential["response"]["userHandle"]) == USER_ID


def test_discoverable_sign_in_picks_the_chosen_account() -> None:
    authenticator = SoftAuthenticator()
    alice = _register(authenticator, user_id=b"alice")
    _register(authenticator, user_id=b"bob")

    credential, _ = _authenticate(authenticator, alice, discoverable=True, user_handle=b"alice")

    assert _b64url_decode(credential["response"]["userHandle"]) == b"alice"


def test_new_discoverable_credential_replaces_the_users_old_one() -> None:
    authenticator = SoftAuthenticator()
    _register(authenticator)
    newer = _register(authenticator)

    assert [c.credential_id for c in authenticator.credentials] == [newer.credential_id]


def test_non_discoverable_credential_needs_allow_credentials() -> None:
    authenticator = SoftAuthenticator()
    registration = _register(authenticator, resident_key=ResidentKeyRequirement.DISCOURAGED)

    credential, _ = _authenticate(authenticator, registration)

    assert "userHandle" not in credential["response"]
    with pytest.raises(NotAllowedError):
        _authenticate(authenticator, registration, discoverable=True)


def test_refuses_to_sign_in_without_a_listed_credential() -> None:
    registration = _register(SoftAuthenticator())

    with pytest.raises(NotAllowedError):
        _authenticate(SoftAuthenticator(), registration)


def test_clone_reports_a_counter_that_does_not_increase() -> None:
    original = SoftAuthenticator()
    registration = _register(original)
    cloned = original.clone()
    _, stored_count = _authenticate(original, registration)

    with pytest.raises(InvalidAuthenticationResponse, match="sign count"):
        _authenticate(cloned, registration, current_sign_count=stored_count)


def test_zero_counter_stays_zero_and_is_accepted() -> None:
    authenticator = SoftAuthenticator(sign_count_mode="zero")
    registration = _register(authenticator)

    counts = [_authenticate(authenticator, registration)[1] for _ in range(3)]

    assert counts == [0, 0, 0]


def test_forged_lower_counter_is_refused() -> None:
    authenticator = SoftAuthenticator()
    registration = _register(authenticator)
    _, stored_count = _authenticate(authenticator, registration)

    with pytest.raises(InvalidAuthenticationResponse, match="sign count"):
        _authenticate(
            authenticator, registration, current_sign_count=stored_count, sign_count_override=1
        )
