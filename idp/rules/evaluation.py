"""Deciding where a person signs in: the first enabled rule that matches wins.

Rules run in order of ``priority`` (lower first, ties by name). A rule limited to some
applications is skipped for every other application. When no rule matches, the built-in
fallback is a passkey sign-in here (``local``). This module is pure: the caller loads the rules
and builds the :class:`~idp.rules.conditions.Subject`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from idp.errors import InvalidRequestError
from idp.rules.conditions import Condition, Subject

__all__ = [
    "Action",
    "ActionKind",
    "Decision",
    "FALLBACK",
    "Rule",
    "evaluate",
    "first_rule_without_identifier",
    "order_rules",
    "parse_action",
]

ActionKind = Literal["local", "upstream", "redirect"]

_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


@dataclass(frozen=True)
class Action:
    """What happens when a rule fires; ``target`` is empty for ``local``."""

    kind: ActionKind
    target: str = ""

    def describe(self) -> str:
        if self.kind == "local":
            return "sign in with a passkey here"
        if self.kind == "upstream":
            return f"sign in at upstream {self.target}"
        return f"redirect to {self.target}"


@dataclass(frozen=True)
class Rule:
    """One redirection rule of a realm; ``clients`` empty means every application."""

    name: str
    condition: Condition
    action: Action
    priority: int = 100
    enabled: bool = True
    clients: tuple[str, ...] = ()

    def applies_to(self, client: str) -> bool:
        return not self.clients or client in self.clients


@dataclass(frozen=True)
class Decision:
    """Which rule fired (``None`` for the fallback), its action and why."""

    rule: str | None
    action: ActionKind
    target: str
    reason: str


FALLBACK = Action("local")


def parse_action(kind: str, target: str = "") -> Action:
    """Build and validate an action.

    A redirect target must be an absolute ``https`` URL, or ``http`` on localhost only, so a
    rule cannot send people to a page an attacker on the network can rewrite.
    """
    target = target.strip()
    if kind == "local":
        if target:
            raise InvalidRequestError(f"action local takes no target, received {target!r}")
        return Action("local")
    if kind == "upstream":
        if not target or len(target) > 255 or any(c.isspace() for c in target):
            raise InvalidRequestError(
                f"action upstream needs the name of an upstream identity provider, "
                f"received {target!r}")
        return Action("upstream", target)
    if kind == "redirect":
        return Action("redirect", _redirect_url(target))
    raise InvalidRequestError(f"action {kind!r} is not one of local, upstream, redirect")


def _redirect_url(target: str) -> str:
    try:
        parts = urlsplit(target)
        host = parts.hostname
    except ValueError as exc:
        raise InvalidRequestError(f"redirect target {target!r} is not a URL") from exc
    if len(target) > 2048 or not host or any(c.isspace() for c in target):
        raise InvalidRequestError(
            f"redirect target {target!r} is not an absolute URL like https://example.com/")
    if parts.scheme == "https" or (parts.scheme == "http" and host in _LOCAL_HOSTS):
        return target
    raise InvalidRequestError(
        f"redirect target {target!r} must use https (http is allowed for localhost only)")


def order_rules(rules: Iterable[Rule]) -> list[Rule]:
    """The rules in the order they run: by priority, then by name."""
    return sorted(rules, key=lambda rule: (rule.priority, rule.name))


def evaluate(rules: Iterable[Rule], subject: Subject, *, client: str) -> Decision:
    """The decision for ``subject`` signing in to ``client``: the first matching rule's."""
    skipped: list[str] = []
    for rule in order_rules(rules):
        why_not = _why_skipped(rule, client)
        if why_not is None and not rule.condition.matches(subject):
            why_not = f"{rule.condition.describe()}: no"
        if why_not is not None:
            skipped.append(f"{rule.name} ({why_not})")
            continue
        return _decide(rule, skipped)
    return _fallback(skipped)


def first_rule_without_identifier(rules: Iterable[Rule], *, client: str) -> Decision | None:
    """The decision that can be made before anyone types an identifier, if there is one.

    That is so when the first rule that applies to ``client`` needs no identifier (condition
    ``default``). If an earlier rule needs the identifier it might match, so ``None``.
    """
    skipped: list[str] = []
    for rule in order_rules(rules):
        why_not = _why_skipped(rule, client)
        if why_not is not None:
            skipped.append(f"{rule.name} ({why_not})")
            continue
        if rule.condition.needs_identifier:
            return None
        return _decide(rule, skipped)
    return None


def _why_skipped(rule: Rule, client: str) -> str | None:
    if not rule.enabled:
        return "disabled"
    if not rule.applies_to(client):
        return "other applications"
    return None


def _decide(rule: Rule, skipped: list[str]) -> Decision:
    reason = f"rule {rule.name} matched ({rule.condition.describe()}): {rule.action.describe()}"
    action = rule.action
    return Decision(rule.name, action.kind, action.target, _with_skipped(reason, skipped))


def _fallback(skipped: list[str]) -> Decision:
    reason = f"no rule matched: {FALLBACK.describe()}"
    return Decision(None, FALLBACK.kind, FALLBACK.target, _with_skipped(reason, skipped))


def _with_skipped(reason: str, skipped: list[str]) -> str:
    return f"{reason}; skipped {', '.join(skipped)}" if skipped else reason
