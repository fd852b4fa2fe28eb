"""The stored form of a redirection rule; :mod:`idp.rules.store` turns it into a Rule."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

from idp.models import Realm

__all__ = ["RedirectionRule"]


class RedirectionRule(Model):
    """One ordered rule of a realm deciding where a person signs in."""

    id = fields.IntField(primary_key=True)
    realm: fields.ForeignKeyRelation[Realm] = fields.ForeignKeyField(
        "idp.Realm", related_name="redirection_rules", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=64)
    enabled = fields.BooleanField(default=True)
    priority = fields.IntField(default=100)
    clients: fields.JSONField[list[str]] = fields.JSONField(default=list)
    condition_kind = fields.CharField(max_length=32)
    condition_params: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    action_kind = fields.CharField(max_length=32)
    action_target = fields.CharField(max_length=2048, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "redirection_rule"
        unique_together = (("realm", "name"),)
