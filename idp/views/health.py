"""Operations endpoints: liveness, readiness (the database answers) and a few counters.

``/metrics`` is Prometheus text of counters this process kept since it started; each replica
reports its own, as Prometheus expects when it scrapes every replica.
"""

from __future__ import annotations

import logging
from collections import Counter

from quart import Blueprint, Response
from tortoise import Tortoise

__all__ = ["blueprint", "increment"]

log = logging.getLogger(__name__)

blueprint = Blueprint("health", __name__)

_HELP = {
    "portcullis_logins_total": "Sign-in decisions, by outcome.",
    "portcullis_enrolments_total": "Passkeys registered through enrolment links.",
    "portcullis_logouts_total": "SSO sessions ended from the logout page.",
}
_counters: Counter[tuple[str, tuple[tuple[str, str], ...]]] = Counter()


def increment(name: str, **labels: str) -> None:
    """Add one to a counter named in ``_HELP``."""
    _counters[(name, tuple(sorted(labels.items())))] += 1


@blueprint.get("/health/live")
async def live() -> Response:
    """The process answers requests."""
    return Response('{"status":"UP"}', mimetype="application/json")


@blueprint.get("/health/ready")
async def ready() -> Response:
    """The process can serve: its database answers a trivial query."""
    try:
        await Tortoise.get_connection("default").execute_query("SELECT 1")
    except Exception as exc:  # any failure at all means "not ready", never a 500
        log.warning("health.not_ready", extra={"error": exc.__class__.__name__})
        return Response('{"status":"DOWN"}', status=503, mimetype="application/json")
    return Response('{"status":"UP"}', mimetype="application/json")


@blueprint.get("/metrics")
async def metrics() -> Response:
    """Prometheus text exposition format 0.0.4."""
    lines: list[str] = []
    for name, help_text in _HELP.items():
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} counter"]
        for (counted, labels), value in sorted(_counters.items()):
            if counted == name:
                rendered = ",".join(f'{key}="{val}"' for key, val in labels)
                lines.append(f"{name}{{{rendered}}} {value}" if rendered else f"{name} {value}")
    return Response("\n".join(lines) + "\n", mimetype="text/plain; version=0.0.4")
