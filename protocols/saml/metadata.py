"""SAML metadata: the IdP's own descriptor, and reading an SP's to register it.

The IdP's is what an administrator pastes or points Jira or Confluence at.
Served at ``/realms/{realm}/protocol/saml/descriptor``: the entity ID ``<base>/realms/{realm}``,
the signing certificate, SingleSignOnService and SingleLogoutService for HTTP-Redirect and
HTTP-POST at ``/realms/{realm}/protocol/saml``, the NameID formats offered and
``WantAuthnRequestsSigned="false"`` (each SP's own registration says whether it must sign).

The document is not signed. An enveloped signature made with the very key the document
publishes proves nothing to a first-time reader, who must trust the HTTPS connection (or the
administrator who copied the file) either way; Atlassian SSO 2.0 and pysaml2 read it unsigned.
Signing with a separate metadata key is left for a federation that asks for it (SAML Metadata
§3, metadata signing).
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, md
from saml2.config import Config
from saml2.metadata import do_key_descriptor, entity_descriptor

from idp.errors import InvalidRequestError
from protocols.saml.bindings import parse_xml
from protocols.saml.errors import SamlError
from protocols.saml.registration import NAMEID_FORMAT_URNS, AssertionConsumerService

__all__ = ["MAX_METADATA_BYTES", "ServiceProviderMetadata", "descriptor_xml", "read_sp_metadata"]

MAX_METADATA_BYTES = 1024 * 1024
_MD = "urn:oasis:names:tc:SAML:2.0:metadata"
_DS = "http://www.w3.org/2000/09/xmldsig#"


def descriptor_xml(config: Config, *, certificate_base64: str) -> str:
    """The EntityDescriptor of an IdP configuration, with its signing certificate.

    pysaml2 reads the certificate from ``cert_file``; Portcullis keeps keys in the database,
    so the KeyDescriptor (SAML Metadata §2.4.1.1, ``use="signing"``) is added here.
    """
    descriptor: md.EntityDescriptor = entity_descriptor(config)
    roles = descriptor.idpsso_descriptor
    for role in roles if isinstance(roles, list) else [roles]:
        role.key_descriptor = do_key_descriptor(cert=certificate_base64, use="signing")
    body: bytes = descriptor.to_string()
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body.decode("utf-8")


@dataclass(frozen=True, slots=True)
class ServiceProviderMetadata:
    """What an SP's metadata says about it (SAML Metadata §2.4.4, SPSSODescriptor)."""

    entity_id: str
    acs: tuple[AssertionConsumerService, ...]
    authn_requests_signed: bool
    signing_certificates: tuple[str, ...]
    slo_url: str
    slo_binding: str
    nameid_format: str


def _pem(base64_der: str) -> str:
    body = "".join(base64_der.split())
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"


def _sp_descriptor(root: etree._Element, entity_id: str | None) -> etree._Element:
    if root.tag == f"{{{_MD}}}EntityDescriptor":
        entities = [root]
    elif root.tag == f"{{{_MD}}}EntitiesDescriptor":
        entities = root.findall(f".//{{{_MD}}}EntityDescriptor")
    else:
        raise InvalidRequestError(f"metadata root is {root.tag}; expected EntityDescriptor")
    chosen = [e for e in entities
              if e.find(f"{{{_MD}}}SPSSODescriptor") is not None
              and (entity_id is None or e.get("entityID") == entity_id)]
    if len(chosen) != 1:
        raise InvalidRequestError(
            f"metadata holds {len(chosen)} SAML service providers"
            + (f" with entity ID {entity_id!r}" if entity_id else "; name one with entity_id")
        )
    return chosen[0]


def read_sp_metadata(xml: bytes, *, entity_id: str | None = None) -> ServiceProviderMetadata:
    """Read an SP's metadata document (hardened parse: no DTD, no network, bounded size).

    The document's own signature is not checked: whoever imports it vouches for it, as an
    administrator who types the same values in would.
    """
    if len(xml) > MAX_METADATA_BYTES:
        raise InvalidRequestError(f"metadata of {len(xml)} bytes; at most {MAX_METADATA_BYTES}")
    try:
        root = parse_xml(xml)
    except SamlError as exc:
        raise InvalidRequestError(f"metadata is not usable XML: {exc}") from exc
    entity = _sp_descriptor(root, entity_id)
    role = entity.find(f"{{{_MD}}}SPSSODescriptor")
    assert role is not None  # _sp_descriptor chose an entity that has one

    acs = []
    for position, endpoint in enumerate(role.findall(f"{{{_MD}}}AssertionConsumerService")):
        try:
            index = int(endpoint.get("index", position))
        except ValueError as exc:
            raise InvalidRequestError(f"ACS index {endpoint.get('index')!r}") from exc
        acs.append(AssertionConsumerService(
            url=endpoint.get("Location", ""), binding=endpoint.get("Binding", ""), index=index,
            is_default=endpoint.get("isDefault") in ("true", "1")))

    certificates = []
    for key in role.findall(f"{{{_MD}}}KeyDescriptor"):
        if key.get("use") not in (None, "signing"):
            continue
        for cert in key.iterfind(f".//{{{_DS}}}X509Certificate"):
            certificates.append(_pem(cert.text or ""))

    slo_url, slo_binding = "", ""
    for endpoint in role.findall(f"{{{_MD}}}SingleLogoutService"):
        if endpoint.get("Binding") in (BINDING_HTTP_POST, BINDING_HTTP_REDIRECT):
            slo_url, slo_binding = endpoint.get("Location", ""), endpoint.get("Binding", "")
            break

    offered = [(f.text or "").strip() for f in role.findall(f"{{{_MD}}}NameIDFormat")]
    supported = [name for name, urn in NAMEID_FORMAT_URNS.items() if urn in offered]
    nameid_format = supported[0] if len(supported) == 1 else "unspecified"

    return ServiceProviderMetadata(
        entity_id=entity.get("entityID", ""), acs=tuple(acs),
        authn_requests_signed=role.get("AuthnRequestsSigned") in ("true", "1"),
        signing_certificates=tuple(certificates), slo_url=slo_url, slo_binding=slo_binding,
        nameid_format=nameid_format,
    )
