"""What the SAML front end keeps for the life of one application, and how it refuses.

:class:`SamlContext` holds the core's services and this package's caches. :func:`refuse`
is the one place a refusal is decided: it records the audit event, then either answers the SP
with an error Response (when a registered ACS is known) or lets the error become the themed
error page.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from idp.audit import record_event
from idp.directory import REALM_NAME
from idp.errors import PortcullisError
from idp.services import Services
from idp.transactions import Completion
from protocols.saml.errors import SamlError
from protocols.saml.idp import IdentityProviders
from protocols.saml.registry import Registry
from protocols.saml.response import build_error_response

__all__ = ["SamlContext", "make_context", "refuse"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SamlContext:
    """The core's services, the realms' identity providers and their registered SPs.

    One per application: tests start many applications, each with its own database, so
    nothing here may be module-global.
    """

    services: Services
    registry: Registry
    idps: IdentityProviders


def make_context(services: Services) -> SamlContext:
    """A fresh context around the services made at start-up."""
    return SamlContext(
        services=services,
        registry=Registry(),
        idps=IdentityProviders(base_url=services.settings.base_url, keys=services.keys),
    )


async def refuse(ctx: SamlContext, *, realm_name: str, error: PortcullisError, client: str,
                 ip: str) -> Completion:
    """Record a refusal; return the error Response to post, or re-raise for the error page.

    SAML Profiles §4.1.4.3 (and Core §3.2.2.2): once the requester and a registered ACS are
    known, a refusal is a Response with the status saying why. Before that, nothing can be
    posted safely and the person sees the error page with the error id.
    """
    status = getattr(error, "second_level", None) or getattr(error, "status_code_value", "")
    # The realm comes from the URL, which may hold anything; record only a plausible name.
    named = realm_name if REALM_NAME.fullmatch(realm_name) else ""
    await record_event(
        "saml.request.refused", realm=named, outcome="failure", client=client,
        ip_address=ip, error_id=error.error_id,
        details={"error": type(error).__name__, "status": status},
    )
    if not isinstance(error, SamlError) or error.reply is None:
        raise error

    reply = error.reply
    log.warning("saml.error_response.sent", extra={
        "realm": named, "client": client, "error": type(error).__name__,
        "detail": str(error), "error_id": error.error_id})
    idp = await ctx.idps.get(await ctx.registry.realm(realm_name))
    saml_response = await asyncio.to_thread(build_error_response, idp, reply=reply,
                                            error=error)
    fields = {"SAMLResponse": saml_response}
    if reply.relay_state is not None:
        fields["RelayState"] = reply.relay_state
    return Completion(kind="post", url=reply.acs_url, fields=fields)
