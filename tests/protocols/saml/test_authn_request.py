"""Reading AuthnRequests, resolving the ACS, and the checks against a registration."""

from __future__ import annotations

import datetime as dt

import pytest
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS, NAMEID_FORMAT_TRANSIENT

from protocols.saml.authn_context import (
    PASSKEY_CLASS,
    UNSPECIFIED_CLASS,
    RequestedAuthnContext,
    choose_authn_context,
)
from protocols.saml.authn_request import (
    AcceptedRequest,
    AuthnRequest,
    accept_authn_request,
    read_authn_request,
    resolve_acs,
)
from protocols.saml.bindings import InboundMessage, decode_redirect
from protocols.saml.errors import (
    AcsMismatchError,
    InvalidNameIdPolicyError,
    MalformedMessageError,
    NoAuthnContextError,
    RequesterError,
    SamlError,
    UnsupportedBindingError,
    VersionMismatchError,
)
from protocols.saml.idp import IdentityProvider
from protocols.saml.registration import AssertionConsumerService, ServiceProviderConfig
from tests.protocols.saml.spkit import (
    JIRA,
    acs_of,
    authn_request_xml,
    redirect_location,
    service_provider,
)

SSO_URL = "http://localhost:8080/realms/master/protocol/saml"
NOW = dt.datetime.now(dt.timezone.utc)
"""The instant every request here is judged at; requests made in a test must be issued at it."""
AC = "urn:oasis:names:tc:SAML:2.0:ac:classes:"
STATUS = "urn:oasis:names:tc:SAML:2.0:status:"


def _sp(**changes: object) -> ServiceProviderConfig:
    values: dict[str, object] = dict(
        id=1, realm="master", name="jira", entity_id=JIRA,
        acs=(AssertionConsumerService(acs_of(JIRA), BINDING_HTTP_POST, 0, True),
             AssertionConsumerService(JIRA + "/alt", BINDING_HTTP_POST, 3, False)),
        attribute_mapping=(("username", "username"),), nameid_format="unspecified",
        authn_requests_signed=False, signing_certificates=(), slo_url="", slo_binding="",
        preset="jira", enabled=True)
    values.update(changes)
    return ServiceProviderConfig(**values)  # type: ignore[arg-type]


def _read(xml: bytes) -> AuthnRequest:
    return read_authn_request(InboundMessage("SAMLRequest", xml, BINDING_HTTP_REDIRECT, None))


def _accept(xml: bytes, sp: ServiceProviderConfig | None = None) -> AcceptedRequest:
    sp = sp or _sp()
    request = _read(xml)
    return accept_authn_request(request, sp, acs=resolve_acs(request, sp), relay_state="rs",
                                sso_url=SSO_URL, now=NOW)


def test_reads_what_a_real_sp_library_sends(identity_provider: IdentityProvider) -> None:
    jira = service_provider(JIRA, idp_metadata=identity_provider.metadata_xml)
    request_id, location = redirect_location(jira, identity_provider.entity_id,
                                             force_authn="true")
    message = decode_redirect(location.split("?", 1)[1].encode())
    request = read_authn_request(message)

    assert request.id == request_id and request.issuer == JIRA
    assert request.destination == SSO_URL and request.acs_url == acs_of(JIRA)
    assert request.force_authn and not request.is_passive
    assert request.protocol_binding == BINDING_HTTP_POST
    assert not request.has_signature and not request.has_subject


@pytest.mark.parametrize("xml", [
    b'<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>',
    authn_request_xml().replace(b' ID="_4f0c1a2b3c"', b""),
    authn_request_xml().replace(b"IssueInstant=", b"IssueInstant=\"yesterday\" x="),
    authn_request_xml(acs_index=0).replace(b'Index="0"', b'Index="first"'),
])
def test_malformed_requests_are_refused(xml: bytes) -> None:
    with pytest.raises(MalformedMessageError):
        _read(xml)


def test_the_acs_url_must_equal_a_registered_one_exactly() -> None:
    assert resolve_acs(_read(authn_request_xml(acs_url=JIRA + "/alt")), _sp()).index == 3
    for almost in (acs_of(JIRA) + "/", acs_of(JIRA).upper(), acs_of(JIRA) + "?x=1",
                   "https://jira.example.com:443/plugins/servlet/samlconsumer"):
        with pytest.raises(AcsMismatchError):
            resolve_acs(_read(authn_request_xml(acs_url=almost)), _sp())


def test_the_acs_index_or_else_the_default_is_used() -> None:
    assert resolve_acs(_read(authn_request_xml(acs_index=3)), _sp()).url == JIRA + "/alt"
    assert resolve_acs(_read(authn_request_xml()), _sp()).url == acs_of(JIRA)
    with pytest.raises(AcsMismatchError):
        resolve_acs(_read(authn_request_xml(acs_index=9)), _sp())


def test_an_acceptable_request_gets_the_registered_nameid_and_passkey_context() -> None:
    accepted = _accept(authn_request_xml(destination=SSO_URL, issue_instant=NOW))

    assert accepted.acs.url == acs_of(JIRA)
    assert accepted.name_id_format == "unspecified"
    assert accepted.authn_context == PASSKEY_CLASS


@pytest.mark.parametrize(("xml", "error"), [
    (authn_request_xml(version="2.1"), VersionMismatchError),
    (authn_request_xml(destination=SSO_URL + "/"), RequesterError),
    (authn_request_xml(issue_instant=NOW + dt.timedelta(minutes=10)), RequesterError),
    (authn_request_xml(issue_instant=NOW - dt.timedelta(hours=2)), RequesterError),
    (authn_request_xml(attributes=' ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:PAOS"'),
     UnsupportedBindingError),
    (authn_request_xml(children=f'<samlp:NameIDPolicy Format="{NAMEID_FORMAT_TRANSIENT}"/>'),
     InvalidNameIdPolicyError),
])
def test_refusals_after_the_acs_is_known_carry_a_reply(xml: bytes, error: type) -> None:
    with pytest.raises(error) as caught:
        _accept(xml)

    assert isinstance(caught.value, SamlError)
    reply = caught.value.reply
    assert reply is not None
    assert (reply.acs_url, reply.in_response_to, reply.relay_state) == (
        acs_of(JIRA), "_4f0c1a2b3c", "rs")


@pytest.mark.parametrize(("version", "second_level"), [
    ("1.1", "RequestVersionTooLow"),
    ("2.1", "RequestVersionTooLow"),
    ("3.0", "RequestVersionTooHigh"),
    ("10.0", "RequestVersionTooHigh"),
    ("0" * 4999 + "3.0", "RequestVersionTooHigh"),
    ("9" * 5000 + ".0", "RequestVersionTooHigh"),
    ("\u0663.0", "RequestVersionTooLow"),
])
def test_a_version_not_spoken_is_a_version_mismatch(version: str, second_level: str) -> None:
    """SAML Core §3.2.2.2: too high or too low, however many digits the major version has."""
    with pytest.raises(VersionMismatchError) as caught:
        _accept(authn_request_xml(version=version, issue_instant=NOW))

    assert caught.value.second_level == STATUS + second_level


def test_the_configured_nameid_format_may_be_asked_for() -> None:
    policy = f'<samlp:NameIDPolicy Format="{NAMEID_FORMAT_EMAILADDRESS}"/>'
    xml = authn_request_xml(children=policy, issue_instant=NOW)

    assert _accept(xml, _sp(nameid_format="email")).name_id_format == "email"


@pytest.mark.parametrize(("comparison", "refs", "expected"), [
    ("exact", [PASSKEY_CLASS], PASSKEY_CLASS),
    ("exact", [AC + "Password", UNSPECIFIED_CLASS], UNSPECIFIED_CLASS),
    ("minimum", [AC + "PasswordProtectedTransport"], PASSKEY_CLASS),
    ("better", [AC + "Password"], PASSKEY_CLASS),
    ("maximum", [PASSKEY_CLASS], PASSKEY_CLASS),
])
def test_requested_contexts_a_passkey_meets(comparison: str, refs: list[str],
                                            expected: str) -> None:
    assert choose_authn_context(RequestedAuthnContext(tuple(refs), comparison)) == expected


@pytest.mark.parametrize(("comparison", "refs"), [
    ("exact", [AC + "PasswordProtectedTransport"]),
    ("minimum", [AC + "Smartcard"]),
    ("better", [PASSKEY_CLASS]),
    ("maximum", [AC + "Password"]),
    ("sideways", [PASSKEY_CLASS]),
])
def test_requested_contexts_a_passkey_cannot_meet(comparison: str, refs: list[str]) -> None:
    with pytest.raises(NoAuthnContextError):
        choose_authn_context(RequestedAuthnContext(tuple(refs), comparison))
