"""Registering SPs: presets, validation, storage, and the in-memory registry."""

from __future__ import annotations

import pytest
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT

from idp.directory import create_realm
from idp.errors import ConflictError, InvalidRequestError, NotFoundError
from protocols.saml.cli import register_preset, remove_service_provider
from protocols.saml.models import ServiceProvider
from protocols.saml.presets import PRESETS
from protocols.saml.registration import (
    AssertionConsumerService,
    ServiceProviderSpec,
    validate_spec,
)
from protocols.saml.registry import (
    Registry,
    list_service_providers,
    set_service_provider_enabled,
)
from tests.protocols.saml.spkit import CONFLUENCE, JIRA, credential


@pytest.mark.parametrize("preset", ["jira", "confluence", "bitbucket", "jsm", "generic"])
def test_every_preset_follows_atlassian_sso(preset: str) -> None:
    chosen = PRESETS[preset]

    assert chosen.entity_id(CONFLUENCE + "/") == CONFLUENCE
    assert chosen.acs_url(CONFLUENCE) == CONFLUENCE + "/plugins/servlet/samlconsumer"
    assert chosen.nameid_format == "unspecified"
    assert dict(chosen.attributes) == {"username": "username", "displayName": "display_name",
                                       "email": "email", "groups": "groups"}


@pytest.mark.parametrize("base_url", [
    "jira.example.com", "ftp://jira.example.com", "https://jira.example.com/?x=1",
    "https://u@jira.example.com",
])
def test_a_base_url_must_be_a_plain_absolute_url(base_url: str) -> None:
    with pytest.raises(InvalidRequestError):
        PRESETS["jira"].entity_id(base_url)


def _spec(**changes: object) -> ServiceProviderSpec:
    values: dict[str, object] = dict(
        name="app", entity_id="https://app.example.com",
        acs=(AssertionConsumerService("https://app.example.com/acs"),))
    values.update(changes)
    return ServiceProviderSpec(**values)  # type: ignore[arg-type]


def test_the_first_post_acs_becomes_the_default() -> None:
    spec = validate_spec(_spec(acs=(
        AssertionConsumerService("https://app.example.com/artifact",
                                 "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact", 0),
        AssertionConsumerService("https://app.example.com/acs", BINDING_HTTP_POST, 1),
    )))

    assert [(a.url, a.is_default) for a in spec.acs] == [("https://app.example.com/acs", True)]


@pytest.mark.parametrize("changes", [
    {"name": "Has Spaces"},
    {"entity_id": ""},
    {"acs": (AssertionConsumerService("https://app.example.com/acs", BINDING_HTTP_REDIRECT),)},
    {"acs": (AssertionConsumerService("/relative/acs"),)},
    {"acs": (AssertionConsumerService("https://a.example.com/1", index=1),
             AssertionConsumerService("https://a.example.com/2", index=1))},
    {"acs": (AssertionConsumerService("https://a.example.com/1", index=1, is_default=True),
             AssertionConsumerService("https://a.example.com/2", index=2, is_default=True))},
    {"nameid_format": "transient"},
    {"attribute_mapping": (("uid", "password"),)},
    {"attribute_mapping": (("uid", "username"), ("uid", "email"))},
    {"authn_requests_signed": True},
    {"signing_certificates": ("-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----",)},
    {"slo_url": "https://app.example.com/slo", "slo_binding": "urn:x:SOAP"},
])
def test_registrations_the_idp_could_not_honour_are_refused(changes: dict[str, object]) -> None:
    with pytest.raises(InvalidRequestError):
        validate_spec(_spec(**changes))


@pytest.mark.parametrize("changes", [
    {"acs": (AssertionConsumerService("https://app.example.com/acs\r\nSet-Cookie: a=b"),)},
    {"acs": (AssertionConsumerService("https://app.example.com/a cs"),)},
    {"acs": (AssertionConsumerService("https://app.example.com/acs\x7f"),)},
    {"acs": (AssertionConsumerService("https://app.example.com/\u20ac"),)},
    {"slo_url": "https://app.example.com/slo\n", "slo_binding": BINDING_HTTP_POST},
    {"entity_id": "https://app.example.com\t"},
    {"entity_id": "https://app.example.com/\u200b"},
], ids=["crlf-acs", "space-acs", "delete-acs", "non-ascii-acs", "lf-slo", "tab-entity-id",
        "zero-width-entity-id"])
def test_whitespace_and_control_characters_in_uris_are_refused(
    changes: dict[str, object],
) -> None:
    """RFC 3986 §2: a URI holds neither; a line break in an ACS URL breaks a header later."""
    with pytest.raises(InvalidRequestError, match="expected"):
        validate_spec(_spec(**changes))


def test_a_signing_sp_with_a_certificate_is_valid() -> None:
    spec = validate_spec(_spec(authn_requests_signed=True,
                               signing_certificates=(credential().cert_text,)))

    assert spec.authn_requests_signed


async def test_names_and_entity_ids_are_unique_per_realm(db: None) -> None:
    acme, other = await create_realm("acme"), await create_realm("other")
    await register_preset(acme, name="jira", preset="jira", base_url=JIRA)

    with pytest.raises(ConflictError):
        await register_preset(acme, name="jira", preset="jira", base_url=CONFLUENCE)
    with pytest.raises(ConflictError):
        await register_preset(acme, name="jira2", preset="jira", base_url=JIRA)
    await register_preset(other, name="jira", preset="jira", base_url=JIRA)
    assert [sp.name for sp in await list_service_providers(acme)] == ["jira"]


async def test_the_registry_sees_this_process_changes_at_once(db: None) -> None:
    acme = await create_realm("acme")
    registry = Registry(max_age=3600, miss_age=3600)
    await register_preset(acme, name="jira", preset="jira", base_url=JIRA)

    found = await registry.by_entity_id("acme", JIRA)
    assert found is not None and found.enabled
    assert (await registry.by_name("acme", "jira")) == found

    await set_service_provider_enabled(acme, "jira", enabled=False)
    disabled = await registry.by_entity_id("acme", JIRA)
    assert disabled is not None and not disabled.enabled

    await remove_service_provider(acme, "jira")
    assert await registry.by_entity_id("acme", JIRA) is None
    with pytest.raises(NotFoundError):
        await remove_service_provider(acme, "jira")


async def test_the_registry_sees_other_processes_changes_after_max_age(db: None) -> None:
    acme = await create_realm("acme")
    await register_preset(acme, name="jira", preset="jira", base_url=JIRA)
    cached, fresh = Registry(max_age=3600), Registry(max_age=0)
    assert await cached.by_entity_id("acme", JIRA) is not None

    # As another replica or the command line would: straight to the database.
    await ServiceProvider.filter(name="jira").update(enabled=False)

    still = await cached.by_entity_id("acme", JIRA)
    seen = await fresh.by_entity_id("acme", JIRA)
    assert still is not None and still.enabled
    assert seen is not None and not seen.enabled


async def test_a_new_registration_elsewhere_is_found_on_a_miss(db: None) -> None:
    acme = await create_realm("acme")
    registry = Registry(max_age=3600, miss_age=0)
    assert await registry.by_entity_id("acme", JIRA) is None

    await ServiceProvider.create(realm=acme, name="jira", entity_id=JIRA, acs=[
        {"url": JIRA + "/plugins/servlet/samlconsumer", "binding": BINDING_HTTP_POST,
         "index": 0, "default": True}])

    found = await registry.by_entity_id("acme", JIRA)
    assert found is not None and found.default_acs.url.endswith("/samlconsumer")
