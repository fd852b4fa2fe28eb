"""Ordering, skipping and deciding over rule objects, without a database."""

from __future__ import annotations

import pytest

from idp.errors import InvalidRequestError
from idp.rules import (
    Decision,
    Rule,
    Subject,
    evaluate,
    first_rule_without_identifier,
    parse_action,
    parse_condition,
)

JIRA = "https://jira.example.com/plugins/servlet/samlconsumer"


def rule(name: str, priority: int, condition: str = "default", params: dict[str, object] | None
         = None, *, action: str = "local", target: str = "", enabled: bool = True,
         clients: tuple[str, ...] = ()) -> Rule:
    return Rule(name, parse_condition(condition, params or {}), parse_action(action, target),
                priority=priority, enabled=enabled, clients=clients)


CORP = rule("corp", 10, "email_domain", {"domains": ["corp.example"]},
            action="upstream", target="corp-entra")


def test_first_matching_rule_by_priority_decides() -> None:
    rules = [rule("everyone", 20, action="redirect", target="https://elsewhere.example/"), CORP]
    decision = evaluate(rules, Subject("ann@corp.example"), client=JIRA)
    assert (decision.rule, decision.action, decision.target) == ("corp", "upstream", "corp-entra")


def test_changing_priority_changes_which_rule_fires() -> None:
    rules = [rule("everyone", 5, action="redirect", target="https://elsewhere.example/"), CORP]
    assert evaluate(rules, Subject("ann@corp.example"), client=JIRA).rule == "everyone"


def test_disabled_rule_is_skipped() -> None:
    rules = [rule("corp", 10, "email_domain", {"domains": ["corp.example"]}, enabled=False,
                  action="upstream", target="corp-entra")]
    decision = evaluate(rules, Subject("ann@corp.example"), client=JIRA)
    assert decision == Decision(None, "local", "",
                                "no rule matched: sign in with a passkey here; "
                                "skipped corp (disabled)")


def test_rule_limited_to_one_application_applies_only_there() -> None:
    rules = [rule("jira-only", 10, action="upstream", target="corp", clients=(JIRA,))]
    assert evaluate(rules, Subject("ann"), client=JIRA).rule == "jira-only"
    other = evaluate(rules, Subject("ann"), client="https://wiki.example.com/")
    assert other.rule is None
    assert "jira-only (other applications)" in other.reason


def test_default_rule_to_url_fires_before_identifier_page() -> None:
    rules = [rule("off", 1, enabled=False),
             rule("to-portal", 10, action="redirect", target="https://portal.example.com/in")]
    decision = first_rule_without_identifier(rules, client=JIRA)
    assert decision is not None
    assert (decision.action, decision.target) == ("redirect", "https://portal.example.com/in")


def test_no_early_decision_when_an_earlier_rule_needs_the_identifier() -> None:
    rules = [CORP, rule("to-portal", 20, action="redirect", target="https://portal.example/")]
    assert first_rule_without_identifier(rules, client=JIRA) is None
    assert first_rule_without_identifier([], client=JIRA) is None


def test_dry_run_reason_names_matched_and_skipped_rules() -> None:
    rules = [CORP, rule("staff", 15, "group", {"groups": ["staff"]}),
             rule("rest", 30, action="redirect", target="http://localhost:9000/")]
    decision = evaluate(rules, Subject("bob@other.example"), client=JIRA)
    assert decision.reason == (
        "rule rest matched (always): redirect to http://localhost:9000/; "
        "skipped corp (email domain is corp.example: no), staff (member of staff: no)")


def test_no_rule_falls_back_to_local() -> None:
    assert evaluate([], Subject("ann"), client=JIRA) == Decision(
        None, "local", "", "no rule matched: sign in with a passkey here")


@pytest.mark.parametrize(("kind", "target"), [
    ("redirect", "http://portal.example.com/"),
    ("redirect", "/relative/path"),
    ("redirect", "javascript:alert(1)"),
    ("redirect", "https://"),
    ("upstream", ""),
    ("local", "https://example.com/"),
    ("teleport", ""),
])
def test_refuses_invalid_action(kind: str, target: str) -> None:
    with pytest.raises(InvalidRequestError):
        parse_action(kind, target)


def test_accepts_http_redirect_to_localhost_only() -> None:
    assert parse_action("redirect", "http://127.0.0.1:8000/x").target == "http://127.0.0.1:8000/x"
