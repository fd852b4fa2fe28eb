"""The identity core's web pages: sign-in, enrolment, account, logout and health.

Each module is a thin layer over the logic in :mod:`idp.passkeys`, :mod:`idp.enrolment` and
:mod:`idp.sessions`: it parses the request, calls the logic and renders a theme page.
"""

from __future__ import annotations

from quart import Blueprint

from idp.transactions import register_completer

__all__ = ["blueprints"]


def blueprints() -> list[Blueprint]:
    """Every blueprint of the core; also registers the ``account`` transaction completer."""
    from idp.views import account, enrol, health, login

    register_completer(login.ACCOUNT_PROTOCOL, login.complete_account)
    return [health.blueprint, login.blueprint, enrol.blueprint, account.blueprint]
