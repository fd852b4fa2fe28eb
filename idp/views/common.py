"""Helpers the identity core's pages share: the realm, form fields, CSRF and origin checks."""

from __future__ import annotations

import json
import re
from typing import Any

from quart import Response, g, request
from werkzeug.datastructures import MultiDict

from idp import web
from idp.errors import InvalidRequestError, NotFoundError, PortcullisError
from idp.models import Realm
from idp.sessions import SignIn

__all__ = [
    "CsrfError",
    "SessionRequiredError",
    "json_object",
    "load_realm",
    "page",
    "redirect",
    "require_csrf",
    "require_same_origin",
    "require_session",
    "text_field",
    "token_value",
    "without_controls",
]

FIELD_MAX = 320
CREDENTIAL_MAX = 64 * 1024
JSON_BODY_MAX = 4 * 1024
TOKEN_MAX = 64

# C0 and C1 control characters and DEL. PostgreSQL refuses NUL in text outright; the others
# have no place in a name or identifier and can forge lines in logs and audit views.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Transaction ids, challenge handles and link tokens are secrets.token_urlsafe(): base64url.
_TOKEN = re.compile(r"[A-Za-z0-9_-]+")


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

    Its display name is kept on ``g`` so that error pages rendered later name it too; an
    unknown realm's name is never shown, since it is whatever the link said.
    """
    if _CONTROL.search(name):
        raise NotFoundError("realm name in the URL contains a control character")
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


def text_field(form: MultiDict[str, str], name: str, *, limit: int = FIELD_MAX,
               required: bool = True) -> str:
    """One form field, bounded in size and free of control characters.

    A missing required field, or one with a control character (a NUL above all, which
    PostgreSQL refuses in text), is a malformed request: refused here, before any query.
    """
    value = form.get(name, "")
    if len(value) > limit:
        raise InvalidRequestError(f"form field {name!r} longer than {limit} characters")
    if required and not value:
        raise InvalidRequestError(f"form field {name!r} missing")
    if _CONTROL.search(value):
        raise InvalidRequestError(f"form field {name!r} contains a control character")
    return value


def token_value(value: str | None, name: str) -> str:
    """A transaction id, challenge handle or link token: base64url, at most 64 characters.

    Every one of them is made by ``secrets.token_urlsafe``; anything else cannot be one.
    """
    if not value or len(value) > TOKEN_MAX or not _TOKEN.fullmatch(value):
        raise InvalidRequestError(f"{name} missing or not a base64url token")
    return value


def without_controls(value: str, *, limit: int = FIELD_MAX) -> str:
    """``value`` with control characters removed and cut to ``limit``: for audit and echo."""
    return _CONTROL.sub("", value)[:limit]


def json_object(body: str, *, limit: int = JSON_BODY_MAX) -> dict[str, Any]:
    """A small JSON object posted by the pages' fetch calls, or :class:`InvalidRequestError`.

    Bounded first, then parsed with the errors ``json`` raises on hostile input (deep nesting
    is a ``RecursionError``, a number of thousands of digits a ``ValueError``) translated.
    """
    if len(body) > limit:
        raise InvalidRequestError(f"JSON body of {len(body)} characters, at most {limit}")
    try:
        value = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise InvalidRequestError(f"JSON body malformed: {type(exc).__name__}") from exc
    if not isinstance(value, dict):
        raise InvalidRequestError("JSON body is not an object")
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
