"""Real service providers for the SAML tests: pysaml2's ``Saml2Client`` and python3-saml.

``service_provider`` configures a ``Saml2Client`` exactly as Jira or Confluence Data Center
are set up against an IdP: entity ID = base URL, ACS ``<base>/plugins/servlet/samlconsumer``,
signed responses and assertions required, unsolicited responses allowed (IdP-initiated SSO),
the IdP known only from the metadata its descriptor endpoint serves. It signs and verifies
with the in-process backend, as the IdP does. ``onelogin_response`` validates the same
Response with python3-saml in strict mode, an independent second implementation.
"""

from __future__ import annotations

import base64
import datetime as dt
import zlib
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.metadata import do_key_descriptor, entity_descriptor
from saml2.saml import NAMEID_FORMAT_UNSPECIFIED

from protocols.saml.crypto import XmlSecBackend, install_backend, load_config

__all__ = [
    "CONFLUENCE",
    "JIRA",
    "NS",
    "Credential",
    "acs_of",
    "authn_request_xml",
    "credential",
    "deflate",
    "onelogin_response",
    "post_binding_fields",
    "post_form",
    "redirect_location",
    "redirect_query",
    "service_provider",
    "sp_metadata",
    "xml_of",
]

JIRA = "https://jira.example.com"
CONFLUENCE = "https://wiki.example.com/confluence"
NS = {
    "samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
    "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
    "md": "urn:oasis:names:tc:SAML:2.0:metadata",
}


def acs_of(base_url: str) -> str:
    """The Atlassian SSO 2.0 assertion consumer service under ``base_url``."""
    return base_url + "/plugins/servlet/samlconsumer"


@dataclass(frozen=True)
class Credential:
    """An SP's RSA key and self-signed certificate, PEM."""

    key_pem: bytes
    cert_pem: bytes

    @property
    def cert_text(self) -> str:
        return self.cert_pem.decode("ascii")

    def sign(self, octets: bytes) -> bytes:
        """RSA-SHA256 (PKCS #1 v1.5) over ``octets``, as a Redirect-binding signature."""
        key = serialization.load_pem_private_key(self.key_pem, password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        return key.sign(octets, padding.PKCS1v15(), hashes.SHA256())


def credential(name: str = "sp") -> Credential:
    """A fresh RSA-2048 key with a one-day self-signed certificate."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1)).sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return Credential(key_pem, cert.public_bytes(serialization.Encoding.PEM))


def service_provider(base_url: str, *, idp_metadata: str, signing: Credential | None = None,
                     name_id_format: str = NAMEID_FORMAT_UNSPECIFIED,
                     slo_url: str | None = None) -> Saml2Client:
    """A ``Saml2Client`` set up as Atlassian Data Center is, at ``base_url``."""
    endpoints: dict[str, Any] = {
        "assertion_consumer_service": [(acs_of(base_url), BINDING_HTTP_POST)],
    }
    if slo_url:
        endpoints["single_logout_service"] = [(slo_url, BINDING_HTTP_POST)]
    settings = {
        "entityid": base_url,
        "accepted_time_diff": 60,
        # Atlassian reads attributes by their plain Name: keep names pysaml2 has no map for.
        "allow_unknown_attributes": True,
        "service": {"sp": {
            "endpoints": endpoints,
            "want_response_signed": True,
            "want_assertions_signed": True,
            "allow_unsolicited": True,
            "authn_requests_signed": signing is not None,
            "name_id_format": name_id_format,
            "name_id_format_allow_create": False,
        }},
        "metadata": {"inline": [idp_metadata]},
    }
    client = Saml2Client(config=load_config(settings, entity_type="sp"))
    backend = (XmlSecBackend(key_pem=signing.key_pem, cert_pem=signing.cert_pem)
               if signing else XmlSecBackend())
    return install_backend(client, backend)


def redirect_location(client: Saml2Client, idp_entity_id: str, *,
                      relay_state: str = "", **kwargs: Any) -> tuple[str, str]:
    """(request ID, Location) of an AuthnRequest sent with the HTTP-Redirect binding."""
    request_id, info = client.prepare_for_authenticate(
        entityid=idp_entity_id, relay_state=relay_state, binding=BINDING_HTTP_REDIRECT,
        **kwargs)
    return request_id, dict(info["headers"])["Location"]


def xml_of(saml_response: str) -> etree._Element:
    """The XML of a base64 SAMLResponse form value."""
    return etree.fromstring(base64.b64decode(saml_response))


def onelogin_response(saml_response: str, *, sp_entity_id: str, idp_entity_id: str,
                      sso_url: str, idp_cert_base64: str, request_id: str | None = None) -> Any:
    """Validate a Response with python3-saml, strict: raises if anything is wrong."""
    from onelogin.saml2.response import OneLogin_Saml2_Response
    from onelogin.saml2.settings import OneLogin_Saml2_Settings

    acs = acs_of(sp_entity_id)
    settings = OneLogin_Saml2_Settings({
        "strict": True,
        "sp": {"entityId": sp_entity_id,
               "assertionConsumerService": {"url": acs, "binding": BINDING_HTTP_POST},
               "NameIDFormat": NAMEID_FORMAT_UNSPECIFIED},
        "idp": {"entityId": idp_entity_id,
                "singleSignOnService": {"url": sso_url, "binding": BINDING_HTTP_REDIRECT},
                "x509cert": idp_cert_base64},
        "security": {"wantAssertionsSigned": True, "wantMessagesSigned": True,
                     "requestedAuthnContext": False, "rejectDeprecatedAlgorithm": True},
    }, sp_validation_only=True)
    parts = urlsplit(acs)
    request_data: dict[str, Any] = {"https": "on", "http_host": parts.hostname,
                    "script_name": parts.path, "get_data": {}, "post_data": {}}
    response = OneLogin_Saml2_Response(settings, saml_response)
    response.is_valid(request_data, request_id=request_id, raise_exceptions=True)
    return response


def authn_request_xml(*, issuer: str = JIRA, request_id: str = "_4f0c1a2b3c",
                      version: str = "2.0", destination: str | None = None,
                      acs_url: str | None = None, acs_index: int | None = None,
                      issue_instant: dt.datetime | None = None, attributes: str = "",
                      children: str = "") -> bytes:
    """A hand-written AuthnRequest, for the inputs no SP library would produce."""
    instant = (issue_instant or dt.datetime.now(dt.timezone.utc)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    extra = attributes
    if destination is not None:
        extra += f' Destination="{destination}"'
    if acs_url is not None:
        extra += f' AssertionConsumerServiceURL="{acs_url}"'
    if acs_index is not None:
        extra += f' AssertionConsumerServiceIndex="{acs_index}"'
    return (
        f'<samlp:AuthnRequest xmlns:samlp="{NS["samlp"]}" xmlns:saml="{NS["saml"]}" '
        f'ID="{request_id}" Version="{version}" IssueInstant="{instant}"{extra}>'
        f"<saml:Issuer>{issuer}</saml:Issuer>{children}</samlp:AuthnRequest>"
    ).encode("utf-8")


def deflate(data: bytes) -> bytes:
    """Raw DEFLATE, as the HTTP-Redirect binding uses (no zlib header or checksum)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


def redirect_query(xml: bytes, *, relay_state: str | None = None) -> str:
    """``SAMLRequest=...[&RelayState=...]`` of the HTTP-Redirect binding."""
    query = "SAMLRequest=" + quote(base64.b64encode(deflate(xml)).decode(), safe="")
    if relay_state is not None:
        query += "&RelayState=" + quote(relay_state, safe="")
    return query


def post_form(xml: bytes, *, relay_state: str | None = None) -> dict[str, str]:
    """The form fields of the HTTP-POST binding."""
    form = {"SAMLRequest": base64.b64encode(xml).decode()}
    if relay_state is not None:
        form["RelayState"] = relay_state
    return form


def sp_metadata(client: Saml2Client, *, signing: Credential | None = None) -> bytes:
    """The SP's own metadata, as pysaml2 publishes it, with its signing certificate."""
    descriptor = entity_descriptor(client.config)
    if signing is not None:
        body = "".join(line for line in signing.cert_text.strip().splitlines()
                       if not line.startswith("-----"))
        descriptor.spsso_descriptor.key_descriptor = do_key_descriptor(cert=body, use="signing")
    return descriptor.to_string()


class _Inputs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "input" and attributes.get("name"):
            self.fields[attributes["name"] or ""] = attributes.get("value") or ""


def post_binding_fields(info: dict[str, Any]) -> dict[str, str]:
    """The hidden fields of the auto-posting form pysaml2 makes for the HTTP-POST binding."""
    reader = _Inputs()
    reader.feed(info["data"])
    return reader.fields
