"""Building the signed ``<samlp:Response>`` that carries an assertion, or a refusal, to an SP.

The assertion follows the Web Browser SSO profile (SAML Profiles §4.1.4.2): one bearer
SubjectConfirmation whose Recipient is the ACS URL and whose InResponseTo is the request's ID
(absent, not empty, when the IdP started the sign-in), an AudienceRestriction naming the SP,
one AuthnStatement with the SSO session's index, and the attributes under exactly the Names
registered. Both the Assertion and the Response are signed, RSA-SHA256 with SHA-256 digests
(the algorithms :func:`protocols.saml.crypto.load_config` sets), so SPs that check either one
are satisfied. pysaml2 gives every Response and Assertion a fresh random ID.

Everything here is CPU work on immutable inputs: call it through ``asyncio.to_thread``.
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass, field

from saml2 import saml, samlp
from saml2.assertion import Policy
from saml2.s_utils import factory
from saml2.saml import NAME_FORMAT_UNSPECIFIED, NameID

from protocols.saml.errors import Reply, SamlError
from protocols.saml.idp import IdentityProvider
from protocols.saml.registration import NAMEID_FORMAT_URNS

__all__ = [
    "ASSERTION_LIFETIME",
    "NOT_BEFORE_SKEW",
    "AssertionParams",
    "build_error_response",
    "build_response",
]

ASSERTION_LIFETIME = dt.timedelta(minutes=5)
NOT_BEFORE_SKEW = dt.timedelta(minutes=2)


def _instant(moment: dt.datetime) -> str:
    """xs:dateTime in UTC without fractions (SAML Core §1.3.3)."""
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class AssertionParams:
    """Everything one assertion says; built from the request, the SP and the sign-in."""

    sp_entity_id: str
    acs_url: str
    in_response_to: str | None
    name_id_format: str
    name_id: str
    session_index: str
    authn_instant: dt.datetime
    authn_context: str
    attributes: dict[str, list[str]] = field(default_factory=dict)


class _ReleasePolicy(Policy):
    """pysaml2's release policy, reduced to what Portcullis decides elsewhere.

    The attributes have already been chosen from the SP's registration, so nothing is
    filtered (pysaml2 would otherwise drop names the SP's metadata does not request); the
    validity window is set a little before now, to absorb SP clocks that run behind.
    """

    def __init__(self, now: dt.datetime) -> None:
        super().__init__(restrictions=None, mds=None)
        self._now = now

    def restrict(self, ava: dict[str, list[str]], sp_entity_id: str,
                 metadata: object = None) -> dict[str, list[str]]:
        return dict(ava)

    def get_name_form(self, sp_entity_id: str) -> str:
        return str(NAME_FORMAT_UNSPECIFIED)

    def not_on_or_after(self, sp_entity_id: str) -> str:
        return _instant(self._now + ASSERTION_LIFETIME)

    def conditions(self, sp_entity_id: str) -> saml.Conditions:
        audience = factory(saml.AudienceRestriction,
                           audience=[factory(saml.Audience, text=sp_entity_id)])
        return factory(saml.Conditions, not_before=_instant(self._now - NOT_BEFORE_SKEW),
                       not_on_or_after=self.not_on_or_after(sp_entity_id),
                       audience_restriction=[audience])


def build_response(idp: IdentityProvider, params: AssertionParams, *,
                   now: dt.datetime | None = None) -> str:
    """The signed Response, base64-encoded for the HTTP-POST binding (SAML Bindings §3.5.4)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    statement = factory(
        saml.AuthnStatement,
        authn_instant=_instant(params.authn_instant),
        session_index=params.session_index,
        authn_context=factory(saml.AuthnContext, authn_context_class_ref=factory(
            saml.AuthnContextClassRef, text=params.authn_context)),
    )
    name_id = NameID(format=NAMEID_FORMAT_URNS[params.name_id_format], text=params.name_id)
    # create_authn_response() would build its own AuthnStatement with a random SessionIndex;
    # its worker _authn_response() takes ours as it is.
    signed = idp.server._authn_response(
        params.in_response_to, params.acs_url, params.sp_entity_id,
        identity=params.attributes, name_id=name_id, policy=_ReleasePolicy(now),
        authn_statement=statement, sign_assertion=True, sign_response=True,
        best_effort=True,
    )
    return base64.b64encode(str(signed).encode("utf-8")).decode("ascii")


def build_error_response(idp: IdentityProvider, *, reply: Reply, error: SamlError) -> str:
    """A signed Response with the error's status and no assertion, base64-encoded.

    SAML Core §3.2.2.2: the top-level code says who is at fault (Requester, Responder,
    VersionMismatch), the second-level code says what went wrong. The StatusMessage carries
    the sentence a person would see and the error id, never the detail.
    """
    inner = samlp.StatusCode(value=error.second_level) if error.second_level else None
    status = samlp.Status(
        status_code=samlp.StatusCode(value=error.status_code_value, status_code=inner),
        status_message=samlp.StatusMessage(
            text=f"{error.public_message} (error id {error.error_id})"
        ),
    )
    signed = idp.server._response(reply.in_response_to, reply.acs_url, status, sign=True)
    return base64.b64encode(str(signed).encode("utf-8")).decode("ascii")
