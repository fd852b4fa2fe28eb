"""Checking inbound signatures with the SP's registered certificates only."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT

from protocols.saml.bindings import InboundMessage, SignedQuery, decode_post, decode_redirect
from protocols.saml.errors import RequestDeniedError
from protocols.saml.idp import IdentityProvider
from protocols.saml.registration import AssertionConsumerService, ServiceProviderConfig
from protocols.saml.signatures import (
    check_message_signature,
    verify_post_signature,
    verify_redirect_signature,
)
from tests.protocols.saml.spkit import (
    Credential,
    acs_of,
    credential,
    post_binding_fields,
    redirect_location,
    service_provider,
)

APP = "https://app.example.com"
MORE = "http://www.w3.org/2001/04/xmldsig-more#"
AUTHN_REQUEST = "urn:oasis:names:tc:SAML:2.0:protocol:AuthnRequest"


def _registration(*certificates: str, signing: bool = True) -> ServiceProviderConfig:
    return ServiceProviderConfig(
        id=1, realm="master", name="app", entity_id=APP,
        acs=(AssertionConsumerService(acs_of(APP), BINDING_HTTP_POST, 0, True),),
        attribute_mapping=(), nameid_format="unspecified", authn_requests_signed=signing,
        signing_certificates=certificates, slo_url="", slo_binding="", preset="generic",
        enabled=True)


@pytest.fixture
def key() -> Credential:
    return credential("app")


def _signed_redirect(identity_provider: IdentityProvider, key: Credential,
                     sigalg: str = MORE + "rsa-sha256") -> InboundMessage:
    sp = service_provider(APP, idp_metadata=identity_provider.metadata_xml, signing=key)
    _, location = redirect_location(sp, identity_provider.entity_id, relay_state="/x",
                                    sign=True, sigalg=sigalg)
    return decode_redirect(location.split("?", 1)[1].encode())


def test_a_redirect_signature_verifies_with_the_registered_certificate(
    identity_provider: IdentityProvider, key: Credential
) -> None:
    message = _signed_redirect(identity_provider, key)
    assert message.signed_query is not None

    verify_redirect_signature(message.signed_query, [credential("old").cert_text, key.cert_text])


def test_a_redirect_signature_from_another_key_is_refused(identity_provider: IdentityProvider,
                                                          key: Credential) -> None:
    message = _signed_redirect(identity_provider, key)
    assert message.signed_query is not None

    with pytest.raises(RequestDeniedError, match="verifies with none"):
        verify_redirect_signature(message.signed_query, [credential("eve").cert_text])


def test_sha1_redirect_signatures_are_refused(identity_provider: IdentityProvider,
                                              key: Credential) -> None:
    sha1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
    message = _signed_redirect(identity_provider, key, sha1)
    assert message.signed_query is not None

    with pytest.raises(RequestDeniedError, match="not an accepted algorithm"):
        verify_redirect_signature(message.signed_query, [key.cert_text])


def test_an_ecdsa_redirect_signature_in_xmldsig_form_verifies() -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ec")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(private.public_key()).serial_number(1).not_valid_before(now)
            .not_valid_after(now + dt.timedelta(days=1)).sign(private, hashes.SHA256()))
    octets = b"SAMLRequest=abc&SigAlg=" + (MORE + "ecdsa-sha256").encode()
    r, s = decode_dss_signature(private.sign(octets, ec.ECDSA(hashes.SHA256())))
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()

    verify_redirect_signature(SignedQuery(octets, MORE + "ecdsa-sha256", raw), [pem])
    with pytest.raises(RequestDeniedError):
        verify_redirect_signature(SignedQuery(octets + b"x", MORE + "ecdsa-sha256", raw), [pem])


def _signed_post(identity_provider: IdentityProvider, key: Credential) -> tuple[str, bytes]:
    sp = service_provider(APP, idp_metadata=identity_provider.metadata_xml, signing=key)
    request_id, info = sp.prepare_for_authenticate(
        entityid=identity_provider.entity_id, binding=BINDING_HTTP_POST, sign=True,
        sigalg=MORE + "rsa-sha256")
    return request_id, base64.b64decode(post_binding_fields(info)["SAMLRequest"])


def test_an_enveloped_signature_verifies_and_tampering_is_refused(
    identity_provider: IdentityProvider, key: Credential
) -> None:
    request_id, xml = _signed_post(identity_provider, key)

    verify_post_signature(xml, node_name=AUTHN_REQUEST, node_id=request_id,
                          certificates=[key.cert_text])
    tampered = xml.replace(b"https://app.example.com/plugins", b"https://evil.example.com/plu")
    with pytest.raises(RequestDeniedError):
        verify_post_signature(tampered, node_name=AUTHN_REQUEST, node_id=request_id,
                              certificates=[key.cert_text])


def test_a_signing_sp_must_sign(identity_provider: IdentityProvider, key: Credential) -> None:
    unsigned = InboundMessage("SAMLRequest", b"<x/>", BINDING_HTTP_REDIRECT, None)

    with pytest.raises(RequestDeniedError, match="must sign"):
        check_message_signature(unsigned, _registration(key.cert_text), node_name=AUTHN_REQUEST,
                                node_id="x", has_enveloped=False)
    assert not check_message_signature(unsigned, _registration(signing=False),
                                       node_name=AUTHN_REQUEST, node_id="x",
                                       has_enveloped=False)


def test_a_signature_is_checked_when_certificates_are_registered_even_if_not_required(
    identity_provider: IdentityProvider, key: Credential
) -> None:
    request_id, xml = _signed_post(identity_provider, key)
    message = decode_post(b"SAMLRequest=" + base64.b64encode(xml).replace(b"+", b"%2B"))
    stranger = _registration(credential("eve").cert_text, signing=False)

    assert check_message_signature(message, _registration(key.cert_text, signing=False),
                                   node_name=AUTHN_REQUEST, node_id=request_id,
                                   has_enveloped=True)
    with pytest.raises(RequestDeniedError):
        check_message_signature(message, stranger, node_name=AUTHN_REQUEST, node_id=request_id,
                                has_enveloped=True)
    # Without any certificate a signature cannot be checked, and the SP does not sign.
    assert not check_message_signature(message, _registration(signing=False),
                                       node_name=AUTHN_REQUEST, node_id=request_id,
                                       has_enveloped=True)
