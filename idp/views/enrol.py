"""The enrolment page: a person opens their link, creates a passkey and is signed in.

A link that is malformed, unknown, used, replaced or expired gets a themed page (400 or 410)
and changes nothing. A failed ceremony leaves the link unused, so the person can try again.
"""

from __future__ import annotations

import logging

from quart import Blueprint, Response, request

from idp import web
from idp.audit import record_event
from idp.enrolment import (
    EnrolmentGrant,
    UsedEnrolmentLinkError,
    check_enrolment_token,
    complete_enrolment,
)
from idp.errors import ConflictError, ExpiredError, PasskeyError, PortcullisError
from idp.models import Realm
from idp.passkeys import begin_registration, verify_registration
from idp.views import health
from idp.views.common import (
    CREDENTIAL_MAX,
    load_realm,
    page,
    redirect,
    require_same_origin,
    text_field,
    token_value,
)

__all__ = ["blueprint"]

log = logging.getLogger(__name__)

blueprint = Blueprint("enrol", __name__, url_prefix="/realms/<realm>/login")


@blueprint.get("/enrol")
async def enrol_page(realm: str) -> Response:
    """Check the link and offer the registration ceremony."""
    realm_ = await load_realm(realm)
    token = request.args.get("token", "")
    grant = await check_enrolment_token(realm_, token)
    await _refuse_other_signed_in_person(realm_, grant)
    return await _enrol_form(realm_, grant, token)


@blueprint.post("/enrol")
async def submit_enrolment(realm: str) -> Response:
    """Verify the new passkey, redeem the link with it, sign in, go to the account page."""
    require_same_origin()
    realm_ = await load_realm(realm)
    services = web.services()
    form = await request.form
    token = text_field(form, "token", limit=64)
    grant = await check_enrolment_token(realm_, token)
    await _refuse_other_signed_in_person(realm_, grant)
    try:
        verified = await verify_registration(
            services.ttl, settings=services.settings, realm=realm_, user=grant.user,
            handle=token_value(form.get("handle"), "handle"), context=grant.token_hash,
            response=text_field(form, "credential", limit=CREDENTIAL_MAX),
        )
        grant, passkey = await complete_enrolment(
            realm_, token, verified, name=text_field(form, "name", required=False, limit=100),
        )
    except UsedEnrolmentLinkError:
        raise  # used by another browser meanwhile: the themed 410 page, nothing stored
    except (PasskeyError, ExpiredError, ConflictError) as error:
        return await _refuse(realm_, grant, token, error)

    # The browser's earlier session (the same person's: see above) gives way to the new one.
    await services.sessions.end(realm_, web.session_cookie())
    session_id, sign_in = await services.sessions.create(realm_, grant.user)
    await record_event(
        "enrolment.completed", realm=realm_.name, username=grant.user.username,
        ip_address=web.client_ip(), details={"purpose": grant.purpose, "passkey": passkey.id},
    )
    await record_event(
        "login.succeeded", realm=realm_.name, username=sign_in.username,
        ip_address=web.client_ip(), details={"protocol": "account", "method": grant.purpose},
    )
    health.increment("portcullis_enrolments_total")
    response = redirect(f"/realms/{realm_.name}/account/?notice=enrolled")
    web.set_session_cookie(response, session_id, realm=realm_.name)
    return response


async def _refuse_other_signed_in_person(realm: Realm, grant: EnrolmentGrant) -> None:
    """Refuse a link of one person in a browser where another is signed in.

    Otherwise a link sent by someone else would switch the browser to their account (a login
    CSRF) and register this person's passkey there. Keycloak refuses action tokens the same way.
    """
    signed_in = await web.services().sessions.find(realm, web.session_cookie())
    if signed_in is not None and signed_in.user_id != grant.user.id:
        raise ConflictError(
            f"enrolment link of {grant.user.username} opened while {signed_in.username} "
            "is signed in",
            public_message=f"You are signed in as {signed_in.username}. Sign out first, "
                           "then open this link again.",
        )


async def _enrol_form(realm: Realm, grant: EnrolmentGrant, token: str, *, status: int = 200,
                      error: str = "", error_id: str = "") -> Response:
    services = web.services()
    options = await begin_registration(
        services.ttl, settings=services.settings, realm=realm, user=grant.user,
        context=grant.token_hash,
    )
    return await page(
        "enrol.html", realm, status=status, token=token, handle=options.handle,
        options=options.options, username=grant.user.username, purpose=grant.purpose,
        display_name=grant.user.display_name or grant.user.username,
        error=error, error_id=error_id,
    )


async def _refuse(realm: Realm, grant: EnrolmentGrant, token: str,
                  error: PortcullisError) -> Response:
    log.warning("enrolment.refused", extra={"realm": realm.name, "error": type(error).__name__,
                                            "detail": str(error), "error_id": error.error_id})
    await record_event(
        "enrolment.failed", realm=realm.name, outcome="failure", username=grant.user.username,
        ip_address=web.client_ip(), error_id=error.error_id,
        details={"error": type(error).__name__},
    )
    return await _enrol_form(realm, grant, token, status=error.status_code,
                             error=error.public_message, error_id=error.error_id)
