"""The Quart application factory: the one place that wires the core, protocols and UI together.

The core (:mod:`idp`) never imports a protocol; this module does, registering each protocol's
models, blueprint and transaction completer at start-up.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from types import ModuleType
from typing import Any

from jinja2 import ChoiceLoader, FileSystemLoader
from quart import Quart

from idp import database, web
from idp.directory import RealmCache, get_realm
from idp.errors import NotFoundError
from idp.keys import KeyRing, load_secret_key
from idp.logs import configure_logging
from idp.services import Services
from idp.sessions import SessionManager
from idp.settings import Settings, load_settings
from idp.transactions import TransactionStore
from idp.ttl import open_ttl_store

__all__ = [
    "PROTOCOL_APPS",
    "THEMES_DIR",
    "create_app",
    "protocol_cli_modules",
    "tortoise_config_for",
]

log = logging.getLogger(__name__)

THEMES_DIR = Path(__file__).resolve().parent.parent / "themes"

PROTOCOL_APPS: dict[str, dict[str, Any]] = {
    "saml": {"models": ["protocols.saml.models"], "migrations": "protocols.saml.migrations"},
}


PROTOCOL_COMMANDS = ("protocols.saml.cli",)


def protocol_cli_modules() -> list[ModuleType]:
    """The protocols' CLI modules; each has ``add_commands(subparsers)``."""
    return [importlib.import_module(name) for name in PROTOCOL_COMMANDS]


def tortoise_config_for(settings: Settings) -> dict[str, Any]:
    """The tortoise configuration with the core's and every protocol's models."""
    return database.tortoise_config(settings.database_url, PROTOCOL_APPS)


def create_app(settings: Settings | None = None) -> Quart:
    """Build the Portcullis web application for ``settings`` (read from the environment)."""
    settings = settings or load_settings()
    configure_logging(settings.log_level)

    app = Quart(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = 256 * 1024
    app.jinja_loader = ChoiceLoader([
        FileSystemLoader(str(THEMES_DIR / settings.theme / "templates")),
        FileSystemLoader(str(THEMES_DIR / "default" / "templates")),
    ])
    web.install(app, settings=settings, themes_dir=THEMES_DIR)
    _register_blueprints(app)

    @app.before_serving
    async def start() -> None:
        config = tortoise_config_for(settings)
        await database.migrate_database(config)
        await database.open_database(config)
        ttl = open_ttl_store(settings.redis_url)
        app.extensions["portcullis"] = Services(
            settings=settings,
            ttl=ttl,
            transactions=TransactionStore(ttl, ttl=settings.transaction_ttl_seconds),
            sessions=SessionManager(
                idle_seconds=settings.sso_session_idle_seconds,
                max_seconds=settings.sso_session_max_seconds,
            ),
            keys=KeyRing(load_secret_key(settings.secret_key_file)),
            realms=RealmCache(),
        )
        await _warm_up(app.extensions["portcullis"])
        log.info("portcullis.started", extra={"base_url": settings.base_url})

    @app.after_serving
    async def stop() -> None:
        services: Services | None = app.extensions.get("portcullis")
        if services is not None:
            await services.ttl.close()
        await database.close_database()

    return app


def _register_blueprints(app: Quart) -> None:
    from idp.views import blueprints as idp_blueprints
    from protocols.saml import views as saml_views

    for blueprint in idp_blueprints():
        app.register_blueprint(blueprint)
    app.register_blueprint(saml_views.blueprint)
    saml_views.register(app)


async def _warm_up(services: Services) -> None:
    """Load the master realm's signing key now, not on the first sign-in."""
    try:
        realm = await get_realm("master")
    except NotFoundError:
        return
    await services.keys.active_key(realm)


def __getattr__(name: str) -> Any:
    # ``tortoise makemigrations`` reads TORTOISE_ORM from pyproject's [tool.tortoise].
    if name == "TORTOISE_ORM":
        return tortoise_config_for(load_settings())
    raise AttributeError(name)
