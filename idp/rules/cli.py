"""The ``rule`` command: add, list, order, enable, disable, remove and test redirection rules."""

from __future__ import annotations

import argparse
from typing import Any

from idp.directory import get_realm
from idp.rules.store import (
    add_rule,
    dry_run,
    load_rules,
    move_rule,
    remove_rule,
    set_rule_enabled,
)
from idp.settings import Settings

__all__ = ["add_commands"]


def add_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``rule`` and its actions to the ``portcullis`` command."""
    rule = commands.add_parser("rule", help="manage the redirection rules of a realm")
    actions = rule.add_subparsers(title="rule commands", metavar="ACTION", required=True)

    add = actions.add_parser("add", help="add a rule (it runs last unless --priority is given)")
    add.add_argument("name")
    add.add_argument("--condition", required=True,
                     choices=["default", "email_domain", "group", "regex"])
    add.add_argument("--domain", action="append", default=[], help="repeat for several")
    add.add_argument("--subdomains", action="store_true", help="also match subdomains")
    add.add_argument("--group", action="append", default=[], help="repeat for several")
    add.add_argument("--field", choices=["username", "email"], default="username")
    add.add_argument("--pattern", help="a regular expression matched against the whole field")
    add.add_argument("--action", required=True, choices=["local", "upstream", "redirect"])
    add.add_argument("--target", default="", help="upstream name or redirect URL")
    add.add_argument("--priority", type=int, help="lower runs first")
    add.add_argument("--client", action="append", default=[],
                     help="limit to this application (repeat for several)")
    add.add_argument("--disabled", action="store_true")
    add.set_defaults(run=_add)

    actions.add_parser("list", help="list rules in the order they run").set_defaults(run=_list)
    move = actions.add_parser("move", help="change a rule's priority")
    move.add_argument("name")
    move.add_argument("priority", type=int)
    move.set_defaults(run=_move)
    for verb, enabled in (("enable", True), ("disable", False)):
        toggle = actions.add_parser(verb, help=f"{verb} a rule")
        toggle.add_argument("name")
        toggle.set_defaults(run=_toggle, enabled=enabled)
    remove = actions.add_parser("remove", help="delete a rule")
    remove.add_argument("name")
    remove.set_defaults(run=_remove)
    test = actions.add_parser("test", help="dry run: which rule fires for an identifier")
    test.add_argument("identifier")
    test.add_argument("--client", default="", help="the application's client identifier")
    test.set_defaults(run=_test)

    for parser in actions.choices.values():
        parser.add_argument("--realm", default="master", help="realm name (default: master)")


async def _add(args: argparse.Namespace, settings: Settings) -> None:
    realm = await get_realm(args.realm)
    params: dict[str, Any] = {
        "default": {},
        "email_domain": {"domains": args.domain, "include_subdomains": args.subdomains},
        "group": {"groups": args.group},
        "regex": {"field": args.field, "pattern": args.pattern},
    }[args.condition]
    rule = await add_rule(
        realm, name=args.name, condition=args.condition, condition_params=params,
        action=args.action, target=args.target, priority=args.priority, clients=args.client,
        enabled=not args.disabled,
    )
    print(f"created rule {rule.name} at priority {rule.priority} in realm {realm.name}")


async def _list(args: argparse.Namespace, settings: Settings) -> None:
    realm = await get_realm(args.realm)
    for rule in await load_rules(realm):
        state = "enabled" if rule.enabled else "disabled"
        clients = ",".join(rule.clients) or "all applications"
        print(f"{rule.priority}\t{rule.name}\t{state}\t{rule.condition.describe()}"
              f"\t{rule.action.describe()}\t{clients}")


async def _move(args: argparse.Namespace, settings: Settings) -> None:
    rule = await move_rule(await get_realm(args.realm), args.name, priority=args.priority)
    print(f"rule {rule.name} now has priority {rule.priority}")


async def _toggle(args: argparse.Namespace, settings: Settings) -> None:
    rule = await set_rule_enabled(await get_realm(args.realm), args.name, enabled=args.enabled)
    print(f"rule {rule.name} is {'enabled' if rule.enabled else 'disabled'}")


async def _remove(args: argparse.Namespace, settings: Settings) -> None:
    await remove_rule(await get_realm(args.realm), args.name)
    print(f"removed rule {args.name}")


async def _test(args: argparse.Namespace, settings: Settings) -> None:
    decision = await dry_run(await get_realm(args.realm), args.identifier, client=args.client)
    target = f" {decision.target}" if decision.target else ""
    print(f"{decision.action}{target}\n{decision.reason}")
