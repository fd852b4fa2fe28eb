"""SAML metadata: the IdP descriptor served per realm, and SP metadata imported to register."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from quart import Quart
from quart.typing import TestClientProtocol as QuartClient
from lxml import etree
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT

from idp.directory import create_realm, get_realm
from idp.errors import InvalidRequestError
from idp.keys import KeyRing
from protocols.saml.cli import register_from_metadata
from protocols.saml.idp import IdentityProvider
from protocols.saml.metadata import read_sp_metadata
from tests.protocols.saml.spkit import NS, credential, service_provider, sp_metadata

APP = "https://app.example.com"


async def test_the_descriptor_publishes_the_realms_endpoints_and_key(
    app: Quart, client: QuartClient
) -> None:
    response = await client.get("/realms/master/protocol/saml/descriptor")

    assert response.status_code == 200 and response.mimetype == "text/xml"
    root = etree.fromstring(await response.get_data())
    assert root.get("entityID") == "http://localhost:8080/realms/master"
    role = root.find("md:IDPSSODescriptor", NS)
    assert role.get("WantAuthnRequestsSigned") == "false"
    sso = {(endpoint.get("Binding"), endpoint.get("Location"))
           for endpoint in role.findall("md:SingleSignOnService", NS)}
    location = "http://localhost:8080/realms/master/protocol/saml"
    assert sso == {(BINDING_HTTP_REDIRECT, location), (BINDING_HTTP_POST, location)}
    key = role.find("md:KeyDescriptor", NS)
    assert key.get("use") == "signing"
    keys: KeyRing = app.extensions["portcullis"].keys
    published = key.findtext(".//ds:X509Certificate", namespaces=NS)
    assert published == (await keys.active_key(await get_realm("master"))).certificate_base64


async def test_an_unknown_realm_has_no_descriptor(app: Quart, client: QuartClient) -> None:
    response = await client.get("/realms/nowhere/protocol/saml/descriptor")

    assert response.status_code == 404


def _app_metadata(identity_provider: IdentityProvider, *, slo: bool = True) -> bytes:
    key = credential("app")
    sp = service_provider(APP, idp_metadata=identity_provider.metadata_xml, signing=key,
                          slo_url=APP + "/slo" if slo else None)
    return sp_metadata(sp, signing=key)


def test_sp_metadata_gives_everything_a_registration_needs(
    identity_provider: IdentityProvider
) -> None:
    described = read_sp_metadata(_app_metadata(identity_provider))

    assert described.entity_id == APP
    assert [(a.url, a.binding) for a in described.acs] == [
        (APP + "/plugins/servlet/samlconsumer", BINDING_HTTP_POST)]
    assert described.authn_requests_signed
    assert len(described.signing_certificates) == 1
    assert described.signing_certificates[0].startswith("-----BEGIN CERTIFICATE-----\n")
    assert (described.slo_url, described.slo_binding) == (APP + "/slo", BINDING_HTTP_POST)
    assert described.nameid_format == "unspecified"


def test_an_aggregate_needs_the_entity_id_of_the_sp(identity_provider: IdentityProvider) -> None:
    one = _app_metadata(identity_provider)
    other = one.replace(APP.encode(), b"https://other.example.com")
    aggregate = (b'<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">'
                 + one + other + b"</md:EntitiesDescriptor>")

    with pytest.raises(InvalidRequestError, match="2 SAML service providers"):
        read_sp_metadata(aggregate)
    assert read_sp_metadata(aggregate, entity_id=APP).entity_id == APP


def test_metadata_with_a_dtd_is_refused() -> None:
    with pytest.raises(InvalidRequestError, match="DOCTYPE"):
        read_sp_metadata(b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>')


@pytest.fixture
def metadata_server(identity_provider: IdentityProvider) -> Iterator[str]:
    """An HTTP server on localhost that serves the app's metadata at /metadata."""
    body = _app_metadata(identity_provider, slo=False)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            found = self.path == "/metadata"
            self.send_response(200 if found else 404)
            self.end_headers()
            self.wfile.write(body if found else b"")

        def log_message(self, *args: object) -> None:
            return None

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


async def test_an_sp_registers_from_a_metadata_url(db: None, metadata_server: str) -> None:
    acme = await create_realm("acme")

    registered = await register_from_metadata(acme, name="app",
                                              metadata=metadata_server + "/metadata")

    assert registered.entity_id == APP and registered.authn_requests_signed
    assert registered.slo_url == "" and registered.imported_metadata
    assert dict(registered.attribute_mapping)["groups"] == "groups"
    with pytest.raises(InvalidRequestError, match="HTTP 404"):
        await register_from_metadata(acme, name="x", metadata=metadata_server + "/missing")


async def test_a_missing_metadata_file_is_a_clear_error(db: None, tmp_path: Path) -> None:
    acme = await create_realm("acme")

    with pytest.raises(InvalidRequestError, match="cannot read metadata file"):
        await register_from_metadata(acme, name="x", metadata=str(tmp_path / "nope.xml"))
