"""In-process XML Signature for pysaml2, on the python ``xmlsec`` binding.

pysaml2 signs and verifies by running the ``xmlsec1`` program, one process per signature. This
module gives it a ``CryptoBackend`` that does the same work in process, with the signing key
parsed once, so an IdP signs a Response and its Assertion in a few milliseconds and no machine
needs the program. It follows the SAML profile of XML Signature (SAML Core §5.4): enveloped
signatures, one Reference pointing at the signed element's ``ID``, exclusive canonicalization,
and SHA-2 algorithms only.

Errors are Portcullis errors and pysaml2 ``SigverError``s at once, so pysaml2's own handling
keeps working (it tries the next trusted certificate on any ``XmlsecError``)::

    PortcullisError + saml2.sigver.SigverError
    └── SamlCryptoError                 base of this module
        ├── KeyUnusable                 a key or certificate could not be loaded
        ├── EncryptionNotSupported      XML Encryption was asked for
        ├── SigningFailed               also a pysaml2 SignatureError
        └── SignatureRefused            also a pysaml2 SignatureError (hence XmlsecError)
"""

from __future__ import annotations

import base64
import functools
import re
import threading
from collections.abc import Mapping
from typing import Any, Literal, TypeVar

import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from lxml import etree
from saml2 import SamlBase
from saml2.config import Config
from saml2.config import IdPConfig
from saml2.config import SPConfig
from saml2.entity import Entity
from saml2.sigver import CryptoBackend
from saml2.sigver import RSACrypto
from saml2.sigver import SecurityContext
from saml2.sigver import SignatureError
from saml2.sigver import SigverError
from saml2.xmldsig import DIGEST_SHA256
from saml2.xmldsig import SIG_RSA_SHA256

from idp.errors import PortcullisError

# The binding's type stubs lag it: KeyFormat and get_libxmlsec_version exist at run time.
_xmlsec: Any = xmlsec

__all__ = [
    "EncryptionNotSupported",
    "KeyUnusable",
    "SamlCryptoError",
    "SignatureRefused",
    "SigningFailed",
    "XmlSecBackend",
    "install_backend",
    "load_config",
    "make_security_context",
]

_DS = "http://www.w3.org/2000/09/xmldsig#"
_SIGNATURE = f"{{{_DS}}}Signature"
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")

_T = xmlsec.constants
# SAML Core §5.4.3-4: exclusive c14n and the enveloped-signature transform only; SHA-1 and
# MD5 are refused in both directions (XML Signature 1.1 §6.1 deprecates SHA-1 for signing).
_C14N = (_T.TransformExclC14N, _T.TransformExclC14NWithComments)
_SIGNATURE_METHODS = (
    _T.TransformRsaSha256, _T.TransformRsaSha384, _T.TransformRsaSha512,
    _T.TransformEcdsaSha256, _T.TransformEcdsaSha384, _T.TransformEcdsaSha512,
)
_DIGEST_METHODS = (_T.TransformSha256, _T.TransformSha384, _T.TransformSha512)
_SIGNATURE_TRANSFORMS = _C14N + _SIGNATURE_METHODS
_REFERENCE_TRANSFORMS = (_T.TransformEnveloped,) + _C14N + _DIGEST_METHODS
_ALLOWED_HREFS = frozenset(t.href for t in _SIGNATURE_TRANSFORMS + _REFERENCE_TRANSFORMS)

_thread_local = threading.local()


class SamlCryptoError(PortcullisError, SigverError):
    """Base of this module's errors; a pysaml2 ``SigverError`` so pysaml2 callers catch it."""

    status_code = 500
    public_message = "A SAML message could not be signed or checked."


class KeyUnusable(SamlCryptoError):
    """A private key or certificate could not be loaded."""


class EncryptionNotSupported(SamlCryptoError):
    """XML Encryption was requested; this backend does not provide it."""


class SigningFailed(SamlCryptoError, SignatureError):
    """A statement could not be signed (bad template, weak algorithm, no key)."""


class SignatureRefused(SamlCryptoError, SignatureError):
    """A signature did not verify or broke the SAML signature profile (SAML Core §5.4)."""

    status_code = 400
    public_message = "The signature on the SAML message is not valid."


_E = TypeVar("_E", SigningFailed, SignatureRefused)


def _as_bytes(data: bytes | str) -> bytes:
    return data.encode("ascii") if isinstance(data, str) else data


def _parser() -> etree.XMLParser:
    """One hardened parser per thread: lxml parsers must not be shared between threads."""
    parser = getattr(_thread_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
        )
        _thread_local.parser = parser
    return parser


def _parse(document: str | bytes, error: type[_E]) -> etree._Element:
    """Parse a SAML document, refusing any DOCTYPE.

    A DTD can declare which attributes are IDs and define entities, both of which change
    what a signature appears to cover (W3C XML Signature Best Practices, on DTDs); SAML's
    schemas need none, so the project refuses every inbound DTD.
    """
    if isinstance(document, str):
        # The text is already decoded: drop a declaration that would name an encoding.
        document = _XML_DECLARATION.sub("", document, count=1)
    try:
        root = etree.fromstring(document, parser=_parser())
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise error(f"document is not well-formed XML: {exc}") from exc
    if root.getroottree().docinfo.doctype or root.getroottree().docinfo.internalDTD is not None:
        raise error("document carries a DOCTYPE; SAML messages must not")
    return root


def _clark(node_name: str) -> str:
    """Turn pysaml2's ``namespace:LocalName`` into lxml's ``{namespace}LocalName``."""
    namespace, _, local = node_name.rpartition(":")
    return f"{{{namespace}}}{local}"


def _enveloped_signature(
    root: etree._Element, node_name: str, node_id: str | None, error: type[_E]
) -> tuple[etree._Element, etree._Element]:
    """Find the element named by ``node_id`` and the one Signature it envelops.

    Refuses duplicated IDs, a Signature that is not a direct child, and a Reference that
    points anywhere but the element itself: the defences against signature wrapping
    (SAML Core §5.4.2: one Reference whose URI is ``#`` and the enclosing element's ID).
    """
    if node_id is None:
        targets = [root]
        node_id = root.get("ID")
    else:
        targets = root.xpath("//*[@ID=$i or @xml:id=$i]", i=node_id)
    if len(targets) != 1:
        raise error(f"expected one element with ID {node_id!r}, found {len(targets)}")
    target = targets[0]
    if target.tag != _clark(node_name):
        raise error(f"element with ID {node_id!r} is {target.tag}, expected {node_name}")

    signatures = target.findall(_SIGNATURE)
    if len(signatures) != 1:
        raise error(f"expected one enveloped Signature, found {len(signatures)}")
    signature = signatures[0]

    references = signature.findall(f"{{{_DS}}}SignedInfo/{{{_DS}}}Reference")
    if len(references) != 1:
        raise error(f"expected one Reference in SignedInfo, found {len(references)}")
    uri = references[0].get("URI")
    if uri != f"#{node_id}":
        raise error(f"Reference URI is {uri!r}, expected '#{node_id}'")
    if signature.find(f"{{{_DS}}}Object") is not None:
        raise error("Signature carries a ds:Object, which SAML signatures must not")
    return target, signature


def _check_algorithms(signature: etree._Element, error: type[_E]) -> None:
    """Name a refused algorithm plainly instead of leaving it to a libxmlsec error."""
    for node in signature.iterfind(f"{{{_DS}}}SignedInfo//*[@Algorithm]"):
        if node.get("Algorithm") not in _ALLOWED_HREFS:
            local = etree.QName(node).localname
            raise error(f"{local} {node.get('Algorithm')} is not allowed")


@functools.lru_cache(maxsize=64)
def _load_key(data: bytes, key_format: int) -> xmlsec.Key:
    """Parse key material once; pysaml2 hands over the same few certificates again and again.

    The cache is thread-safe and the keys in it are only read (see ``XmlSecBackend``).
    """
    try:
        return xmlsec.Key.from_memory(data, key_format)
    except xmlsec.Error as exc:
        raise KeyUnusable("could not load key or certificate (expected PEM)") from exc


def _read_pem(value: str) -> bytes:
    """pysaml2 hands over a file name; some callers hand over the PEM itself."""
    if value.lstrip().startswith("-----BEGIN"):
        return value.encode("ascii")
    try:
        with open(value, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise KeyUnusable(f"could not read key or certificate file {value!r}") from exc


def _certificate_body(cert_pem: bytes) -> str:
    """The base64 DER of the first certificate: what pysaml2 puts in KeyInfo and metadata."""
    try:
        certificate = x509.load_pem_x509_certificate(cert_pem)
    except ValueError as exc:
        raise KeyUnusable("could not load the signing certificate (expected PEM)") from exc
    return base64.b64encode(certificate.public_bytes(Encoding.DER)).decode("ascii")


def _load_private_key(key_pem: bytes) -> PrivateKeyTypes:
    try:
        # The key is the IdP's own and trusted; the RSA self-check would cost ~60 ms.
        return load_pem_private_key(key_pem, password=None, unsafe_skip_rsa_key_validation=True)
    except (TypeError, ValueError) as exc:
        raise KeyUnusable("could not load the signing key (expected unencrypted PEM)") from exc


class XmlSecBackend(CryptoBackend):
    """A pysaml2 ``CryptoBackend`` that signs and verifies in process.

    ``key_pem`` (unencrypted PEM, RSA or EC) is parsed once, here; every ``sign_statement``
    that names no other key uses it. ``cert_pem`` is the matching certificate, which pysaml2
    puts into each Signature's KeyInfo. Both may be omitted for a verify-only (SP) backend.
    Build one per signing key and keep it: construction takes well under a millisecond.
    One instance is safe to share between threads: each call makes its own signature
    context, and the shared keys are only read (libxmlsec duplicates a key into each context
    and releases the GIL while it signs or verifies).
    """

    def __init__(
        self, *, key_pem: bytes | str | None = None, cert_pem: bytes | str | None = None
    ) -> None:
        super().__init__()
        self.certificate: str | None = _certificate_body(_as_bytes(cert_pem)) if cert_pem else None
        self._key = _load_key(_as_bytes(key_pem), _xmlsec.KeyFormat.PEM) if key_pem else None
        self._rsa_key: RSAPrivateKey | None = None
        if key_pem:
            private = _load_private_key(_as_bytes(key_pem))
            if isinstance(private, RSAPrivateKey):
                self._rsa_key = private

    @property
    def version(self) -> str:
        return ".".join(str(part) for part in _xmlsec.get_libxmlsec_version())

    @property
    def rsa_crypto(self) -> RSACrypto:
        """pysaml2's signer and verifier for query-string signatures (SAML Bindings §3.4.4.1).

        Without an RSA key (a verify-only backend, or an EC key) it can only verify.
        """
        # Known shortcoming: pysaml2 signs query strings with RSA only, so an EC signing key
        # cannot sign HTTP-Redirect messages (SAML Bindings §3.4.4.1); XML signatures work.
        return RSACrypto(self._rsa_key)

    def _signing_key(self, key_file: str | None) -> xmlsec.Key:
        if not key_file:
            if self._key is None:
                raise SigningFailed("this backend holds no signing key")
            return self._key
        # pysaml2 wrote an explicitly passed key to a temporary file: read it, parse it once.
        return _load_key(_read_pem(key_file), _xmlsec.KeyFormat.PEM)

    def sign_statement(
        self,
        statement: str | bytes | SamlBase,
        node_name: str,
        key_file: str | None,
        node_id: str | None,
    ) -> str:
        """Fill in the Signature template pysaml2 placed in the element ``node_id``.

        pysaml2 chooses the algorithms when it writes the template (its ``signing_algorithm``
        and ``digest_algorithm`` settings); a SHA-1 template is refused, not signed.
        """
        if isinstance(statement, SamlBase):
            statement = statement.to_string()
        root = _parse(statement, SigningFailed)
        target, signature = _enveloped_signature(root, node_name, node_id, SigningFailed)
        _check_algorithms(signature, SigningFailed)

        context = xmlsec.SignatureContext()
        context.key = self._signing_key(key_file)
        try:
            context.register_id(target, "ID")
            context.sign(signature)
        except xmlsec.Error as exc:
            raise SigningFailed(f"libxmlsec could not sign {node_name}: {exc}") from exc
        return str(etree.tostring(root, encoding="unicode"))

    def validate_signature(
        self,
        signedtext: str | bytes,
        cert_file: str,
        cert_type: str,
        node_name: str,
        node_id: str | None,
    ) -> bool:
        """Verify the enveloped signature of element ``node_id`` with one certificate.

        Returns True or raises ``SignatureRefused``; pysaml2 then tries its next trusted
        certificate and finally raises its own ``SignatureError``. KeyInfo in the document is
        never used: only the certificate passed in (from metadata) can make it verify.
        """
        root = _parse(signedtext, SignatureRefused)
        target, signature = _enveloped_signature(root, node_name, node_id, SignatureRefused)
        _check_algorithms(signature, SignatureRefused)

        context = xmlsec.SignatureContext()
        context.key = self._certificate_key(cert_file, cert_type)
        for transform in _SIGNATURE_TRANSFORMS:
            context.enable_signature_transform(transform)
        for transform in _REFERENCE_TRANSFORMS:
            context.enable_reference_transform(transform)
        try:
            context.register_id(target, "ID")
            context.verify(signature)
        except xmlsec.Error as exc:
            raise SignatureRefused(f"signature of {node_name} does not verify: {exc}") from exc
        return True

    def _certificate_key(self, cert_file: str, cert_type: str) -> xmlsec.Key:
        formats = {"pem": _xmlsec.KeyFormat.CERT_PEM, "der": _xmlsec.KeyFormat.CERT_DER}
        if cert_type not in formats:
            raise SignatureRefused(f"certificate type {cert_type!r}; expected pem or der")
        return _load_key(_read_pem(cert_file), formats[cert_type])

    def encrypt(self, text: str, recv_key: str, template: str, key_type: str) -> str:
        # Not yet: Portcullis does not encrypt assertions (SAML Core §2.3.4, §6).
        raise EncryptionNotSupported("XML Encryption is not supported by this backend")

    def encrypt_assertion(self, *args: Any, **kwargs: Any) -> str:
        # Not yet: Portcullis does not encrypt assertions (SAML Core §2.3.4, §6).
        raise EncryptionNotSupported("assertion encryption is not supported by this backend")

    def decrypt(self, enctext: str, key_file: str) -> str:
        # Not yet: an upstream IdP that encrypts assertions cannot be brokered (SAML Core §6).
        # Deliberately not an XmlsecError, so pysaml2 does not swallow it as "wrong key".
        raise EncryptionNotSupported("XML decryption is not supported by this backend")


def load_config(cnf: Mapping[str, Any], *, entity_type: Literal["idp", "sp"]) -> Config:
    """Load a pysaml2 configuration that does not look for the ``xmlsec1`` program.

    pysaml2 builds a security context while loading metadata and again in every entity's
    constructor, and with its default ``crypto_backend`` that demands the program. Here it
    is set to pysaml2's other backend, which costs nothing to build and is replaced by
    ``install_backend`` before any signature is made or checked. Signing defaults to
    RSA-SHA256 with SHA-256 digests unless the configuration says otherwise.

    Known shortcoming: pysaml2 helpers that build a context of their own from the
    configuration (``saml2.response.response_factory``, ``create_metadata_string(sign=True)``,
    signed remote metadata in ``MetadataStore``) get that placeholder, which fails loudly
    with this python ``xmlsec``; go through an installed entity's ``.sec`` instead.
    """
    settings = dict(cnf)
    if settings.get("xmlsec_binary"):
        raise SamlCryptoError("xmlsec_binary is set; this configuration signs in process")
    settings["crypto_backend"] = "XMLSecurity"
    # pysaml2 reads the algorithms from the service section, metadata signing from the top.
    service = dict(settings.get("service", {}))
    service[entity_type] = section = dict(service.get(entity_type, {}))
    settings["service"] = service
    for where in (settings, section):
        where.setdefault("signing_algorithm", SIG_RSA_SHA256)
        where.setdefault("digest_algorithm", DIGEST_SHA256)
    config = IdPConfig() if entity_type == "idp" else SPConfig()
    config.load(settings)
    return config


def make_security_context(config: Config, backend: XmlSecBackend) -> SecurityContext:
    """Build the pysaml2 ``SecurityContext`` of ``config`` around ``backend``.

    Mirrors ``saml2.sigver.security_context`` but takes the key and certificate from the
    backend, so no key file is read per context and the context is cheap to build.
    """
    context = SecurityContext(
        backend,
        key_file="",
        cert_file="",
        metadata=getattr(config, "metadata", None),
        only_use_keys_in_metadata=config.only_use_keys_in_metadata,
        validate_certificate=config.validate_certificate,
        enc_key_files=[],
        encryption_keypairs=config.encryption_keypairs,
        sec_backend=backend.rsa_crypto,
        delete_tmpfiles=config.delete_tmpfiles,
    )
    context.my_cert = backend.certificate
    return context


_Entity = TypeVar("_Entity", bound=Entity)


def install_backend(entity: _Entity, backend: XmlSecBackend) -> _Entity:
    """Make a pysaml2 ``Server`` or ``Saml2Client`` sign and verify with ``backend``."""
    entity.sec = make_security_context(entity.config, backend)
    return entity
