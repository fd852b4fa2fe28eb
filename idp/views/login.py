"""The sign-in pages: identifier, passkey, and the POST that completes a login transaction.

A protocol front end begins a transaction and sends the browser to ``login/?txn=<id>``. With a
live SSO session the transaction completes at once (unless the application forces a new
sign-in); otherwise the person names themselves or picks a discoverable passkey, and the
passkey POST verifies the assertion, starts the SSO session and answers with the protocol's
completion in the same response. Opened without a transaction, the page signs a person in to
their own account page.
"""

from __future__ import annotations

import logging
from typing import cast

from quart import Blueprint, Response, request

from idp import web
from idp.audit import record_event
from idp.errors import ExpiredError, InvalidRequestError, PasskeyError
from idp.models import Realm
from idp.passkeys import (
    VerifiedPasskeySignIn,
    begin_discoverable_authentication,
    begin_identified_authentication,
    finish_authentication,
)
from idp.sessions import SignIn
from idp.transactions import Completion, LoginTransaction, completer_for
from idp.views import health
from idp.views.common import (
    CREDENTIAL_MAX,
    JSON_BODY_MAX,
    json_object,
    load_realm,
    page,
    redirect,
    require_csrf,
    require_same_origin,
    text_field,
    token_value,
    without_controls,
)

__all__ = ["ACCOUNT_PROTOCOL", "blueprint", "complete_account"]

log = logging.getLogger(__name__)

blueprint = Blueprint("login", __name__, url_prefix="/realms/<realm>/login")

ACCOUNT_PROTOCOL = "account"
FAKE_CREDENTIALS_PURPOSE = "fake-credentials"


async def complete_account(transaction: LoginTransaction, sign_in: SignIn) -> Completion:
    """The completer of ``account`` transactions: on to the person's account page."""
    return Completion(kind="redirect", url=f"/realms/{transaction.realm}/account/")


@blueprint.get("/")
async def identifier_page(realm: str) -> Response:
    """Ask who is signing in, or complete at once from a live SSO session."""
    realm_ = await load_realm(realm)
    services = web.services()
    transaction_id = request.args.get("txn", "")
    if not transaction_id:
        transaction = await services.transactions.begin(
            realm=realm_.name, protocol=ACCOUNT_PROTOCOL, client=ACCOUNT_PROTOCOL, request={},
        )
        return redirect(f"/realms/{realm_.name}/login/?txn={transaction.id}")

    transaction = await services.transactions.load(realm_.name,
                                                   token_value(transaction_id, "txn"))
    if not transaction.force_authn:
        sign_in = await services.sessions.find(realm_, web.session_cookie())
        if sign_in is not None:
            # Known shortcoming: is_passive without a session is left to the protocol front
            # end, which must answer NoPassive itself (SAML Core §3.4.1) before coming here.
            transaction = await services.transactions.finish(realm_.name, transaction.id)
            return await _complete(realm_, transaction, sign_in, method="sso_session")
    return await identifier_form(realm_, transaction.id, identifier=transaction.login_hint)


@blueprint.post("/")
async def submit_identifier(realm: str) -> Response:
    """Identifier first: the passkey page, listing the credentials of the person named."""
    require_same_origin()
    realm_ = await load_realm(realm)
    services = web.services()
    form = await request.form
    transaction = await services.transactions.load(realm_.name,
                                                   token_value(form.get("txn"), "txn"))
    identifier = text_field(form, "identifier", required=False).strip()
    if not identifier:
        return await identifier_form(realm_, transaction.id, identifier="", status=400,
                                     error="Enter your username or email address.")

    options = await begin_identified_authentication(
        services.ttl, settings=services.settings, realm=realm_, transaction_id=transaction.id,
        identifier=identifier,
        fake_credential_key=services.keys.derive_key(FAKE_CREDENTIALS_PURPOSE),
    )
    return await page("passkey.html", realm_, txn=transaction.id, identifier=identifier,
                      handle=options.handle, options=options.options)


@blueprint.post("/passkey/options")
async def discoverable_options(realm: str) -> Response:
    """Fresh options with an empty allowCredentials, for the "Sign in with a passkey" button."""
    require_same_origin()
    realm_ = await load_realm(realm)
    services = web.services()
    body = json_object(cast(str, await request.get_data(as_text=True)), limit=JSON_BODY_MAX)
    transaction_id = body.get("txn")
    if not isinstance(transaction_id, str):
        raise InvalidRequestError("passkey options request without a txn string")
    transaction = await services.transactions.load(realm_.name,
                                                   token_value(transaction_id, "txn"))
    options = await begin_discoverable_authentication(
        services.ttl, settings=services.settings, realm=realm_, transaction_id=transaction.id,
    )
    return web.json_response({"handle": options.handle, "options": options.options})


@blueprint.post("/passkey")
async def submit_passkey(realm: str) -> Response:
    """Verify the assertion; on success sign in and answer with the protocol's completion.

    A malformed field is a failed sign-in like any other: audited, and the identifier page
    again (the identifier only shown and audited without its control characters).
    """
    require_same_origin()
    realm_ = await load_realm(realm)
    services = web.services()
    form = await request.form
    transaction_id = token_value(form.get("txn"), "txn")
    identifier = without_controls(form.get("identifier", ""))
    try:
        text_field(form, "identifier", required=False)  # refused, as on the identifier page
        verified = await finish_authentication(
            services.ttl, settings=services.settings, realm=realm_,
            transaction_id=transaction_id, handle=token_value(form.get("handle"), "handle"),
            response=text_field(form, "credential", limit=CREDENTIAL_MAX),
        )
    except (PasskeyError, ExpiredError, InvalidRequestError) as error:
        return await _refuse(realm_, transaction_id, identifier, error)
    return await _sign_in(realm_, transaction_id, verified)


@blueprint.get("/logout")
async def logout_page(realm: str) -> Response:
    """Ask before signing out, so that a link elsewhere cannot sign a person out."""
    realm_ = await load_realm(realm)
    session_id = web.session_cookie()
    sign_in = await web.services().sessions.find(realm_, session_id)
    if sign_in is None:
        return await page("logout.html", realm_, signed_out=True)
    return await page("logout.html", realm_, signed_out=False, username=sign_in.username,
                      csrf=web.csrf_token(session_id or ""))


@blueprint.post("/logout")
async def logout(realm: str) -> Response:
    """End the SSO session of this browser and clear its cookie.

    Known shortcoming: applications the session reached are not sent a logout request from
    here; SAML single logout (SAML Profiles §4.4) starts at the protocol's own endpoint.
    """
    require_same_origin()
    realm_ = await load_realm(realm)
    services = web.services()
    session_id = web.session_cookie()
    sign_in = await services.sessions.find(realm_, session_id)
    if sign_in is not None:
        require_csrf(sign_in, (await request.form).get("csrf"))
        await services.sessions.end(realm_, session_id)
        await record_event("logout", realm=realm_.name, username=sign_in.username,
                           ip_address=web.client_ip(), details={"method": "logout_page"})
        health.increment("portcullis_logouts_total")
    response = await page("logout.html", realm_, signed_out=True)
    web.set_session_cookie(response, None, realm=realm_.name)
    return response


async def identifier_form(realm: Realm, transaction_id: str, *, identifier: str,
                          status: int = 200, error: str = "", error_id: str = "") -> Response:
    """The identifier page of a transaction, with an error sentence if there is one."""
    return await page("identifier.html", realm, status=status, txn=transaction_id,
                      identifier=identifier, error=error, error_id=error_id)


async def _sign_in(realm: Realm, transaction_id: str,
                   verified: VerifiedPasskeySignIn) -> Response:
    """Take the transaction, then start the SSO session.

    In this order, of two tabs answering one transaction only the first gets a session: the
    other's :class:`ExpiredError` comes before any session row is stored.
    """
    services = web.services()
    transaction = await services.transactions.finish(realm.name, transaction_id)
    # A new sign-in replaces the browser's earlier session rather than orphaning it.
    await services.sessions.end(realm, web.session_cookie())
    session_id, sign_in = await services.sessions.create(realm, verified.user)
    method = "passkey_discoverable" if verified.discoverable else "passkey"
    return await _complete(realm, transaction, sign_in, method=method, session_id=session_id)


async def _complete(realm: Realm, transaction: LoginTransaction, sign_in: SignIn, *,
                    method: str, session_id: str | None = None) -> Response:
    """Answer a finished (taken) transaction as its protocol decides."""
    completion = await completer_for(transaction.protocol)(transaction, sign_in)
    await record_event(
        "login.succeeded", realm=realm.name, username=sign_in.username,
        client=transaction.client, ip_address=web.client_ip(),
        details={"protocol": transaction.protocol, "method": method},
    )
    health.increment("portcullis_logins_total", outcome="success")
    response = await web.render_completion(completion, realm=realm.name)
    if session_id is not None:
        web.set_session_cookie(response, session_id, realm=realm.name)
    return response


async def _refuse(realm: Realm, transaction_id: str, identifier: str,
                  error: PasskeyError | ExpiredError | InvalidRequestError) -> Response:
    """Record the failure and show the identifier page again with one helpful sentence.

    The same sentence for every cause, so a wrong passkey and an unknown person look alike.
    """
    log.warning("login.refused", extra={"realm": realm.name, "error": type(error).__name__,
                                        "detail": str(error), "error_id": error.error_id})
    await record_event(
        "login.failed", realm=realm.name, outcome="failure", username=identifier[:255],
        ip_address=web.client_ip(), error_id=error.error_id,
        details={"error": type(error).__name__},
    )
    health.increment("portcullis_logins_total", outcome="failure")
    return await identifier_form(realm, transaction_id, identifier=identifier,
                                 status=error.status_code, error=error.public_message,
                                 error_id=error.error_id)
