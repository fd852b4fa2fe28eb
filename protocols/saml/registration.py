"""What a service provider registration holds, how it is validated, and its frozen view.

Every row written to ``saml_service_provider`` (by :mod:`protocols.saml.registry`) has passed
:func:`validate_spec`, so the SSO code can trust it: absolute ACS URLs, exactly one default
ACS, known NameID formats and user properties, and parseable signing certificates whenever the
SP is registered as signing. No database access here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS
from saml2.saml import NAMEID_FORMAT_PERSISTENT
from saml2.saml import NAMEID_FORMAT_UNSPECIFIED

from idp.errors import InvalidRequestError
from protocols.saml.models import ServiceProvider

__all__ = [
    "NAMEID_FORMATS",
    "NAMEID_FORMAT_URNS",
    "USER_PROPERTIES",
    "AssertionConsumerService",
    "ServiceProviderConfig",
    "ServiceProviderSpec",
    "config_from_row",
    "row_fields",
    "validate_spec",
]

NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
NAMEID_FORMAT_URNS = {
    "unspecified": NAMEID_FORMAT_UNSPECIFIED,
    "email": NAMEID_FORMAT_EMAILADDRESS,
    "persistent": NAMEID_FORMAT_PERSISTENT,
}
NAMEID_FORMATS = tuple(NAMEID_FORMAT_URNS)
USER_PROPERTIES = ("username", "email", "display_name", "groups")
SLO_BINDINGS = (BINDING_HTTP_POST, BINDING_HTTP_REDIRECT)
MAX_ENTITY_ID = 1024  # SAML Core §8.3.6: an entity identifier is at most 1024 characters


@dataclass(frozen=True, slots=True)
class AssertionConsumerService:
    """One registered ACS endpoint (SAML Metadata §2.4.4, IndexedEndpointType)."""

    url: str
    binding: str = BINDING_HTTP_POST
    index: int = 0
    is_default: bool = False


@dataclass(frozen=True, slots=True)
class ServiceProviderSpec:
    """What an administrator registers; validated by :func:`validate_spec`."""

    name: str
    entity_id: str
    acs: tuple[AssertionConsumerService, ...]
    attribute_mapping: tuple[tuple[str, str], ...] = ()
    nameid_format: str = "unspecified"
    authn_requests_signed: bool = False
    signing_certificates: tuple[str, ...] = ()
    slo_url: str = ""
    slo_binding: str = ""
    metadata_xml: str | None = None
    preset: str = "generic"
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class ServiceProviderConfig:
    """A registered SP as the IdP reads it: immutable, safe to share between threads."""

    id: int
    realm: str
    name: str
    entity_id: str
    acs: tuple[AssertionConsumerService, ...]
    attribute_mapping: tuple[tuple[str, str], ...]
    nameid_format: str
    authn_requests_signed: bool
    signing_certificates: tuple[str, ...]
    slo_url: str
    slo_binding: str
    preset: str
    enabled: bool
    imported_metadata: bool = field(default=False)

    @property
    def default_acs(self) -> AssertionConsumerService:
        """The ACS marked default; validation guarantees there is exactly one."""
        return next(acs for acs in self.acs if acs.is_default)


def _check_uri_characters(value: str, what: str) -> None:
    """Refuse whitespace and control characters, which no URI may hold (RFC 3986 §2).

    Entity IDs and endpoint locations are ``anyURI`` (SAML Core §8.3.6, SAML Metadata
    §2.2.2). A line break in a Location passes :func:`urlsplit`, which drops it before
    parsing, yet breaks the HTTP header later built from that URL at every sign-in.
    """
    for position, char in enumerate(value):
        if char.isspace() or unicodedata.category(char) in ("Cc", "Cf", "Cs"):
            raise InvalidRequestError(
                f"{what} {value[:80]!r}: character {char!r} at position {position}; "
                f"expected no whitespace or control characters"
            )


def _absolute_url(value: str, what: str) -> str:
    """An absolute http(s) URL of printable ASCII, as an HTTP header may carry it."""
    _check_uri_characters(value, what)
    if not value.isascii():
        raise InvalidRequestError(
            f"{what} {value[:80]!r}: expected ASCII only (percent-encode other characters, "
            f"RFC 3986 §2.1)"
        )
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.fragment:
        raise InvalidRequestError(f"{what} {value!r}: expected an absolute http(s) URL")
    if len(value) > MAX_ENTITY_ID:
        raise InvalidRequestError(f"{what}: longer than {MAX_ENTITY_ID} characters")
    return value


def _check_certificate(pem: str) -> None:
    try:
        x509.load_pem_x509_certificate(pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise InvalidRequestError(f"signing certificate is not a PEM X.509 certificate: {exc}"
                                  ) from exc


def validate_spec(spec: ServiceProviderSpec) -> ServiceProviderSpec:
    """Refuse a registration the SSO code could not honour safely; returns it with one default.

    SAML Metadata §2.2.3 (IndexedEndpointType): indexes are unique and at most one endpoint
    is the default; with none marked, the first is. Only HTTP-POST endpoints are kept, since
    the Web Browser SSO profile answers through them (SAML Profiles §4.1.2).
    """
    if not NAME.fullmatch(spec.name):
        raise InvalidRequestError(f"name {spec.name!r}: expected a-z, 0-9, '.', '_' or '-'")
    if not spec.entity_id or len(spec.entity_id) > MAX_ENTITY_ID:
        raise InvalidRequestError(f"entity ID: expected 1 to {MAX_ENTITY_ID} characters")
    _check_uri_characters(spec.entity_id, "entity ID")

    acs = [a for a in spec.acs if a.binding == BINDING_HTTP_POST]
    if not acs:
        raise InvalidRequestError(f"{spec.entity_id}: no HTTP-POST assertion consumer service")
    for endpoint in acs:
        _absolute_url(endpoint.url, "ACS URL")
    if len({a.index for a in acs}) != len(acs):
        raise InvalidRequestError(f"{spec.entity_id}: ACS indexes are not unique")
    defaults = [a for a in acs if a.is_default]
    if len(defaults) > 1:
        raise InvalidRequestError(f"{spec.entity_id}: more than one default ACS")
    if not defaults:
        first = acs[0]
        acs[0] = AssertionConsumerService(first.url, first.binding, first.index, True)

    if spec.nameid_format not in NAMEID_FORMATS:
        raise InvalidRequestError(
            f"NameID format {spec.nameid_format!r}: expected one of {', '.join(NAMEID_FORMATS)}"
        )
    names = [name for name, _ in spec.attribute_mapping]
    if len(set(names)) != len(names) or not all(0 < len(n) <= 256 for n in names):
        raise InvalidRequestError("attribute names must be unique, 1 to 256 characters")
    for name, prop in spec.attribute_mapping:
        if prop not in USER_PROPERTIES:
            expected = ", ".join(USER_PROPERTIES)
            raise InvalidRequestError(
                f"attribute {name!r} maps to {prop!r}: expected one of {expected}"
            )

    for pem in spec.signing_certificates:
        _check_certificate(pem)
    if spec.authn_requests_signed and not spec.signing_certificates:
        raise InvalidRequestError(f"{spec.entity_id}: signs its requests but has no certificate")
    if spec.slo_url:
        _absolute_url(spec.slo_url, "SLO URL")
        if spec.slo_binding not in SLO_BINDINGS:
            raise InvalidRequestError(f"SLO binding {spec.slo_binding!r} is not supported")
    return replace(spec, acs=tuple(acs))


def row_fields(spec: ServiceProviderSpec) -> dict[str, Any]:
    """The model fields of a validated spec."""
    return {
        "name": spec.name, "entity_id": spec.entity_id,
        "acs": [{"url": a.url, "binding": a.binding, "index": a.index, "default": a.is_default}
                for a in spec.acs],
        "slo_url": spec.slo_url, "slo_binding": spec.slo_binding if spec.slo_url else "",
        "metadata_xml": spec.metadata_xml,
        "authn_requests_signed": spec.authn_requests_signed,
        "signing_certificates": list(spec.signing_certificates),
        "nameid_format": spec.nameid_format,
        "attribute_mapping": dict(spec.attribute_mapping),
        "preset": spec.preset, "enabled": spec.enabled,
    }


def _ordered(mapping: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """The attributes in one order whatever the database: PostgreSQL's jsonb sorts keys."""
    rank = {prop: position for position, prop in enumerate(USER_PROPERTIES)}
    return tuple(sorted(mapping.items(), key=lambda item: (rank.get(item[1], 99), item[0])))


def config_from_row(row: ServiceProvider, realm: str) -> ServiceProviderConfig:
    """The frozen view of a stored row."""
    acs: Sequence[Mapping[str, Any]] = row.acs or []
    mapping: Mapping[str, str] = row.attribute_mapping or {}
    return ServiceProviderConfig(
        id=row.id, realm=realm, name=row.name, entity_id=row.entity_id,
        acs=tuple(AssertionConsumerService(str(a["url"]), str(a["binding"]), int(a["index"]),
                                           bool(a["default"])) for a in acs),
        attribute_mapping=_ordered(mapping), nameid_format=row.nameid_format,
        authn_requests_signed=row.authn_requests_signed,
        signing_certificates=tuple(row.signing_certificates or ()),
        slo_url=row.slo_url, slo_binding=row.slo_binding, preset=row.preset,
        enabled=row.enabled, imported_metadata=row.metadata_xml is not None,
    )
