"""What arrives at ``/realms/{realm}/protocol/saml``: an AuthnRequest or a LogoutRequest.

One endpoint serves SSO and SLO in both bindings, as Keycloak's does; the message's root
element says which protocol it belongs to. :func:`read_inbound` decodes, parses (hardened,
bounded) and reads the message in one call meant for a worker thread.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from lxml import etree
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, samlp
from saml2.validate import valid_instance

from protocols.saml.authn_request import AuthnRequest, read_authn_request
from protocols.saml.bindings import InboundMessage, decode_post, decode_redirect, parse_xml
from protocols.saml.errors import MalformedMessageError, VersionMismatchError

__all__ = ["Inbound", "LogoutRequest", "read_inbound", "read_logout_request"]

_PROTOCOL = "{urn:oasis:names:tc:SAML:2.0:protocol}"
_DS_SIGNATURE = "{http://www.w3.org/2000/09/xmldsig#}Signature"


@dataclass(frozen=True, slots=True)
class LogoutRequest:
    """The parts of a ``<samlp:LogoutRequest>`` (SAML Core §3.7.1) this IdP acts on."""

    id: str
    issuer: str
    version: str
    issue_instant: dt.datetime
    destination: str | None
    name_id: str
    name_id_format: str | None
    session_indexes: tuple[str, ...]
    has_signature: bool


@dataclass(frozen=True, slots=True)
class Inbound:
    """A decoded message and what it was read as."""

    message: InboundMessage
    request: AuthnRequest | LogoutRequest


def read_logout_request(message: InboundMessage, root: etree._Element) -> LogoutRequest:
    """Parse a LogoutRequest; an encrypted or missing NameID is refused (SAML Core §3.7.1)."""
    try:
        parsed = samlp.logout_request_from_string(message.xml)
        valid_instance(parsed)
        instant = dt.datetime.fromisoformat(parsed.issue_instant)
    except Exception as exc:  # pysaml2 raises many unrelated types for bad input
        raise MalformedMessageError(f"LogoutRequest does not follow the schema: {exc}") from exc
    if parsed.issuer is None or not (parsed.issuer.text or "").strip():
        raise MalformedMessageError("LogoutRequest has no Issuer")
    if parsed.name_id is None or not (parsed.name_id.text or "").strip():
        # Not yet: BaseID and EncryptedID (SAML Core §3.7.1) are not supported.
        raise MalformedMessageError("LogoutRequest has no plain NameID")
    if instant.tzinfo is None:
        raise MalformedMessageError("IssueInstant has no time zone (SAML Core §1.3.3: UTC)")
    if parsed.version != "2.0":
        raise VersionMismatchError(f"LogoutRequest Version {parsed.version!r}; expected '2.0'")
    return LogoutRequest(
        id=parsed.id, issuer=parsed.issuer.text.strip(), version=parsed.version,
        issue_instant=instant, destination=parsed.destination,
        name_id=parsed.name_id.text.strip(), name_id_format=parsed.name_id.format,
        session_indexes=tuple((s.text or "").strip() for s in parsed.session_index),
        has_signature=root.find(_DS_SIGNATURE) is not None,
    )


def read_inbound(raw: bytes, *, binding: str) -> Inbound:
    """Decode ``raw`` (the query string or the form body) and read the request in it.

    CPU work bounded by :data:`~protocols.saml.bindings.MAX_XML_BYTES`: run it in a worker
    thread. A SAMLResponse is refused: this IdP never sends a request that expects one.
    """
    if binding == BINDING_HTTP_REDIRECT:
        message = decode_redirect(raw)
    elif binding == BINDING_HTTP_POST:
        message = decode_post(raw)
    else:
        raise MalformedMessageError(f"binding {binding!r} is not offered")
    if message.parameter != "SAMLRequest":
        raise MalformedMessageError(f"unexpected {message.parameter}; expected SAMLRequest")

    root = parse_xml(message.xml)
    if root.tag == _PROTOCOL + "AuthnRequest":
        return Inbound(message, read_authn_request(message, root))
    if root.tag == _PROTOCOL + "LogoutRequest":
        return Inbound(message, read_logout_request(message, root))
    raise MalformedMessageError(f"expected AuthnRequest or LogoutRequest, got {root.tag}")
