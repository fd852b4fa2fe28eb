"""Helpers the identity core's pages share: the realm, form fields, CSRF and origin checks."""

from __future__ import annotations

import json
from typing import Any

from quart import Response, g, request
from werkzeug.datastructures import MultiDict

from idp import web
from idp.errors import InvalidRequestError, PortcullisError
from idp.models import Realm
from idp.sessions import SignIn

__all__ = [
    "CsrfError",
    "SessionRequiredError",
    "json_response",
    "load_realm",
    "page",
    "redirect",
    "require_csrf",
    "require_same_origin",
    "require_session",
    "text_field",
]

FIELD_MAX = 320
CREDENTIAL_MAX = 64 * 1024


class CsrfError(InvalidRequestError):
    """A form or fetch of a signed-in person came without its CSRF token, or another's."""

    status_code = 403
    public_message = "This form has expired. Please reload the page and try again."


class SessionRequiredError(PortcullisError):
    """A page that acts on a person's account was posted to without a live session."""

    status_code = 401
    public_message = "Your session has ended. Please sign in again."


async def load_realm(name: str) -> Realm:
    """The realm of the URL; :class:`NotFoundError` (a themed 404) if there is none.

    Its display name is kept on ``g`` so that error pages rendered later name it too.
    """
    realm = await web.services().realms.get(name)
    g.realm_display_name = realm.display_name or realm.name
    return realm


async def page(template: str, realm: Realm, *, status: int = 200, **context: Any) -> Response:
    """Render a theme page with the realm's name and display name in its context."""
    return await web.render_page(
        template, status=status, realm=realm.name,
        realm_display_name=realm.display_name or realm.name, **context,
    )


def redirect(location: str) -> Response:
    """A 303 See Other: after a form POST the browser follows with a GET."""
    response = Response("", status=303)
    response.headers["Location"] = location
    return response


def json_response(body: dict[str, Any], *, status: int = 200) -> Response:
    """A JSON answer for the pages' fetch calls."""
    return Response(json.dumps(body, separators=(",", ":")), status=status,
                    mimetype="application/json")


def text_field(form: MultiDict[str, str], name: str, *, limit: int = FIELD_MAX,
               required: bool = True) -> str:
    """One form field, bounded in size; a missing required field is a malformed request."""
    value = form.get(name, "")
    if len(value) > limit:
        raise InvalidRequestError(f"form field {name!r} longer than {limit} characters")
    if required and not value:
        raise InvalidRequestError(f"form field {name!r} missing")
    return value


def require_same_origin() -> None:
    """Refuse a state-changing request a browser marks as sent from another site.

    ``Sec-Fetch-Site`` decides when the browser sends it. Otherwise ``Origin`` must be the
    configured origin, unless it is ``null``: the pages' ``no-referrer`` policy makes some
    browsers send that for their own form posts. A client that sends neither is not a browser
    being tricked, so its request is let through. This keeps a third-party page from posting
    its own passkey assertion into a person's browser (login CSRF), where no session exists
    yet for a CSRF token to bind to.
    """
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        if site not in ("same-origin", "none"):
            raise CsrfError(f"POST with Sec-Fetch-Site {site!r}, expected same-origin")
        return
    origin = request.headers.get("Origin")
    if origin not in (None, "null", web.services().settings.origin):
        raise CsrfError(f"POST from origin {origin!r}, expected the configured origin")


def require_csrf(sign_in: SignIn, token: str | None) -> None:
    """The token must be the one bound to this browser's session cookie."""
    session_id = web.session_cookie() or ""
    if not session_id or not token or not web.verify_csrf(session_id, token):
        raise CsrfError(f"CSRF token missing or wrong for {sign_in.username}")


async def require_session(realm: Realm) -> SignIn:
    """The person signed in to ``realm`` in this browser, or :class:`SessionRequiredError`."""
    sign_in = await web.services().sessions.find(realm, web.session_cookie())
    if sign_in is None:
        raise SessionRequiredError(f"no live session in realm {realm.name}")
    return sign_in
