"""Audit events: every admin action and every sign-in decision, stored and logged.

An event names what happened (``login.succeeded``, ``saml.request.refused``), for whom and for
which application, and never carries a secret, a token or an attribute value.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from idp.models import AuditEvent

__all__ = ["record_event"]

log = logging.getLogger("portcullis.audit")

Outcome = Literal["success", "failure"]


async def record_event(
    type: str,
    *,
    realm: str = "",
    outcome: Outcome = "success",
    username: str = "",
    client: str = "",
    ip_address: str = "",
    error_id: str = "",
    details: dict[str, Any] | None = None,
) -> None:
    """Store one audit event and log it as a structured line."""
    fields = {
        "realm": realm, "outcome": outcome, "username": username, "client": client,
        "ip_address": ip_address, "error_id": error_id, **(details or {}),
    }
    level = logging.INFO if outcome == "success" else logging.WARNING
    log.log(level, type, extra={"event": type, **fields})
    await AuditEvent.create(
        realm_name=realm, type=type, outcome=outcome, username=username, client=client[:1024],
        ip_address=ip_address, error_id=error_id, details=details or {},
    )
