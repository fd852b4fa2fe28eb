"""Single Logout, SP-initiated (SAML Profiles §4.4): end the SSO session, answer signed.

A LogoutRequest reaches the same endpoint as AuthnRequests. Which session ends:

* the one behind the browser's cookie, when its person is the request's NameID (and, if the
  request lists SessionIndex values, its index is one of them). The cookie comes along with
  the HTTP-Redirect binding (a top-level GET); a cross-site HTTP-POST does not carry a
  SameSite=Lax cookie, so
* for a request signed with the SP's registered certificate, the sessions named by its
  SessionIndex values, when their person is the NameID.

An unsigned request (from an SP registered as not signing) can thus end only the session of
the browser that carries it, and only when it lists that session's SessionIndex: a cross-site
link needs nothing but a username to name the NameID, whereas the SessionIndex was sent only
in the assertions of this session. An unsigned request without one ends nothing: the browser
is sent to the logout page, which asks before signing out (and the SP gets no
LogoutResponse). Every request must be recent, as an AuthnRequest must (SAML Core §3.2.1,
:func:`~protocols.saml.authn_request.check_issue_instant`).

The answer is a LogoutResponse signed by the IdP, sent to the SP's registered
SingleLogoutService in its binding (SAML Bindings §3.4 or §3.5); an SP without one is sent to
the logout page instead.

Known shortcoming: an unsigned request is still a bearer link. Whoever knows a SessionIndex
(every SP the session reached, and anyone who saw one of its assertions) can sign that
browser out within the IssueInstant window; only a signature binds the request to the SP
(SAML Profiles §4.4.4.1). The harm is a sign-out, not a sign-in.

Known shortcoming: IdP-initiated and propagated logout (sending LogoutRequests to the other
SPs of the session, SAML Profiles §4.4.3.3) is not done; the other SPs keep their own
sessions until they expire. Status PartialLogout is therefore never claimed, and a request
from an SP is answered Success once this IdP's session is gone.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import logging
import zlib
from dataclasses import dataclass
from urllib.parse import quote

from saml2 import BINDING_HTTP_POST, samlp

from idp.audit import record_event
from idp.errors import PortcullisError
from idp.models import Realm, SsoSession
from idp.transactions import Completion
from protocols.saml.authn_request import check_issue_instant
from protocols.saml.bindings import InboundMessage
from protocols.saml.context import SamlContext, refuse
from protocols.saml.errors import RequesterError, UnknownServiceProviderError, status
from protocols.saml.idp import IdentityProvider
from protocols.saml.inbound import LogoutRequest
from protocols.saml.registration import ServiceProviderConfig
from protocols.saml.signatures import (
    SIG_RSA_SHA256,
    check_message_signature,
    sign_redirect_octets,
)
from protocols.saml.subject import load_principal, name_id_for

__all__ = ["LogoutOutcome", "build_logout_response", "handle_logout_request"]

log = logging.getLogger(__name__)

_LOGOUT_REQUEST = "urn:oasis:names:tc:SAML:2.0:protocol:LogoutRequest"


@dataclass(frozen=True, slots=True)
class LogoutOutcome:
    """Where the browser goes next, and whether its session cookie is to be cleared."""

    completion: Completion
    clear_cookie: bool


async def handle_logout_request(ctx: SamlContext, *, realm_name: str, message: InboundMessage,
                                request: LogoutRequest, session_id: str | None,
                                ip: str) -> LogoutOutcome:
    """End the session(s) the request names and answer with a LogoutResponse."""
    try:
        realm = await ctx.registry.realm(realm_name)
        sp = await ctx.registry.by_entity_id(realm.name, request.issuer)
        if sp is None:
            raise UnknownServiceProviderError(f"{request.issuer!r} is not registered")
        signed = await asyncio.to_thread(
            check_message_signature, message, sp, node_name=_LOGOUT_REQUEST,
            node_id=request.id, has_enveloped=request.has_signature)
        idp = await ctx.idps.get(realm)
        if request.destination is not None and request.destination != idp.sso_url:
            raise RequesterError(f"Destination {request.destination!r}; expected {idp.sso_url}")
        check_issue_instant(request.issue_instant, now=dt.datetime.now(dt.timezone.utc))

        logout_page = f"/realms/{realm.name}/login/logout"
        if not signed and not request.session_indexes:
            # Anyone can name a username; let the person confirm on the logout page.
            await record_event("saml.logout", realm=realm.name, client=sp.entity_id,
                               ip_address=ip, details={"sessions_ended": 0, "signed": False,
                                                       "confirm": True})
            return LogoutOutcome(Completion(kind="redirect", url=logout_page), False)

        ended, clear_cookie, mismatch = await _end_sessions(
            ctx, realm, sp, request, session_id=session_id, signed=signed)
        await record_event("saml.logout", realm=realm.name, client=sp.entity_id,
                           ip_address=ip, details={"sessions_ended": ended, "signed": signed})
        if not sp.slo_url:
            return LogoutOutcome(Completion(kind="redirect", url=logout_page), clear_cookie)
        code = status("Responder") if mismatch and not ended else status("Success")
        second = status("UnknownPrincipal") if mismatch and not ended else None
        completion = await asyncio.to_thread(
            build_logout_response, idp, sp, in_response_to=request.id, status_value=code,
            second_level=second, relay_state=message.relay_state)
        return LogoutOutcome(completion, clear_cookie)
    except PortcullisError as error:
        await refuse(ctx, realm_name=realm_name, error=error, client=request.issuer, ip=ip)
        raise  # refuse() re-raises: a LogoutRequest refusal is never posted anywhere


async def _end_sessions(ctx: SamlContext, realm: Realm, sp: ServiceProviderConfig,
                        request: LogoutRequest, *, session_id: str | None,
                        signed: bool) -> tuple[int, bool, bool]:
    """(sessions ended, whether it was the cookie's, whether a NameID did not match)."""
    key = ctx.services.keys.derive_key("saml-nameid")

    async def is_subject(user_id: int) -> bool:
        try:
            principal = await load_principal(user_id)
        except PortcullisError:
            return True  # a deleted or disabled person's session may always end
        expected = name_id_for(principal, sp, format=sp.nameid_format, persistent_key=key)
        return expected.value == request.name_id

    sessions = ctx.services.sessions
    sign_in = await sessions.find(realm, session_id) if session_id else None
    if sign_in is not None:
        indexed = not request.session_indexes or sign_in.session_index in request.session_indexes
        if indexed and await is_subject(sign_in.user_id):
            await sessions.end(realm, session_id)
            return 1, True, False
        return 0, False, True

    if not (signed and request.session_indexes):
        return 0, False, False
    ended, mismatch = 0, False
    records = await SsoSession.filter(realm=realm, id_hash__in=list(request.session_indexes))
    for record in records:
        if await is_subject(record.user_id):  # type: ignore[attr-defined]
            await record.delete()
            ended += 1
        else:
            mismatch = True
    return ended, False, mismatch


def build_logout_response(idp: IdentityProvider, sp: ServiceProviderConfig, *,
                          in_response_to: str, status_value: str, second_level: str | None,
                          relay_state: str | None) -> Completion:
    """The signed LogoutResponse to the SP's SingleLogoutService (SAML Core §3.7.2).

    HTTP-POST: enveloped signature. HTTP-Redirect: DEFLATE, base64 and a query signature
    over ``SAMLResponse=...&RelayState=...&SigAlg=...`` (SAML Bindings §3.4.4.1).
    CPU work: run it in a worker thread.
    """
    inner = samlp.StatusCode(value=second_level) if second_level else None
    result = samlp.Status(status_code=samlp.StatusCode(value=status_value, status_code=inner))
    post = sp.slo_binding == BINDING_HTTP_POST
    response = idp.server._status_response(
        samlp.LogoutResponse, idp.server._issuer(), result, sign=post,
        in_response_to=in_response_to, destination=sp.slo_url,
    )
    xml = str(response).encode("utf-8")
    if post:
        fields = {"SAMLResponse": base64.b64encode(xml).decode("ascii")}
        if relay_state is not None:
            fields["RelayState"] = relay_state
        return Completion(kind="post", url=sp.slo_url, fields=fields)

    deflated = zlib.compress(xml)[2:-4]  # raw DEFLATE: strip the zlib header and checksum
    query = "SAMLResponse=" + quote(base64.b64encode(deflated).decode("ascii"), safe="")
    if relay_state is not None:
        query += "&RelayState=" + quote(relay_state, safe="")
    query += "&SigAlg=" + quote(SIG_RSA_SHA256, safe="")
    signature = sign_redirect_octets(query.encode("ascii"), idp.key.private_key)
    query += "&Signature=" + quote(base64.b64encode(signature).decode("ascii"), safe="")
    separator = "&" if "?" in sp.slo_url else "?"
    return Completion(kind="redirect", url=sp.slo_url + separator + query)
