"""The identity core's commands: realms, users and enrolment links."""

from __future__ import annotations

import argparse
import sys

from idp.directory import create_realm, create_user, get_realm, group_names, set_user_enabled
from idp.enrolment import EnrolmentPurpose, issue_enrolment_link
from idp.errors import NotFoundError
from idp.models import Realm, User
from idp.rules import cli as rule_cli
from idp.settings import Settings

__all__ = ["add_commands"]


def add_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``realm``, ``user`` and ``rule`` to the ``portcullis`` command."""
    realm = commands.add_parser("realm", help="create and list realms")
    realm_commands = realm.add_subparsers(title="realm commands", metavar="ACTION", required=True)
    create = realm_commands.add_parser("create", help="create a realm")
    create.add_argument("name")
    create.add_argument("--display-name", default="")
    create.set_defaults(run=_realm_create)
    realm_commands.add_parser("list", help="list realms").set_defaults(run=_realm_list)

    user = commands.add_parser("user", help="add, list, disable users; issue enrolment links")
    user_commands = user.add_subparsers(title="user commands", metavar="ACTION", required=True)
    add = user_commands.add_parser("add", help="add a user")
    add.add_argument("username")
    add.add_argument("--email")
    add.add_argument("--display-name", default="")
    add.add_argument("--group", action="append", default=[], help="repeat for several groups")
    add.add_argument("--enrol", action="store_true", help="also print an enrolment link")
    add.set_defaults(run=_user_add)
    user_commands.add_parser("list", help="list users").set_defaults(run=_user_list)
    for action, enabled in (("disable", False), ("enable", True)):
        toggle = user_commands.add_parser(action, help=f"{action} a user")
        toggle.add_argument("username")
        toggle.set_defaults(run=_user_toggle, enabled=enabled)
    enrol = user_commands.add_parser("enrol", help="print a single-use passkey enrolment link")
    enrol.add_argument("username")
    enrol.add_argument("--temporary-access", action="store_true",
                       help="a temporary access pass for a person who lost their passkey")
    enrol.set_defaults(run=_user_enrol)

    for parser in user_commands.choices.values():
        parser.add_argument("--realm", default="master", help="realm name (default: master)")

    rule_cli.add_commands(commands)


async def _realm_create(args: argparse.Namespace, settings: Settings) -> None:
    realm = await create_realm(args.name, display_name=args.display_name)
    print(f"created realm {realm.name}: {settings.base_url}/realms/{realm.name}/account/")


async def _realm_list(args: argparse.Namespace, settings: Settings) -> None:
    for realm in await Realm.all().order_by("name"):
        print(f"{realm.name}\t{realm.display_name}")


async def _user_add(args: argparse.Namespace, settings: Settings) -> None:
    realm = await get_realm(args.realm)
    user = await create_user(realm, username=args.username, email=args.email,
                             display_name=args.display_name, groups=args.group)
    print(f"created user {user.username} in realm {realm.name}")
    if args.enrol:
        print(await issue_enrolment_link(user, settings=settings))


async def _user_list(args: argparse.Namespace, settings: Settings) -> None:
    realm = await get_realm(args.realm)
    for user in await User.filter(realm=realm).order_by("username"):
        state = "enabled" if user.enabled else "disabled"
        passkeys = await user.credentials.all().count()
        groups = ",".join(await group_names(user))
        print(f"{user.username}\t{user.email or '-'}\t{state}\t{passkeys} passkey(s)\t{groups}")


async def _user_toggle(args: argparse.Namespace, settings: Settings) -> None:
    realm = await get_realm(args.realm)
    user = await set_user_enabled(realm, args.username, enabled=args.enabled)
    print(f"user {user.username} is {'enabled' if user.enabled else 'disabled'}")


async def _user_enrol(args: argparse.Namespace, settings: Settings) -> None:
    realm = await get_realm(args.realm)
    user = await User.get_or_none(realm=realm, username=args.username)
    if user is None:
        raise NotFoundError(f"user {args.username!r} does not exist in realm {realm.name}")
    purpose: EnrolmentPurpose = "temporary_access" if args.temporary_access else "enrolment"
    print(await issue_enrolment_link(user, settings=settings, purpose=purpose))
    print("(earlier unused links of this user no longer work)", file=sys.stderr)
