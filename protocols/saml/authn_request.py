"""Reading an AuthnRequest and deciding whether, and where, it may be answered.

:func:`read_authn_request` turns the decoded bytes into a frozen :class:`AuthnRequest` (the
hardened parse first, then pysaml2's object model and its schema checks).
:func:`resolve_acs` picks the registered assertion consumer service the answer goes to, and
:func:`accept_authn_request` checks the rest against the SP's registration. Once the ACS is
known, every refusal carries a :class:`~protocols.saml.errors.Reply`, so the SP receives a
Response with the right status instead of a dead end.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from lxml import etree
from saml2 import BINDING_HTTP_POST, samlp
from saml2.saml import NAMEID_FORMAT_UNSPECIFIED
from saml2.validate import valid_instance

from protocols.saml.authn_context import RequestedAuthnContext, choose_authn_context
from protocols.saml.bindings import InboundMessage, parse_xml
from protocols.saml.errors import (
    AcsMismatchError,
    InvalidNameIdPolicyError,
    MalformedMessageError,
    Reply,
    RequesterError,
    RequestUnsupportedError,
    SamlError,
    UnsupportedBindingError,
    VersionMismatchError,
    status,
)
from protocols.saml.registration import (
    NAMEID_FORMAT_URNS,
    AssertionConsumerService,
    ServiceProviderConfig,
)

__all__ = [
    "AcceptedRequest",
    "AuthnRequest",
    "accept_authn_request",
    "check_issue_instant",
    "read_authn_request",
    "resolve_acs",
]

_PROTOCOL = "{urn:oasis:names:tc:SAML:2.0:protocol}"
_DS_SIGNATURE = "{http://www.w3.org/2000/09/xmldsig#}Signature"
CLOCK_SKEW = dt.timedelta(minutes=3)
MAX_REQUEST_AGE = dt.timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class AuthnRequest:
    """The parts of a ``<samlp:AuthnRequest>`` (SAML Core §3.4.1) this IdP acts on."""

    id: str
    issuer: str
    version: str
    issue_instant: dt.datetime
    destination: str | None
    acs_url: str | None
    acs_index: int | None
    protocol_binding: str | None
    force_authn: bool
    is_passive: bool
    name_id_format: str | None
    requested_authn_context: RequestedAuthnContext | None
    has_subject: bool
    has_signature: bool


@dataclass(frozen=True, slots=True)
class AcceptedRequest:
    """A request that may be answered: where to, and with which NameID and context."""

    request: AuthnRequest
    acs: AssertionConsumerService
    name_id_format: str
    authn_context: str


def _boolean(value: str | None) -> bool:
    return value in ("true", "1")


def _is_version_too_high(version: str) -> bool:
    """Whether ``version``'s major number is above 2 (SAML Core §4.1.3.1).

    Leading zeros are dropped and the digits compared by length first, never by ``int()``:
    a Version of thousands of digits is beyond Python's int-parsing limit, and it is still
    only a version this IdP does not speak.
    """
    major = version.split(".", 1)[0].lstrip("0")
    if not (major.isascii() and major.isdigit()):
        return False
    return len(major) > 1 or major > "2"


def check_issue_instant(issue_instant: dt.datetime, *, now: dt.datetime) -> None:
    """Refuse a request issued more than :data:`MAX_REQUEST_AGE` ago or in the future.

    SAML Core §3.2.1 leaves the window to the receiver; a bounded age limits how long a
    captured or forged link stays usable. :data:`CLOCK_SKEW` allows for the SP's clock.
    """
    if not now - MAX_REQUEST_AGE - CLOCK_SKEW <= issue_instant <= now + CLOCK_SKEW:
        raise RequesterError(f"IssueInstant {issue_instant.isoformat()} is not recent")


def read_authn_request(message: InboundMessage, root: etree._Element | None = None
                       ) -> AuthnRequest:
    """Parse an AuthnRequest; raises :class:`MalformedMessageError` for anything else.

    ``root`` is the message already parsed by :func:`~protocols.saml.bindings.parse_xml`;
    pysaml2 only sees what that hardened parse accepted. CPU work: run it in a worker thread.
    SAML Profiles §4.1.4.1: the Issuer is required.
    """
    root = parse_xml(message.xml) if root is None else root
    if root.tag != _PROTOCOL + "AuthnRequest":
        raise MalformedMessageError(f"expected samlp:AuthnRequest, got {root.tag}")
    try:
        parsed = samlp.authn_request_from_string(message.xml)
        valid_instance(parsed)
    except Exception as exc:  # pysaml2 raises many unrelated types for bad input
        raise MalformedMessageError(f"AuthnRequest does not follow the schema: {exc}") from exc
    if parsed.issuer is None or not (parsed.issuer.text or "").strip():
        raise MalformedMessageError("AuthnRequest has no Issuer")
    try:
        instant = dt.datetime.fromisoformat(parsed.issue_instant)
        index = parsed.assertion_consumer_service_index
        acs_index = int(index) if index is not None else None
    except (TypeError, ValueError) as exc:
        raise MalformedMessageError(f"AuthnRequest attribute malformed: {exc}") from exc
    if instant.tzinfo is None:
        raise MalformedMessageError("IssueInstant has no time zone (SAML Core §1.3.3: UTC)")

    context = parsed.requested_authn_context
    requested = None
    if context is not None:
        refs = tuple((ref.text or "").strip() for ref in context.authn_context_class_ref)
        requested = RequestedAuthnContext(refs, context.comparison or "exact")
    policy = parsed.name_id_policy
    return AuthnRequest(
        id=parsed.id, issuer=parsed.issuer.text.strip(), version=parsed.version,
        issue_instant=instant, destination=parsed.destination,
        acs_url=parsed.assertion_consumer_service_url, acs_index=acs_index,
        protocol_binding=parsed.protocol_binding,
        force_authn=_boolean(parsed.force_authn), is_passive=_boolean(parsed.is_passive),
        name_id_format=policy.format if policy is not None else None,
        requested_authn_context=requested, has_subject=parsed.subject is not None,
        has_signature=root.find(_DS_SIGNATURE) is not None,
    )


def resolve_acs(request: AuthnRequest, sp: ServiceProviderConfig) -> AssertionConsumerService:
    """The registered ACS to answer at (SAML Core §3.4.1, SAML Profiles §4.1.4.1).

    A URL must equal a registered one exactly, as a string; an index must be registered;
    naming neither means the default. Anything else is refused without a Response.
    """
    if request.acs_url is not None and request.acs_index is not None:
        raise AcsMismatchError("AssertionConsumerServiceURL and Index are mutually exclusive")
    if request.acs_url is not None:
        for acs in sp.acs:
            if acs.url == request.acs_url:
                return acs
        raise AcsMismatchError(
            f"AssertionConsumerServiceURL {request.acs_url!r} is not registered for "
            f"{sp.entity_id}"
        )
    if request.acs_index is not None:
        for acs in sp.acs:
            if acs.index == request.acs_index:
                return acs
        raise AcsMismatchError(f"AssertionConsumerServiceIndex {request.acs_index} is not "
                               f"registered for {sp.entity_id}")
    return sp.default_acs


def accept_authn_request(
    request: AuthnRequest, sp: ServiceProviderConfig, *, acs: AssertionConsumerService,
    relay_state: str | None, sso_url: str, now: dt.datetime,
) -> AcceptedRequest:
    """Check the request against the registration; refusals carry a Reply to ``acs``."""
    reply = Reply(sp.entity_id, acs.url, request.id, relay_state)
    try:
        return _accept(request, sp, acs=acs, sso_url=sso_url, now=now)
    except SamlError as error:
        raise error.with_reply(reply) from None


def _accept(request: AuthnRequest, sp: ServiceProviderConfig, *,
            acs: AssertionConsumerService, sso_url: str, now: dt.datetime) -> AcceptedRequest:
    if request.version != "2.0":
        higher = _is_version_too_high(request.version)
        raise VersionMismatchError(
            f"Version {request.version[:20]!r}; expected '2.0'",
            second_level=status("RequestVersionTooHigh" if higher else "RequestVersionTooLow"),
        )

    # SAML Bindings §3.4.5.2 and §3.5.5.2: Destination, when present (and it must be when
    # the message is signed), is the URL the message was sent to.
    if request.destination is not None and request.destination != sso_url:
        raise RequesterError(f"Destination {request.destination!r}; expected {sso_url!r}")
    if request.has_signature and request.destination is None:
        raise RequesterError("a signed AuthnRequest must carry a Destination")

    check_issue_instant(request.issue_instant, now=now)

    # SAML Profiles §4.1.2: the answer travels by HTTP-POST; no other binding is offered.
    if request.protocol_binding not in (None, BINDING_HTTP_POST):
        raise UnsupportedBindingError(f"ProtocolBinding {request.protocol_binding!r}")

    if request.has_subject:
        # Not yet: honouring <Subject> means checking the signed-in person is that subject.
        raise RequestUnsupportedError("AuthnRequest names a Subject; not supported")

    configured = NAMEID_FORMAT_URNS[sp.nameid_format]
    if request.name_id_format not in (None, NAMEID_FORMAT_UNSPECIFIED, configured):
        raise InvalidNameIdPolicyError(
            f"NameIDPolicy Format {request.name_id_format!r}; this SP is given {configured}"
        )

    return AcceptedRequest(request=request, acs=acs, name_id_format=sp.nameid_format,
                           authn_context=choose_authn_context(request.requested_authn_context))
