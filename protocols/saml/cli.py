"""``portcullis saml ...``: register, list and remove SAML applications.

The functions are usable on their own (the admin API may call them); :func:`add_commands`
hangs them under the ``portcullis`` command::

    portcullis saml add jira --preset jira --base-url https://jira.example.com
    portcullis saml add wiki --preset confluence --base-url https://wiki.example.com/confluence
    portcullis saml add grafana --metadata https://grafana.example.com/saml/metadata
    portcullis saml list
    portcullis saml remove wiki
"""

from __future__ import annotations

import argparse
import asyncio
import os
import stat
import sys
from collections.abc import Mapping
from urllib.parse import urlsplit

import httpx

from idp.directory import get_realm
from idp.errors import InvalidRequestError
from idp.keys import KeyRing, load_secret_key
from idp.models import Realm
from idp.settings import Settings
from protocols.saml.metadata import MAX_METADATA_BYTES, read_sp_metadata
from protocols.saml.presets import ATLASSIAN_ATTRIBUTES, PRESETS
from protocols.saml.registration import (
    NAMEID_FORMATS,
    AssertionConsumerService,
    ServiceProviderConfig,
    ServiceProviderSpec,
)
from protocols.saml.registry import (
    create_service_provider,
    delete_service_provider,
    list_service_providers,
    set_service_provider_enabled,
)

__all__ = [
    "add_commands",
    "fetch_metadata",
    "list_service_providers",
    "register_from_metadata",
    "register_preset",
    "remove_service_provider",
]

METADATA_TIMEOUT = 10.0


async def register_preset(
    realm: Realm, *, name: str, preset: str, base_url: str, entity_id: str | None = None,
    acs_url: str | None = None, nameid_format: str | None = None,
    attributes: Mapping[str, str] | None = None,
) -> ServiceProviderConfig:
    """Register an SP from a preset and its base URL (see :mod:`protocols.saml.presets`).

    ``entity_id`` and ``acs_url`` override the preset's (base URL and
    ``<base>/plugins/servlet/samlconsumer``); ``attributes`` replaces the attribute mapping
    (SAML Attribute Name → ``username``, ``email``, ``display_name`` or ``groups``).
    """
    if preset not in PRESETS:
        raise InvalidRequestError(f"preset {preset!r}: expected one of {', '.join(PRESETS)}")
    chosen = PRESETS[preset]
    spec = ServiceProviderSpec(
        name=name, entity_id=entity_id or chosen.entity_id(base_url),
        acs=(AssertionConsumerService(acs_url or chosen.acs_url(base_url), is_default=True),),
        attribute_mapping=tuple((attributes or dict(chosen.attributes)).items()),
        nameid_format=nameid_format or chosen.nameid_format, preset=preset,
    )
    return await create_service_provider(realm, spec)


async def fetch_metadata(source: str) -> bytes:
    """The metadata document at ``source``: an http(s) URL or a regular file, size-bounded."""
    if source.startswith(("https://", "http://")):
        try:
            _ = urlsplit(source).port  # httpx passes a port above 65535 on to connect()
        except ValueError as exc:
            raise InvalidRequestError(f"metadata URL {source}: {exc}") from exc
        try:
            return await _download(source)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            # InvalidURL (a malformed URL) is not an HTTPError; every other httpx error is.
            raise InvalidRequestError(f"cannot fetch metadata from {source}: {exc}") from exc
    if "://" in source:
        raise InvalidRequestError(f"{source}: expected an http(s) URL or a file path")
    try:
        return await asyncio.to_thread(_read_file, source)
    except OSError as exc:
        raise InvalidRequestError(f"cannot read metadata file {source}: {exc}") from exc


def _read_file(source: str) -> bytes:
    """At most :data:`MAX_METADATA_BYTES` of a regular file, whatever its size claims.

    A FIFO or a device (``/dev/zero``) reports size 0 and never ends: it is refused, and
    opened without blocking so that a FIFO with no writer cannot hang the command.
    """
    with open(source, "rb", opener=_open_without_blocking) as file:
        if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
            raise InvalidRequestError(f"{source}: not a regular file")
        body = file.read(MAX_METADATA_BYTES + 1)
    if len(body) > MAX_METADATA_BYTES:
        raise InvalidRequestError(f"{source}: more than {MAX_METADATA_BYTES} bytes")
    return body


def _open_without_blocking(path: str, flags: int) -> int:
    """Open with O_NONBLOCK: a FIFO with no writer would otherwise block ``open()``."""
    return os.open(path, flags | os.O_NONBLOCK)


async def _download(url: str) -> bytes:
    async with httpx.AsyncClient(timeout=METADATA_TIMEOUT) as client:
        async with client.stream("GET", url) as response:
            if response.status_code != 200:
                raise InvalidRequestError(f"{url}: HTTP {response.status_code}")
            body = b""
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_METADATA_BYTES:
                    raise InvalidRequestError(f"{url}: more than {MAX_METADATA_BYTES} bytes")
            return body


async def register_from_metadata(
    realm: Realm, *, name: str, metadata: str, entity_id: str | None = None,
    nameid_format: str | None = None, attributes: Mapping[str, str] | None = None,
    preset: str = "generic",
) -> ServiceProviderConfig:
    """Register an SP from its SAML metadata (a file path or an http(s) URL).

    ``entity_id`` picks one SP out of a document that describes several. The attribute
    mapping defaults to the Atlassian names (``username``, ``displayName``, ``email``,
    ``groups``); the NameID format to the one the metadata offers, else ``unspecified``.
    """
    xml = await fetch_metadata(metadata)
    described = await asyncio.to_thread(read_sp_metadata, xml, entity_id=entity_id)
    spec = ServiceProviderSpec(
        name=name, entity_id=described.entity_id, acs=described.acs,
        attribute_mapping=tuple((attributes or ATLASSIAN_ATTRIBUTES).items()),
        nameid_format=nameid_format or described.nameid_format,
        authn_requests_signed=described.authn_requests_signed,
        signing_certificates=described.signing_certificates,
        slo_url=described.slo_url, slo_binding=described.slo_binding,
        metadata_xml=xml.decode("utf-8", "replace"), preset=preset,
    )
    return await create_service_provider(realm, spec)


async def remove_service_provider(realm: Realm, name: str) -> None:
    """Remove the SP registered as ``name``; its next request gets the error page."""
    await delete_service_provider(realm, name)


def _attributes(pairs: list[str]) -> dict[str, str] | None:
    if not pairs:
        return None
    mapping = {}
    for pair in pairs:
        name, sep, prop = pair.partition("=")
        if not sep:
            raise InvalidRequestError(f"--attribute {pair!r}: expected NAME=PROPERTY")
        mapping[name] = prop
    return mapping


def add_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``saml add|list|certificate|remove|enable|disable`` to ``portcullis``."""
    saml = commands.add_parser("saml", help="register, list and remove SAML applications")
    actions = saml.add_subparsers(title="saml commands", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="register a SAML application")
    add.add_argument("name", help="short name, used in the IdP-initiated URL")
    source = add.add_mutually_exclusive_group(required=True)
    source.add_argument("--base-url", help="the application's base URL (with --preset)")
    source.add_argument("--metadata", help="the application's SAML metadata: file or URL")
    add.add_argument("--preset", default="generic", choices=sorted(PRESETS),
                     help="jira, confluence, bitbucket, jsm: Atlassian Data Center SSO 2.0 "
                          "(ACS <base>/plugins/servlet/samlconsumer, NameID username, "
                          "attributes username, displayName, email, groups); generic: the "
                          "same, for any other application (default: generic)")
    add.add_argument("--entity-id", help="override the entity ID (or pick one in metadata)")
    add.add_argument("--acs-url", help="override the assertion consumer service URL")
    add.add_argument("--nameid-format", choices=NAMEID_FORMATS)
    add.add_argument("--attribute", action="append", default=[], metavar="NAME=PROPERTY",
                     help="send PROPERTY (username, email, display_name, groups) as NAME")
    add.set_defaults(run=_add)
    actions.add_parser("list", help="list SAML applications").set_defaults(run=_list)
    actions.add_parser(
        "certificate", help="print the IdP signing certificate (PEM) for the applications"
    ).set_defaults(run=_certificate)
    for action in ("remove", "enable", "disable"):
        command = actions.add_parser(action, help=f"{action} a SAML application")
        command.add_argument("name")
        command.set_defaults(run=_change, action=action)
    for parser in actions.choices.values():
        parser.add_argument("--realm", default="master", help="realm name (default: master)")


async def _add(args: argparse.Namespace, settings: Settings) -> None:
    realm = await get_realm(args.realm)
    options = {"name": args.name, "entity_id": args.entity_id,
               "nameid_format": args.nameid_format, "attributes": _attributes(args.attribute)}
    if args.metadata:
        sp = await register_from_metadata(realm, metadata=args.metadata, preset=args.preset,
                                          **options)
    else:
        sp = await register_preset(realm, preset=args.preset, base_url=args.base_url,
                                   acs_url=args.acs_url, **options)
    idp = f"{settings.base_url}/realms/{realm.name}"
    print(f"registered SAML application {sp.name} ({sp.entity_id}) in realm {realm.name}")
    print(f"  ACS: {sp.default_acs.url}")
    print(f"  IdP entity ID: {idp}")
    print(f"  IdP SSO URL: {idp}/protocol/saml")
    print(f"  IdP metadata: {idp}/protocol/saml/descriptor")
    print(f"  IdP-initiated: {idp}/protocol/saml/clients/{sp.name}")
    print(f"  IdP certificate: portcullis saml certificate --realm {realm.name}")


async def _certificate(args: argparse.Namespace, settings: Settings) -> None:
    realm = await get_realm(args.realm)
    key = await KeyRing(load_secret_key(settings.secret_key_file)).active_key(realm)
    try:
        print(key.certificate_pem.strip(), flush=True)
    except BrokenPipeError:
        # The reader stopped early (``| head -1``); point stdout at /dev/null so that the
        # flush at exit does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


async def _list(args: argparse.Namespace, settings: Settings) -> None:
    realm = await get_realm(args.realm)
    for sp in await list_service_providers(realm):
        state = "enabled" if sp.enabled else "disabled"
        print(f"{sp.name}\t{sp.entity_id}\t{sp.default_acs.url}\t{sp.preset}\t{state}")


async def _change(args: argparse.Namespace, settings: Settings) -> None:
    realm = await get_realm(args.realm)
    if args.action == "remove":
        await remove_service_provider(realm, args.name)
    else:
        await set_service_provider_enabled(realm, args.name, enabled=args.action == "enable")
    print(f"SAML application {args.name} {args.action}d")
