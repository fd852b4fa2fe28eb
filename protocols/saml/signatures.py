"""Checking the signatures of inbound SAML messages against an SP's registered certificates.

Only the certificates registered for the SP are used, never a key or certificate carried in
the message itself. Two forms exist (SAML Bindings §3.4.4.1 and §3.5.4):

* HTTP-Redirect: ``SigAlg`` and ``Signature`` query parameters, the signature computed over
  the URL-encoded ``SAMLRequest=...&RelayState=...&SigAlg=...`` octets exactly as sent;
* HTTP-POST: an XML Signature enveloped in the message's root element (SAML Core §5.4),
  checked by the in-process ``xmlsec`` backend of :mod:`protocols.saml.crypto`.

SHA-1 is refused in both (XML Signature 1.1 §6.4 deprecates it for signatures). These
functions are CPU work: call them from a worker thread.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.sigver import SigverError

from protocols.saml.bindings import InboundMessage, SignedQuery
from protocols.saml.crypto import XmlSecBackend
from protocols.saml.errors import RequestDeniedError
from protocols.saml.registration import ServiceProviderConfig

__all__ = [
    "SIG_RSA_SHA256",
    "check_message_signature",
    "sign_redirect_octets",
    "verify_post_signature",
    "verify_redirect_signature",
]

_MORE = "http://www.w3.org/2001/04/xmldsig-more#"
SIG_RSA_SHA256 = _MORE + "rsa-sha256"
_HASHES: dict[str, tuple[str, type[hashes.HashAlgorithm]]] = {
    _MORE + "rsa-sha256": ("rsa", hashes.SHA256),
    _MORE + "rsa-sha384": ("rsa", hashes.SHA384),
    _MORE + "rsa-sha512": ("rsa", hashes.SHA512),
    _MORE + "ecdsa-sha256": ("ec", hashes.SHA256),
    _MORE + "ecdsa-sha384": ("ec", hashes.SHA384),
    _MORE + "ecdsa-sha512": ("ec", hashes.SHA512),
}

_verifier = XmlSecBackend()


def _public_key(pem: str) -> rsa.RSAPublicKey | ec.EllipticCurvePublicKey | None:
    key = x509.load_pem_x509_certificate(pem.encode("ascii")).public_key()
    return key if isinstance(key, (rsa.RSAPublicKey, ec.EllipticCurvePublicKey)) else None


def _verifies(key: object, kind: str, algorithm: hashes.HashAlgorithm,
              signature: bytes, octets: bytes) -> bool:
    try:
        if kind == "rsa" and isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, octets, padding.PKCS1v15(), algorithm)
            return True
        if kind == "ec" and isinstance(key, ec.EllipticCurvePublicKey):
            # XML Signature (RFC 4051 §3.3) carries ECDSA as r || s, not DER.
            half = len(signature) // 2
            der = encode_dss_signature(int.from_bytes(signature[:half], "big"),
                                       int.from_bytes(signature[half:], "big"))
            key.verify(der, octets, ec.ECDSA(algorithm))
            return True
    except (InvalidSignature, ValueError):
        return False
    return False


def verify_redirect_signature(signed: SignedQuery, certificates: Sequence[str]) -> None:
    """Raise :class:`RequestDeniedError` unless one certificate verifies the query signature.

    SAML Bindings §3.4.4.1: the signature covers the octets as received, so nothing is
    re-encoded here; :func:`protocols.saml.bindings.decode_redirect` kept them verbatim.
    """
    if signed.sig_alg not in _HASHES:
        raise RequestDeniedError(f"SigAlg {signed.sig_alg!r} is not an accepted algorithm")
    kind, hash_class = _HASHES[signed.sig_alg]
    for pem in certificates:
        key = _public_key(pem)
        if _verifies(key, kind, hash_class(), signed.signature, signed.octets):
            return
    raise RequestDeniedError(
        f"query signature ({signed.sig_alg}) verifies with none of "
        f"{len(certificates)} registered certificate(s)"
    )


def verify_post_signature(xml: bytes, *, node_name: str, node_id: str,
                          certificates: Sequence[str]) -> None:
    """Raise :class:`RequestDeniedError` unless the enveloped signature verifies.

    ``node_name`` is pysaml2's ``namespace:LocalName`` of the root element (for example
    ``urn:oasis:names:tc:SAML:2.0:protocol:AuthnRequest``); the backend refuses a signature
    whose Reference does not point at that element's ID (SAML Core §5.4.2).
    """
    reasons = []
    for pem in certificates:
        try:
            _verifier.validate_signature(xml, pem, "pem", node_name, node_id)
            return
        except SigverError as exc:
            reasons.append(str(exc))
    raise RequestDeniedError(
        f"enveloped signature verifies with none of {len(certificates)} registered "
        f"certificate(s): {'; '.join(reasons)[:300]}"
    )


def sign_redirect_octets(octets: bytes, key: rsa.RSAPrivateKey) -> bytes:
    """RSA-SHA256 signature of Redirect-binding octets (for LogoutResponses we send)."""
    return key.sign(octets, padding.PKCS1v15(), hashes.SHA256())


def check_message_signature(message: InboundMessage, sp: ServiceProviderConfig, *,
                            node_name: str, node_id: str, has_enveloped: bool) -> bool:
    """Verify the signature a message carries with the SP's certificates; True if signed.

    An SP registered as signing must sign, in the form its binding defines (query signature
    for HTTP-Redirect, enveloped for HTTP-POST). An SP that does not sign (Atlassian Data
    Center) is accepted unsigned; if it registered certificates anyway, a signature it does
    send must still verify. Without certificates a signature cannot be checked and is ignored.

    Known shortcoming: that unverifiable signature is ignored rather than refused; refusing it
    would be stricter (SAML Bindings §3.4.4.1 leaves it to the relying party) but breaks SPs
    that sign while registered from a preset without their certificate.
    """
    certificates = sp.signing_certificates
    if message.signed_query is not None and certificates:
        verify_redirect_signature(message.signed_query, certificates)
        return True
    if message.binding == BINDING_HTTP_POST and has_enveloped and certificates:
        verify_post_signature(message.xml, node_name=node_name, node_id=node_id,
                              certificates=certificates)
        return True
    if sp.authn_requests_signed:
        form = "SigAlg/Signature" if message.binding == BINDING_HTTP_REDIRECT else "enveloped"
        raise RequestDeniedError(f"{sp.entity_id} must sign its requests ({form} signature)")
    return False
