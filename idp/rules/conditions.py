"""The conditions of redirection rules: what a rule asks of the person signing in.

A condition looks only at a :class:`Subject`: the identifier the person typed and, when that
identifier names an existing user, the user's username, email and groups. Nothing here touches
the database or the web layer, so the same checks serve the login page and the dry run.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import regex

from idp.errors import InvalidRequestError

__all__ = [
    "Condition",
    "ConditionKind",
    "DefaultCondition",
    "EmailDomainCondition",
    "GroupCondition",
    "RegexCondition",
    "Subject",
    "parse_condition",
]

log = logging.getLogger(__name__)

ConditionKind = Literal["default", "email_domain", "group", "regex"]
RegexField = Literal["username", "email"]

REGEX_TIMEOUT_SECONDS = 0.05
_MAX_PATTERN_LENGTH = 512
_DOMAIN = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9-]{1,63}")


@dataclass(frozen=True)
class Subject:
    """Who is signing in, as far as is known before they prove it.

    ``groups`` is ``None`` when the identifier names no existing user: group membership is then
    unknown, and a group condition never matches.
    """

    identifier: str
    username: str | None = None
    email: str | None = None
    groups: frozenset[str] | None = None

    def email_address(self) -> str | None:
        """The known user's email, else the identifier when it looks like an address."""
        if self.email:
            return self.email
        return self.identifier if "@" in self.identifier else None

    def username_value(self) -> str:
        """The known user's username, else the identifier as typed."""
        return self.username or self.identifier


@dataclass(frozen=True)
class DefaultCondition:
    """Always matches; the only condition that needs no identifier."""

    kind: Literal["default"] = "default"
    needs_identifier = False

    def matches(self, subject: Subject) -> bool:
        return True

    def describe(self) -> str:
        return "always"

    def params(self) -> dict[str, Any]:
        return {}


@dataclass(frozen=True)
class EmailDomainCondition:
    """The email's domain (after the last ``@``) is one of ``domains``, ignoring case."""

    domains: tuple[str, ...]
    include_subdomains: bool = False
    kind: Literal["email_domain"] = "email_domain"
    needs_identifier = True

    def matches(self, subject: Subject) -> bool:
        address = subject.email_address()
        if address is None:
            return False
        domain = address.rpartition("@")[2].strip().lower().rstrip(".")
        for expected in self.domains:
            if domain == expected:
                return True
            if self.include_subdomains and domain.endswith("." + expected):
                return True
        return False

    def describe(self) -> str:
        scope = " or a subdomain" if self.include_subdomains else ""
        return f"email domain is {', '.join(self.domains)}{scope}"

    def params(self) -> dict[str, Any]:
        return {"domains": list(self.domains), "include_subdomains": self.include_subdomains}


@dataclass(frozen=True)
class GroupCondition:
    """The identifier names an existing user who belongs to any of ``groups``."""

    groups: tuple[str, ...]
    kind: Literal["group"] = "group"
    needs_identifier = True

    def matches(self, subject: Subject) -> bool:
        if subject.groups is None:
            return False
        return not subject.groups.isdisjoint(self.groups)

    def describe(self) -> str:
        return f"member of {', '.join(self.groups)}"

    def params(self) -> dict[str, Any]:
        return {"groups": list(self.groups)}


@dataclass(frozen=True)
class RegexCondition:
    """The whole username or email matches ``pattern``, within a bounded time.

    The match is anchored at both ends (``fullmatch``) so that ``.*@example\\.com`` cannot be
    satisfied by ``x@example.com.evil``. A pattern that backtracks for longer than ``timeout``
    counts as no match and is logged, so one bad rule cannot stall sign-in for everyone.
    """

    field: RegexField
    pattern: str
    timeout: float = REGEX_TIMEOUT_SECONDS
    kind: Literal["regex"] = "regex"
    needs_identifier = True

    def matches(self, subject: Subject) -> bool:
        value = subject.email_address() if self.field == "email" else subject.username_value()
        if value is None:
            return False
        try:
            return regex.fullmatch(self.pattern, value, timeout=self.timeout) is not None
        except TimeoutError:
            log.warning("rule.regex.timed_out", extra={"field": self.field,
                                                       "pattern": self.pattern})
            return False

    def describe(self) -> str:
        return f"{self.field} matches /{self.pattern}/"

    def params(self) -> dict[str, Any]:
        return {"field": self.field, "pattern": self.pattern}


Condition = DefaultCondition | EmailDomainCondition | GroupCondition | RegexCondition


def parse_condition(kind: str, params: Mapping[str, Any]) -> Condition:
    """Build and validate a condition from its kind and stored parameters.

    Raises :class:`InvalidRequestError` naming what was received and what was expected.
    """
    if kind == "default":
        return DefaultCondition()
    if kind == "email_domain":
        domains = tuple(_domain(d) for d in _names(params.get("domains"), "domain"))
        return EmailDomainCondition(domains, bool(params.get("include_subdomains", False)))
    if kind == "group":
        return GroupCondition(tuple(_names(params.get("groups"), "group")))
    if kind == "regex":
        field = params.get("field")
        if field not in ("username", "email"):
            raise InvalidRequestError(f"regex field {field!r} is not 'username' or 'email'")
        return RegexCondition(field, _pattern(params.get("pattern")))
    raise InvalidRequestError(
        f"condition {kind!r} is not one of default, email_domain, group, regex")


def _names(values: Any, what: str) -> list[str]:
    if isinstance(values, str) or not isinstance(values, list | tuple):
        raise InvalidRequestError(f"expected a list of {what}s, received {values!r}")
    names = [v.strip() for v in values if isinstance(v, str) and v.strip()]
    if not names or len(names) != len(values):
        raise InvalidRequestError(f"expected one or more non-empty {what}s, received {values!r}")
    return names


def _domain(value: str) -> str:
    domain = value.lower().lstrip("@").rstrip(".")
    if len(domain) > 253 or not _DOMAIN.fullmatch(domain):
        raise InvalidRequestError(f"{value!r} is not a domain name like example.com")
    return domain


def _pattern(value: Any) -> str:
    if not isinstance(value, str) or not value or len(value) > _MAX_PATTERN_LENGTH:
        raise InvalidRequestError(
            f"expected a regular expression of 1 to {_MAX_PATTERN_LENGTH} characters")
    try:
        regex.compile(value)
    except regex.error as exc:
        raise InvalidRequestError(f"regular expression {value!r} is invalid: {exc}") from exc
    return value
