"""The durable record of a SAML service provider registered in a realm (tortoise app "saml").

Rows are read through :mod:`protocols.saml.registry`, which keeps them in memory as frozen
:class:`~protocols.saml.registration.ServiceProviderConfig` values; every write goes through
:mod:`protocols.saml.registration`, which validates it and tells the registry.
"""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

from idp.models import Realm

__all__ = ["ServiceProvider"]


class ServiceProvider(Model):
    """A SAML 2.0 service provider (Jira, Confluence, any SAML application).

    ``acs`` is a list of ``{"url", "binding", "index", "default"}`` objects (SAML Metadata
    §2.4.4 AssertionConsumerService). ``attribute_mapping`` maps a SAML Attribute ``Name``,
    sent exactly as written, to a user property: ``username``, ``email``, ``display_name`` or
    ``groups``. ``nameid_format`` is ``unspecified`` (the username), ``email`` or
    ``persistent`` (an opaque value stable per user and SP).
    """

    id = fields.IntField(primary_key=True)
    realm: fields.ForeignKeyRelation[Realm] = fields.ForeignKeyField(
        "idp.Realm", related_name="saml_service_providers", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=64)
    entity_id = fields.CharField(max_length=1024)
    acs: fields.JSONField[list[dict[str, Any]]] = fields.JSONField(default=list)
    slo_url = fields.CharField(max_length=1024, default="")
    slo_binding = fields.CharField(max_length=80, default="")
    metadata_xml = fields.TextField(null=True)
    authn_requests_signed = fields.BooleanField(default=False)
    signing_certificates: fields.JSONField[list[str]] = fields.JSONField(default=list)
    nameid_format = fields.CharField(max_length=16, default="unspecified")
    attribute_mapping: fields.JSONField[dict[str, str]] = fields.JSONField(default=dict)
    preset = fields.CharField(max_length=16, default="generic")
    enabled = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "saml_service_provider"
        unique_together = (("realm", "name"), ("realm", "entity_id"))
