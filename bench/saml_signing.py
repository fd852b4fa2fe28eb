"""How many signed SAML Responses one process makes per second with the in-process backend.

A pysaml2 ``Server`` builds a Response for one SP, first unsigned (the cost of pysaml2 alone),
then with the Response and its Assertion signed (RSA-2048, RSA-SHA256, exclusive c14n); a
pysaml2 ``Saml2Client`` then verifies and parses signed ones. Each phase runs for about two
seconds on one thread; the ratios matter more than the absolute numbers.

Run from the repository root: ``.venv/bin/python -m bench.saml_signing``
"""

from __future__ import annotations

import base64
import datetime
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2 import BINDING_HTTP_POST
from saml2 import BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.metadata import entity_descriptor
from saml2.saml import NAMEID_FORMAT_PERSISTENT
from saml2.saml import NameID
from saml2.server import Server

from protocols.saml.crypto import XmlSecBackend
from protocols.saml.crypto import install_backend
from protocols.saml.crypto import load_config

__all__ = ["main"]

IDP_ID = "https://idp.example.org/realms/bench"
SP_ID = "https://jira.example.org"
ACS_URL = f"{SP_ID}/plugins/servlet/samlconsumer"
SECONDS = 2.0
MAX_ROUNDS = 5000


def _credential() -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)


def _entities(workdir: Path) -> tuple[Server, Saml2Client]:
    key_pem, cert_pem = _credential()
    cert_file = workdir / "idp.pem"
    cert_file.write_bytes(cert_pem)
    sp_service = {
        "endpoints": {"assertion_consumer_service": [(ACS_URL, BINDING_HTTP_POST)]},
        "want_response_signed": True,
        "want_assertions_signed": True,
        "allow_unsolicited": True,
    }
    sp_settings = {"entityid": SP_ID, "service": {"sp": sp_service}}
    idp_service = {
        "endpoints": {"single_sign_on_service": [(IDP_ID, BINDING_HTTP_REDIRECT)]},
        "policy": {"default": {"lifetime": {"minutes": 5}, "attribute_restrictions": None}},
    }
    sp_metadata = str(entity_descriptor(load_config(sp_settings, entity_type="sp")))
    idp_settings = {
        "entityid": IDP_ID,
        "cert_file": str(cert_file),
        "service": {"idp": idp_service},
        "metadata": {"inline": [sp_metadata]},
    }
    idp_config = load_config(idp_settings, entity_type="idp")
    idp = install_backend(Server(config=idp_config), XmlSecBackend(key_pem=key_pem,
                                                                   cert_pem=cert_pem))
    sp_settings["metadata"] = {"inline": [str(entity_descriptor(idp_config))]}
    sp = install_backend(Saml2Client(config=load_config(sp_settings, entity_type="sp")),
                         XmlSecBackend())
    return idp, sp


def _response(idp: Server, *, signed: bool) -> str:
    return idp.create_authn_response(
        {"mail": ["alice@example.org"], "displayName": ["Alice Example"]},
        in_response_to=None,
        destination=ACS_URL,
        sp_entity_id=SP_ID,
        name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text="alice"),
        authn={"class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified"},
        sign_response=signed,
        sign_assertion=signed,
    )


def _rate(work: Callable[[], Any]) -> float:
    """Calls per second of ``work``, bounded by ``SECONDS`` and ``MAX_ROUNDS``."""
    work()
    rounds = 0
    start = time.perf_counter()
    while rounds < MAX_ROUNDS and time.perf_counter() - start < SECONDS:
        work()
        rounds += 1
    return rounds / (time.perf_counter() - start)


def main() -> None:
    with tempfile.TemporaryDirectory() as workdir:
        idp, sp = _entities(Path(workdir))
        unsigned = _rate(lambda: _response(idp, signed=False))
        signed = _rate(lambda: _response(idp, signed=True))
        posted = base64.b64encode(_response(idp, signed=True).encode()).decode()
        verified = _rate(lambda: sp.parse_authn_request_response(posted, BINDING_HTTP_POST))
    print(f"unsigned responses (pysaml2 alone):       {unsigned:8.1f} /s")
    print(f"signed responses (Response + Assertion):  {signed:8.1f} /s")
    print(f"  signing costs {1000 / signed - 1000 / unsigned:.2f} ms per response "
          f"({signed / unsigned:.2f} of the unsigned rate)")
    print(f"responses verified and parsed by the SP:  {verified:8.1f} /s")


if __name__ == "__main__":
    main()
