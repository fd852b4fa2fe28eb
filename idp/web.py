"""The thin web layer shared by every blueprint: services, pages, cookies and headers.

Views parse a request, call the logic and answer through these helpers. Every response carries
a strict Content-Security-Policy (no inline script or style); the auto-submitting form that
carries a SAML Response widens ``form-action`` to exactly the one URL it posts to.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from pathlib import Path
from typing import Any

from quart import (
    Quart,
    Response,
    current_app,
    g,
    render_template,
    request,
    send_from_directory,
)
from werkzeug.exceptions import InternalServerError

from idp.errors import NotFoundError, PortcullisError, UnexpectedError
from idp.services import Services
from idp.sessions import SESSION_COOKIE
from idp.settings import Settings
from idp.transactions import Completion

__all__ = [
    "client_ip",
    "csrf_token",
    "install",
    "json_response",
    "render_completion",
    "render_error",
    "render_page",
    "services",
    "session_cookie",
    "set_session_cookie",
    "verify_csrf",
]

log = logging.getLogger(__name__)

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def install(app: Quart, *, settings: Settings, themes_dir: Path) -> None:
    """Add the static theme files, security headers and error pages to ``app``."""
    theme_static = [themes_dir / settings.theme / "static", themes_dir / "default" / "static"]

    @app.route("/resources/<path:filename>")
    async def theme_resource(filename: str) -> Response:
        for folder in theme_static:
            if (folder / filename).is_file():
                response = await send_from_directory(folder, filename)
                response.cache_control.max_age = 3600
                return response
        raise NotFoundError(f"theme resource {filename!r} not found")

    @app.after_request
    async def security_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if response.mimetype == "text/html":
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.errorhandler(PortcullisError)
    async def portcullis_error(error: PortcullisError) -> Response:
        log.warning(
            "request.failed",
            extra={"error": error.__class__.__name__, "detail": str(error),
                   "error_id": error.error_id, "path": request.path},
        )
        return await render_error(error)

    @app.errorhandler(413)
    async def too_large(_: Exception) -> Response:
        return await render_error(PortcullisError("request body too large",
                                                  public_message="The request was too large."),
                                  status=413)

    @app.errorhandler(404)
    async def not_found(_: Exception) -> Response:
        return await render_error(NotFoundError("no route"))

    @app.errorhandler(405)
    async def not_allowed(_: Exception) -> Response:
        return await render_error(PortcullisError("method not allowed"), status=405)

    @app.errorhandler(InternalServerError)
    async def server_error(error: InternalServerError) -> Response:
        """Any exception nothing else handled: logged with its traceback, shown as an id.

        Quart calls this with the original exception attached (unless ``PROPAGATE_EXCEPTIONS``
        or testing mode re-raises it); the person sees the themed page and the error id that
        finds the traceback in the log, never the exception.
        """
        unexpected = UnexpectedError(f"unhandled {type(error.original_exception).__name__}")
        # Known shortcoming: Quart has already logged this traceback once, without the id.
        log.error(
            "request.crashed",
            exc_info=error.original_exception or error,
            extra={"error": type(error.original_exception).__name__,
                   "error_id": unexpected.error_id, "path": request.path},
        )
        return await render_error(unexpected)


def json_response(body: dict[str, Any], *, status: int = 200) -> Response:
    """A JSON answer: the pages' fetch calls, and errors for clients that asked for JSON."""
    return Response(json.dumps(body, separators=(",", ":")), status=status,
                    mimetype="application/json")


def services() -> Services:
    """The process's :class:`Services`, made at start-up."""
    return current_app.extensions["portcullis"]  # type: ignore[no-any-return]


async def render_page(template: str, *, status: int = 200, **context: Any) -> Response:
    """Render a theme template into an HTML response."""
    body = await render_template(template, **context)
    return Response(body, status=status, mimetype="text/html")


async def render_error(error: PortcullisError, *, status: int | None = None,
                       realm: str = "") -> Response:
    """The themed error page: one helpful sentence and the error id, never the detail.

    The realm is named only if the view loaded it (``load_realm`` sets ``g``): the realm
    segment of a URL for an unknown realm is attacker's text, not a name to print.
    """
    if request.accept_mimetypes.best == "application/json" or request.is_json:
        body = {"error": error.__class__.__name__, "message": error.public_message,
                "error_id": error.error_id}
        return json_response(body, status=status or error.status_code)
    return await render_page(
        "error.html", status=status or error.status_code, message=error.public_message,
        error_id=error.error_id, realm=realm or _loaded_realm(),
    )


async def render_completion(completion: Completion, *, realm: str) -> Response:
    """Send the browser back to the application as the protocol decided."""
    if completion.kind == "redirect":
        response = Response("", status=302)
        response.headers["Location"] = completion.url
        return response
    if completion.kind == "page":
        return await render_page("error.html", status=400, message=completion.message,
                                 error_id="", realm=realm)
    response = await render_page("post.html", url=completion.url, fields=completion.fields,
                                 realm=realm)
    response.headers["Content-Security-Policy"] = CSP.replace(
        "form-action 'self'", f"form-action {_csp_source(completion.url)}"
    )
    return response


def session_cookie() -> str | None:
    """The SSO session id the browser sent, if any."""
    return request.cookies.get(SESSION_COOKIE)


def set_session_cookie(response: Response, session_id: str | None, *, realm: str) -> None:
    """Set (or, with ``None``, clear) the HttpOnly, SameSite=Lax session cookie of a realm."""
    settings = services().settings
    path = f"/realms/{realm}/"
    if session_id is None:
        response.delete_cookie(SESSION_COOKIE, path=path)
        return
    response.set_cookie(
        SESSION_COOKIE, session_id, path=path, httponly=True, samesite="Lax",
        secure=settings.secure_cookies,
    )


def csrf_token(session_id: str) -> str:
    """A CSRF token bound to the SSO session: an HMAC of its id under the secret key."""
    key = services().keys.derive_key("csrf")
    return hmac.new(key, session_id.encode(), hashlib.sha256).hexdigest()


def verify_csrf(session_id: str, token: str) -> bool:
    """Whether ``token`` is the CSRF token of ``session_id``."""
    return hmac.compare_digest(csrf_token(session_id), token or "")


def client_ip() -> str:
    """The peer address, for audit events (not trusted for any decision)."""
    return request.remote_addr or ""


def _loaded_realm() -> str:
    if not g.get("realm_display_name"):
        return ""
    return str((request.view_args or {}).get("realm", ""))


def _csp_source(url: str) -> str:
    # A CSP source expression may not contain ';' or ',' or spaces; quote-free URL only.
    return url.replace(";", "%3B").replace(",", "%2C").replace(" ", "%20")

