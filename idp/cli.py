"""Portcullis: run the identity provider and manage its realms, users and applications.

Every command prints one clear line on error and exits non-zero. Commands that change data
open the database themselves, so they work while a server runs on the same database.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import socket
import sys
import warnings
from urllib.parse import urlsplit
from collections.abc import Awaitable, Callable, Sequence

from idp import bootstrap
from idp.errors import ConfigurationError, PortcullisError
from idp.settings import Settings, load_settings

__all__ = ["main"]

Command = Callable[[argparse.Namespace, Settings], Awaitable[None]]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``portcullis`` console script."""
    # pysaml2 imports a cipher mode that cryptography has deprecated; nothing here uses it.
    warnings.filterwarnings("ignore", message="CFB has been moved", module="saml2")
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        settings = load_settings()
        if args.run is _serve:
            _serve(args, settings)
        else:
            asyncio.run(_with_database(args.run, args, settings))
    except PortcullisError as exc:
        print(f"portcullis: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


async def _with_database(command: Command, args: argparse.Namespace, settings: Settings) -> None:
    from idp.app import tortoise_config_for
    from idp.database import close_database, migrate_database, open_database

    config = tortoise_config_for(settings)
    await migrate_database(config)
    await open_database(config)
    try:
        await bootstrap.ensure_master_realm()
        await command(args, settings)
    finally:
        await close_database()


def _serve(args: argparse.Namespace, settings: Settings) -> None:
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    from idp.app import create_app

    host, port = args.host or settings.host, args.port or settings.port
    _check_can_listen(host, port)
    asyncio.run(_with_database(_first_start, args, settings))
    print(f"Portcullis: listening on {host}:{port}; people sign in at "
          f"{settings.base_url}/realms/master/account/", flush=True)
    if urlsplit(settings.base_url).port not in (port, None):
        print(f"Portcullis: warning: PORTCULLIS_BASE_URL {settings.base_url} names another "
              f"port than {port}; passkeys only work at the base URL", file=sys.stderr)
    config = Config()
    config.bind = [f"{host}:{port}"]
    config.accesslog = None
    config.errorlog = logging.getLogger("hypercorn.error")  # our JSON lines, once
    asyncio.run(serve(create_app(settings), config))


def _check_can_listen(host: str, port: int) -> None:
    """Fail with one line before start-up, rather than after it, when the port is taken."""
    try:
        with socket.create_server((host, port), reuse_port=False):
            pass
    except OSError as exc:
        raise ConfigurationError(
            f"PORTCULLIS_HOST/PORTCULLIS_PORT: cannot listen on {host}:{port}: {exc.strerror}"
        ) from exc


async def _first_start(args: argparse.Namespace, settings: Settings) -> None:
    link = await bootstrap.ensure_first_admin(settings)
    if link:
        print("Portcullis: the administrator 'admin' of realm 'master' has no passkey yet.")
        print(f"Open this single-use link to register it:\n\n  {link}\n", flush=True)


def _parser() -> argparse.ArgumentParser:
    from idp import cli_commands
    from idp.app import protocol_cli_modules

    parser = argparse.ArgumentParser(
        prog="portcullis", description=__doc__.splitlines()[0],
        epilog="Settings come from PORTCULLIS_* variables; see the README.",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the server (migrates the database first)")
    serve.add_argument("--host", default="", help="address to listen on (PORTCULLIS_HOST)")
    serve.add_argument("--port", type=int, default=0, help="port to listen on (PORTCULLIS_PORT)")
    serve.set_defaults(run=_serve)

    migrate = commands.add_parser("migrate", help="apply database migrations and exit")
    migrate.set_defaults(run=_nothing)

    cli_commands.add_commands(commands)
    for module in protocol_cli_modules():
        module.add_commands(commands)
    return parser


async def _nothing(args: argparse.Namespace, settings: Settings) -> None:
    print("database is up to date")

