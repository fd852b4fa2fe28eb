"""The account page: a signed-in person's own passkeys, to add, rename and remove.

Every form carries the CSRF token bound to the session cookie; the one fetch (registration
options) carries it in the ``X-CSRF-Token`` header. Without a session the page sends the
person to sign in, and the sign-in comes back here.
"""

from __future__ import annotations

from quart import Blueprint, Response, request
from werkzeug.datastructures import MultiDict

from idp import web
from idp.audit import record_event
from idp.errors import ConflictError, ExpiredError, PasskeyError, PortcullisError
from idp.models import Realm, User
from idp.passkeys import (
    LastPasskeyError,
    begin_registration,
    finish_registration,
    list_passkeys,
    remove_passkey,
    rename_passkey,
)
from idp.sessions import SignIn
from idp.views.common import (
    CREDENTIAL_MAX,
    load_realm,
    page,
    redirect,
    require_csrf,
    require_same_origin,
    require_session,
    text_field,
)

__all__ = ["NOTICES", "blueprint"]

blueprint = Blueprint("account", __name__, url_prefix="/realms/<realm>/account")

NOTICES = {
    "enrolled": "Your passkey is ready and you are signed in.",
    "added": "Your new passkey is ready.",
    "renamed": "The passkey was renamed.",
    "removed": "The passkey was removed.",
}


@blueprint.get("/")
async def account_page(realm: str) -> Response:
    """The person's passkeys, or a detour through the sign-in page."""
    realm_ = await load_realm(realm)
    sign_in = await web.services().sessions.find(realm_, web.session_cookie())
    if sign_in is None:
        return redirect(f"/realms/{realm_.name}/login/")
    return await _account(realm_, sign_in, notice=NOTICES.get(request.args.get("notice", ""), ""))


@blueprint.post("/passkeys/options")
async def registration_options(realm: str) -> Response:
    """Creation options for one more passkey, excluding those the person has."""
    require_same_origin()
    realm_ = await load_realm(realm)
    sign_in = await require_session(realm_)
    require_csrf(sign_in, request.headers.get("X-CSRF-Token"))
    services = web.services()
    options = await begin_registration(
        services.ttl, settings=services.settings, realm=realm_,
        user=await User.get(id=sign_in.user_id), context=sign_in.session_index,
    )
    return web.json_response({"handle": options.handle, "options": options.options})


@blueprint.post("/passkeys")
async def add_passkey(realm: str) -> Response:
    """Verify and store the new passkey."""
    realm_, sign_in, form = await _signed_form()
    services = web.services()
    try:
        passkey = await finish_registration(
            services.ttl, settings=services.settings, realm=realm_,
            user=await User.get(id=sign_in.user_id), context=sign_in.session_index,
            handle=text_field(form, "handle", limit=64),
            response=text_field(form, "credential", limit=CREDENTIAL_MAX),
            name=text_field(form, "name", required=False, limit=100),
        )
    except (PasskeyError, ExpiredError, ConflictError) as error:
        await _audit(realm_, sign_in, "passkey.add_failed", error=error)
        return await _account(realm_, sign_in, status=error.status_code,
                              error=error.public_message, error_id=error.error_id)
    await _audit(realm_, sign_in, "passkey.added", passkey=passkey.id)
    return redirect(f"/realms/{realm_.name}/account/?notice=added")


@blueprint.post("/passkeys/<int:passkey_id>/rename")
async def rename(realm: str, passkey_id: int) -> Response:
    """Give a passkey a name the person recognises."""
    realm_, sign_in, form = await _signed_form()
    await rename_passkey(sign_in.user_id, passkey_id,
                         text_field(form, "name", required=False, limit=100))
    await _audit(realm_, sign_in, "passkey.renamed", passkey=passkey_id)
    return redirect(f"/realms/{realm_.name}/account/?notice=renamed")


@blueprint.post("/passkeys/<int:passkey_id>/remove")
async def remove(realm: str, passkey_id: int) -> Response:
    """Remove a passkey, unless it is the person's last."""
    realm_, sign_in, _ = await _signed_form()
    try:
        await remove_passkey(sign_in.user_id, passkey_id)
    except LastPasskeyError as error:
        return await _account(realm_, sign_in, status=error.status_code,
                              error=error.public_message, error_id=error.error_id)
    await _audit(realm_, sign_in, "passkey.removed", passkey=passkey_id)
    return redirect(f"/realms/{realm_.name}/account/?notice=removed")


async def _signed_form() -> tuple[Realm, SignIn, MultiDict[str, str]]:
    """The realm, the signed-in person and the form, once origin and CSRF token are checked."""
    require_same_origin()
    realm_ = await load_realm((request.view_args or {})["realm"])
    sign_in = await require_session(realm_)
    form = await request.form
    require_csrf(sign_in, form.get("csrf"))
    return realm_, sign_in, form


async def _account(realm: Realm, sign_in: SignIn, *, status: int = 200, notice: str = "",
                   error: str = "", error_id: str = "") -> Response:
    return await page(
        "account.html", realm, status=status, username=sign_in.username,
        passkeys=await list_passkeys(sign_in.user_id),
        csrf=web.csrf_token(web.session_cookie() or ""),
        notice=notice, error=error, error_id=error_id,
    )


async def _audit(realm: Realm, sign_in: SignIn, event: str, *, passkey: int = 0,
                 error: PortcullisError | None = None) -> None:
    details: dict[str, object] = {"passkey": passkey} if passkey else {}
    if error is not None:
        details["error"] = type(error).__name__
    await record_event(
        event, realm=realm.name, username=sign_in.username, ip_address=web.client_ip(),
        outcome="failure" if error else "success", error_id=error.error_id if error else "",
        details=details,
    )
