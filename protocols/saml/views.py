"""The SAML endpoints of a realm, as Keycloak lays them out.

* ``/realms/{realm}/protocol/saml``: SSO and SLO, HTTP-Redirect (GET) and HTTP-POST (POST);
* ``/realms/{realm}/protocol/saml/descriptor``: the IdP's metadata;
* ``/realms/{realm}/protocol/saml/clients/{name}``: IdP-initiated SSO into one SP.

A thin layer: each view takes the raw query string or body (the Redirect binding's signature
covers the exact octets received, so nothing is decoded by Quart first), hands it to
:mod:`protocols.saml.sso` or :mod:`protocols.saml.slo`, and renders the completion. Errors
that are not answered to the SP reach the application's error handler, which renders the
themed error page with the error id.
"""

from __future__ import annotations

import asyncio

from quart import Blueprint, Quart, Response, current_app, request
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT

from idp import web
from idp.errors import PortcullisError
from idp.sessions import SignIn
from idp.transactions import Completion, LoginTransaction, register_completer
from protocols.saml.authn_request import AuthnRequest
from protocols.saml.context import SamlContext, make_context, refuse
from protocols.saml.inbound import read_inbound
from protocols.saml.slo import handle_logout_request
from protocols.saml.sso import complete_transaction, handle_authn_request, handle_idp_initiated

__all__ = ["PROTOCOL", "blueprint", "register"]

PROTOCOL = "saml"
METADATA_MAX_AGE = 300

blueprint = Blueprint("saml", __name__, url_prefix="/realms/<realm>/protocol/saml")


def register(app: Quart) -> None:
    """Called by the app factory: make the "saml" completer finish login transactions."""

    async def complete(transaction: LoginTransaction, sign_in: SignIn) -> Completion:
        return await complete_transaction(_context(app), transaction, sign_in)

    register_completer(PROTOCOL, complete)


def _context(app: Quart) -> SamlContext:
    """The application's SAML context, made on first use (services exist only once started)."""
    services = app.extensions["portcullis"]
    context: SamlContext | None = app.extensions.get("saml")
    if context is None or context.services is not services:
        context = make_context(services)
        app.extensions["saml"] = context
    return context


@blueprint.route("", methods=["GET", "POST"])
async def endpoint(realm: str) -> Response:
    """Receive an AuthnRequest or LogoutRequest in either binding (SAML Bindings §3.4, §3.5)."""
    context = _context(current_app)
    ip = web.client_ip()
    raw: bytes = request.query_string
    binding = BINDING_HTTP_REDIRECT
    if request.method == "POST":
        raw, binding = await request.get_data(True, False, False), BINDING_HTTP_POST
    try:
        inbound = await asyncio.to_thread(read_inbound, raw, binding=binding)
    except PortcullisError as error:
        await refuse(context, realm_name=realm, error=error, client="", ip=ip)
        raise

    if isinstance(inbound.request, AuthnRequest):
        completion = await handle_authn_request(
            context, realm_name=realm, message=inbound.message, request=inbound.request,
            session_id=web.session_cookie(), ip=ip,
        )
        return await web.render_completion(completion, realm=realm)

    outcome = await handle_logout_request(
        context, realm_name=realm, message=inbound.message, request=inbound.request,
        session_id=web.session_cookie(), ip=ip,
    )
    response = await web.render_completion(outcome.completion, realm=realm)
    if outcome.clear_cookie:
        web.set_session_cookie(response, None, realm=realm)
    return response


@blueprint.get("/descriptor")
async def descriptor(realm: str) -> Response:
    """The IdP metadata of the realm (see :mod:`protocols.saml.metadata`)."""
    context = _context(current_app)
    identity_provider = await context.idps.get(await context.registry.realm(realm))
    response = Response(identity_provider.metadata_xml, mimetype="text/xml")
    response.cache_control.public = True
    response.cache_control.max_age = METADATA_MAX_AGE
    return response


@blueprint.get("/clients/<name>")
async def idp_initiated(realm: str, name: str) -> Response:
    """IdP-initiated SSO into the SP registered as ``name``; ``?RelayState=`` is passed on."""
    completion = await handle_idp_initiated(
        _context(current_app), realm_name=realm, sp_name=name, query=request.query_string,
        session_id=web.session_cookie(), ip=web.client_ip(),
    )
    return await web.render_completion(completion, realm=realm)
