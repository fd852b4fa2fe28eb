"""Storing, ordering and dry-running rules in a real database; every change is audited."""

from __future__ import annotations

import pytest

from idp.directory import create_realm, create_user
from idp.errors import ConflictError, InvalidRequestError, NotFoundError
from idp.models import AuditEvent, Realm
from idp.rules.models import RedirectionRule
from idp.rules.store import (
    add_rule,
    dry_run,
    load_rules,
    move_rule,
    remove_rule,
    set_rule_enabled,
)


@pytest.fixture
async def realm(db: None) -> Realm:
    return await create_realm("acme")


async def test_rules_run_in_priority_order_and_move(realm: Realm) -> None:
    await add_rule(realm, name="staff", condition="group", condition_params={"groups": ["staff"]},
                   action="upstream", target="corp-entra")
    await add_rule(realm, name="rest", condition="default", action="local")
    assert [(r.name, r.priority) for r in await load_rules(realm)] == [("staff", 10), ("rest", 20)]

    await move_rule(realm, "rest", priority=5)

    assert [r.name for r in await load_rules(realm)] == ["rest", "staff"]


async def test_dry_run_sees_groups_of_existing_user(realm: Realm) -> None:
    await create_user(realm, username="ann", email="ann@acme.example", groups=["staff"])
    await add_rule(realm, name="staff", condition="group", condition_params={"groups": ["staff"]},
                   action="upstream", target="corp-entra")

    known = await dry_run(realm, "ann@acme.example", client="jira")
    unknown = await dry_run(realm, "staff", client="jira")

    assert (known.rule, known.action, known.target) == ("staff", "upstream", "corp-entra")
    assert (unknown.rule, unknown.action) == (None, "local")


async def test_disabled_rule_is_skipped_until_enabled(realm: Realm) -> None:
    await add_rule(realm, name="portal", condition="default", action="redirect",
                   target="https://portal.acme.example/", enabled=False)
    assert (await dry_run(realm, "ann")).rule is None

    await set_rule_enabled(realm, "portal", enabled=True)

    assert (await dry_run(realm, "ann")).target == "https://portal.acme.example/"


async def test_every_change_is_an_audit_event(realm: Realm) -> None:
    await add_rule(realm, name="r", condition="default", action="local", clients=["jira"])
    await move_rule(realm, "r", priority=50)
    await set_rule_enabled(realm, "r", enabled=False)
    await set_rule_enabled(realm, "r", enabled=True)
    await remove_rule(realm, "r")

    events = await AuditEvent.filter(realm_name="acme").order_by("id").values_list(
        "type", flat=True)
    assert events == ["rule.created", "rule.moved", "rule.disabled", "rule.enabled",
                      "rule.removed"]
    assert await load_rules(realm) == []


async def test_rule_names_are_unique_per_realm(realm: Realm) -> None:
    other = await create_realm("other")
    await add_rule(realm, name="r", condition="default", action="local")
    await add_rule(other, name="r", condition="default", action="local")

    with pytest.raises(ConflictError):
        await add_rule(realm, name="r", condition="default", action="local")


@pytest.mark.parametrize("bad", [
    {"name": "two words"},
    {"condition": "regex", "condition_params": {"field": "email", "pattern": "(["}},
    {"condition": "email_domain", "condition_params": {"domains": []}},
    {"action": "redirect", "target": "http://portal.acme.example/"},
    {"clients": [""]},
])
async def test_refuses_bad_input_and_stores_nothing(realm: Realm, bad: dict[str, object]) -> None:
    fields: dict[str, object] = {"name": "r", "condition": "default", "action": "local", **bad}

    with pytest.raises(InvalidRequestError):
        await add_rule(realm, **fields)  # type: ignore[arg-type]

    assert await RedirectionRule.all().count() == 0
    assert await AuditEvent.filter(type="rule.created").count() == 0


async def test_changing_a_missing_rule_is_not_found(realm: Realm) -> None:
    with pytest.raises(NotFoundError):
        await move_rule(realm, "nope", priority=1)
    with pytest.raises(NotFoundError):
        await remove_rule(realm, "nope")
