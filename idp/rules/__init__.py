"""Redirection rules: ordered per-realm rules that decide where a person signs in.

After a person types a username or email, the first enabled rule that matches decides: a
passkey sign-in here, an upstream identity provider, or a redirect. :mod:`.conditions` and
:mod:`.evaluation` are pure logic; :mod:`.store` loads and changes rules in the database.
"""

from __future__ import annotations

from idp.rules.conditions import Subject, parse_condition
from idp.rules.evaluation import (
    Action,
    Decision,
    Rule,
    evaluate,
    first_rule_without_identifier,
    parse_action,
)

__all__ = [
    "Action",
    "Decision",
    "Rule",
    "Subject",
    "evaluate",
    "first_rule_without_identifier",
    "parse_action",
    "parse_condition",
]
