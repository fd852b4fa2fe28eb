"""Web Browser SSO (SAML Profiles §4.1): from an AuthnRequest, or an IdP-initiated start, to
the signed Response posted to the SP.

No Quart here: the view hands in what it read from the HTTP request and renders the
:class:`~idp.transactions.Completion` it gets back. The steps:

1. read the request (off the event loop) and find its Issuer among the realm's SPs;
2. check its signature as the registration demands, and resolve the ACS to a registered one;
3. with a live SSO session and no ForceAuthn, answer at once (a second SP in the same browser
   signs in without a new ceremony); IsPassive without one is answered NoPassive;
4. otherwise store a login transaction and send the browser to the login page; when the
   person is signed in, the core calls :func:`complete_transaction` (the "saml" completer).

Every refusal is an audit event ``saml.request.refused``; it is answered with an error
Response when a registered ACS is known, else with the error page
(:func:`protocols.saml.context.refuse`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import asdict, dataclass

from idp.audit import record_event
from idp.errors import PortcullisError
from idp.models import Realm
from idp.sessions import SignIn
from idp.transactions import Completion, LoginTransaction
from protocols.saml.authn_context import PASSKEY_CLASS
from protocols.saml.authn_request import AuthnRequest, accept_authn_request, resolve_acs
from protocols.saml.bindings import InboundMessage, relay_state_from_query
from protocols.saml.context import SamlContext, refuse
from protocols.saml.errors import (
    AcsMismatchError,
    NoPassiveError,
    Reply,
    RequestDeniedError,
    SamlError,
    UnknownServiceProviderError,
)
from protocols.saml.registration import ServiceProviderConfig
from protocols.saml.response import AssertionParams, build_response
from protocols.saml.signatures import check_message_signature
from protocols.saml.subject import load_principal, name_id_for, release_attributes

__all__ = ["PendingResponse", "complete_transaction", "handle_authn_request",
           "handle_idp_initiated"]

log = logging.getLogger(__name__)

_AUTHN_REQUEST = "urn:oasis:names:tc:SAML:2.0:protocol:AuthnRequest"


@dataclass(frozen=True, slots=True)
class PendingResponse:
    """What a login transaction keeps to answer later: plain JSON, nothing secret."""

    sp_entity_id: str
    acs_url: str
    in_response_to: str | None
    relay_state: str | None
    name_id_format: str
    authn_context: str

    def reply(self) -> Reply:
        return Reply(self.sp_entity_id, self.acs_url, self.in_response_to, self.relay_state)


async def _enabled_sp(ctx: SamlContext, realm: Realm, *, entity_id: str | None = None,
                      name: str | None = None) -> ServiceProviderConfig:
    if entity_id is not None:
        sp = await ctx.registry.by_entity_id(realm.name, entity_id)
    else:
        sp = await ctx.registry.by_name(realm.name, name or "")
    if sp is None:
        unknown = (entity_id if entity_id is not None else name or "")[:200]
        raise UnknownServiceProviderError(f"{unknown!r} is not registered in realm {realm.name}")
    if not sp.enabled:
        raise RequestDeniedError(f"{sp.entity_id} is disabled in realm {realm.name}")
    return sp


async def handle_authn_request(ctx: SamlContext, *, realm_name: str, message: InboundMessage,
                               request: AuthnRequest, session_id: str | None,
                               ip: str) -> Completion:
    """Answer an AuthnRequest: at once from the SSO session, or through the login page."""
    try:
        return await _authn_request(ctx, realm_name, message, request, session_id, ip)
    except PortcullisError as error:
        return await refuse(ctx, realm_name=realm_name, error=error, client=request.issuer,
                            ip=ip)


async def _authn_request(ctx: SamlContext, realm_name: str, message: InboundMessage,
                         request: AuthnRequest, session_id: str | None, ip: str) -> Completion:
    realm = await ctx.registry.realm(realm_name)
    sp = await _enabled_sp(ctx, realm, entity_id=request.issuer)

    # SAML Bindings §3.4.4.1 and §3.5.4: whatever signature there is must verify, and an SP
    # registered as signing must sign.
    if message.signed_query is not None or request.has_signature or sp.authn_requests_signed:
        await asyncio.to_thread(check_message_signature, message, sp,
                                node_name=_AUTHN_REQUEST, node_id=request.id,
                                has_enveloped=request.has_signature)

    acs = resolve_acs(request, sp)

    idp = await ctx.idps.get(realm)
    accepted = accept_authn_request(request, sp, acs=acs, relay_state=message.relay_state,
                                    sso_url=idp.sso_url, now=dt.datetime.now(dt.timezone.utc))
    pending = PendingResponse(sp.entity_id, acs.url, request.id, message.relay_state,
                              accepted.name_id_format, accepted.authn_context)
    log.info("saml.request.received", extra={
        "realm": realm.name, "client": sp.entity_id, "request_id": request.id,
        "binding": message.binding, "force_authn": request.force_authn,
        "is_passive": request.is_passive})
    return await _sign_in_or_answer(ctx, realm, sp, pending, session_id=session_id,
                                    force_authn=request.force_authn,
                                    is_passive=request.is_passive, ip=ip)


async def handle_idp_initiated(ctx: SamlContext, *, realm_name: str, sp_name: str,
                               query: bytes, session_id: str | None, ip: str) -> Completion:
    """IdP-initiated SSO into the SP registered as ``sp_name`` (SAML Profiles §4.1.5).

    The Response answers no request, so it carries no InResponseTo at all; it goes to the
    SP's default ACS with the ``RelayState`` of the query string, if any, byte for byte.
    """
    client = ""
    try:
        relay_state = relay_state_from_query(query)
        realm = await ctx.registry.realm(realm_name)
        sp = await _enabled_sp(ctx, realm, name=sp_name)
        client = sp.entity_id
        pending = PendingResponse(sp.entity_id, sp.default_acs.url, None, relay_state,
                                  sp.nameid_format, PASSKEY_CLASS)
        log.info("saml.idp_initiated.received", extra={"realm": realm.name, "client": client})
        return await _sign_in_or_answer(ctx, realm, sp, pending, session_id=session_id,
                                        force_authn=False, is_passive=False, ip=ip)
    except PortcullisError as error:
        return await refuse(ctx, realm_name=realm_name, error=error, client=client, ip=ip)


async def _sign_in_or_answer(ctx: SamlContext, realm: Realm, sp: ServiceProviderConfig,
                             pending: PendingResponse, *, session_id: str | None,
                             force_authn: bool, is_passive: bool, ip: str) -> Completion:
    sessions = ctx.services.sessions
    sign_in = await sessions.find(realm, session_id) if session_id else None
    if sign_in is not None and not force_authn:
        completion = await _answer(ctx, realm, sp, pending, sign_in)
        # No login page took part, so this is where the sign-in decision is recorded.
        await record_event(
            "login.succeeded", realm=realm.name, username=sign_in.username,
            client=sp.entity_id, ip_address=ip,
            details={"protocol": "saml", "method": "sso_session",
                     "idp_initiated": pending.in_response_to is None},
        )
        return completion

    # SAML Core §3.4.1: IsPassive forbids any interaction, and ForceAuthn demands one.
    if is_passive:
        raise NoPassiveError("IsPassive and no usable SSO session").with_reply(pending.reply())

    transaction = await ctx.services.transactions.begin(
        realm=realm.name, protocol="saml", client=sp.entity_id, request=asdict(pending),
        force_authn=force_authn, is_passive=is_passive,
    )
    return Completion(kind="redirect", url=f"/realms/{realm.name}/login/?txn={transaction.id}")


async def complete_transaction(ctx: SamlContext, transaction: LoginTransaction,
                               sign_in: SignIn) -> Completion:
    """The "saml" completer: the signed Response for a person who just signed in.

    Known shortcoming: the completer does not see the HTTP request, so its audit events carry
    no IP address (the login page's own ``login.succeeded`` event has it).
    """
    pending = PendingResponse(**transaction.request)
    try:
        realm = await ctx.registry.realm(transaction.realm)
        sp = await _enabled_sp(ctx, realm, entity_id=pending.sp_entity_id)
        return await _answer(ctx, realm, sp, pending, sign_in)
    except PortcullisError as error:
        return await refuse(ctx, realm_name=transaction.realm, error=error,
                            client=pending.sp_entity_id, ip="")


async def _answer(ctx: SamlContext, realm: Realm, sp: ServiceProviderConfig,
                  pending: PendingResponse, sign_in: SignIn) -> Completion:
    """The signed Response for ``sign_in``; the session remembers the SP, for logout.

    The audit event is the caller's: the login page records ``login.succeeded`` when a
    transaction completes, :func:`_sign_in_or_answer` when an SSO session answers at once.
    """
    # The registration may have changed since the request was accepted: the ACS must still
    # be one of the SP's (SAML Profiles §4.1.4.1).
    if not any(acs.url == pending.acs_url for acs in sp.acs):
        raise AcsMismatchError(f"ACS {pending.acs_url!r} is no longer registered")
    reply = pending.reply()
    try:
        principal = await load_principal(sign_in.user_id)
        name_id = name_id_for(principal, sp, format=pending.name_id_format,
                              persistent_key=ctx.services.keys.derive_key("saml-nameid"))
    except SamlError as error:
        raise error.with_reply(reply) from None
    params = AssertionParams(
        sp_entity_id=sp.entity_id, acs_url=pending.acs_url,
        in_response_to=pending.in_response_to, name_id_format=name_id.format,
        name_id=name_id.value, session_index=sign_in.session_index,
        authn_instant=sign_in.auth_time, authn_context=pending.authn_context,
        attributes=release_attributes(principal, sp),
    )
    idp = await ctx.idps.get(realm)
    saml_response = await asyncio.to_thread(build_response, idp, params)

    await ctx.services.sessions.add_client(sign_in.session_index, sp.entity_id)
    log.info("saml.response.issued", extra={
        "realm": realm.name, "client": sp.entity_id, "in_response_to": pending.in_response_to,
        "fresh": sign_in.fresh})
    fields = {"SAMLResponse": saml_response}
    if pending.relay_state is not None:
        fields["RelayState"] = pending.relay_state
    return Completion(kind="post", url=pending.acs_url, fields=fields)
