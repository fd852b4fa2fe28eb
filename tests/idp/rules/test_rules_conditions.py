"""Each condition of a redirection rule, against subjects built by hand (no database)."""

from __future__ import annotations

import logging

import pytest

from idp.errors import InvalidRequestError
from idp.rules.conditions import RegexCondition, Subject, parse_condition


def test_default_matches_anyone_even_without_identifier() -> None:
    condition = parse_condition("default", {})
    assert condition.matches(Subject(""))
    assert condition.needs_identifier is False


def test_email_domain_exact_does_not_match_subdomains() -> None:
    condition = parse_condition("email_domain", {"domains": ["example.com"]})
    assert condition.matches(Subject("ann@example.com"))
    assert not condition.matches(Subject("ann@eu.example.com"))
    assert not condition.matches(Subject("ann@notexample.com"))


def test_email_domain_includes_subdomains_when_asked() -> None:
    condition = parse_condition(
        "email_domain", {"domains": ["example.com"], "include_subdomains": True})
    assert condition.matches(Subject("ann@eu.example.com"))
    assert condition.matches(Subject("ann@example.com"))
    assert not condition.matches(Subject("ann@badexample.com"))


def test_email_domain_ignores_case_on_both_sides() -> None:
    condition = parse_condition("email_domain", {"domains": ["@Example.COM"]})
    assert condition.matches(Subject("Ann@EXAMPLE.com"))


def test_email_domain_uses_part_after_last_at() -> None:
    condition = parse_condition("email_domain", {"domains": ["example.com"]})
    assert not condition.matches(Subject("ann@example.com@evil.test"))
    assert condition.matches(Subject('"a@evil.test"@example.com'))


def test_email_domain_uses_known_users_email_when_username_typed() -> None:
    condition = parse_condition("email_domain", {"domains": ["example.com"]})
    assert not condition.matches(Subject("ann"))
    assert condition.matches(Subject("ann", username="ann", email="ann@example.com"))


def test_group_matches_member_of_any_listed_group() -> None:
    condition = parse_condition("group", {"groups": ["staff", "contractors"]})
    assert condition.matches(Subject("ann", groups=frozenset({"contractors"})))
    assert not condition.matches(Subject("ann", groups=frozenset({"admins"})))


def test_group_never_matches_unknown_user() -> None:
    condition = parse_condition("group", {"groups": ["staff"]})
    assert not condition.matches(Subject("staff"))


def test_regex_is_anchored_at_both_ends() -> None:
    condition = parse_condition("regex", {"field": "email", "pattern": r".*@example\.com"})
    assert condition.matches(Subject("ann@example.com"))
    assert not condition.matches(Subject("ann@example.com.evil.test"))
    prefix = parse_condition("regex", {"field": "username", "pattern": "ext-"})
    assert not prefix.matches(Subject("ext-ann"))


def test_regex_on_username_and_on_email_reads_the_right_field() -> None:
    subject = Subject("ann", username="ann", email="ann@example.com")
    assert parse_condition("regex", {"field": "username", "pattern": "a.n"}).matches(subject)
    assert not parse_condition("regex", {"field": "email", "pattern": "a.n"}).matches(subject)
    assert not parse_condition("regex", {"field": "email", "pattern": ".*"}).matches(
        Subject("ann"))


def test_regex_timeout_counts_as_no_match_and_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    condition = RegexCondition("username", "(a|aa)+b", timeout=0.01)
    with caplog.at_level(logging.WARNING, logger="idp.rules.conditions"):
        assert not condition.matches(Subject("a" * 60))
    assert [r.message for r in caplog.records] == ["rule.regex.timed_out"]
    assert "a" * 60 not in caplog.text


@pytest.mark.parametrize(("kind", "params"), [
    ("always", {}),
    ("email_domain", {"domains": []}),
    ("email_domain", {"domains": "example.com"}),
    ("email_domain", {"domains": ["exa mple.com"]}),
    ("group", {"groups": [""]}),
    ("regex", {"field": "email", "pattern": "("}),
    ("regex", {"field": "display_name", "pattern": "a"}),
    ("regex", {"field": "email", "pattern": ""}),
])
def test_refuses_invalid_condition(kind: str, params: dict[str, object]) -> None:
    with pytest.raises(InvalidRequestError):
        parse_condition(kind, params)
