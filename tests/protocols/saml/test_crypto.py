"""The in-process XML Signature backend, between a real pysaml2 IdP and real SP libraries.

A pysaml2 ``Server`` signs; a pysaml2 ``Saml2Client`` (the Jira stand-in) and python3-saml
verify; tampered, re-keyed and wrapped responses must be refused. The ``xmlsec1`` program is
made unreachable for every test, so nothing here can pass by running it.
"""

from __future__ import annotations

import base64
import copy
import datetime
import hashlib
import html
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl
from urllib.parse import urlsplit

import pytest
import saml2.sigver
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from onelogin.saml2.response import OneLogin_Saml2_Response
from onelogin.saml2.settings import OneLogin_Saml2_Settings
from onelogin.saml2.utils import OneLogin_Saml2_Utils
from saml2 import BINDING_HTTP_POST
from saml2 import BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.metadata import entity_descriptor
from saml2.metadata import sign_entity_descriptor
from saml2.saml import NAMEID_FORMAT_PERSISTENT
from saml2.saml import NameID
from saml2.response import IncorrectlySigned
from saml2.server import Server
from saml2.sigver import SignatureError
from saml2.xmldsig import DIGEST_SHA256
from saml2.xmldsig import SIG_RSA_SHA1
from saml2.xmldsig import SIG_RSA_SHA256

from idp.errors import PortcullisError
from protocols.saml.crypto import EncryptionNotSupported
from protocols.saml.crypto import KeyUnusable
from protocols.saml.crypto import SignatureRefused
from protocols.saml.crypto import SigningFailed
from protocols.saml.crypto import XmlSecBackend
from protocols.saml.crypto import install_backend
from protocols.saml.crypto import load_config

IDP_ID = "https://idp.example.org/realms/main"
SP_ID = "https://jira.example.org"
ACS_URL = "https://jira.example.org/plugins/servlet/samlconsumer"
DS = "http://www.w3.org/2000/09/xmldsig#"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
ASSERTION = f"{SAML}:Assertion"
NS = {
    "ds": DS,
    "md": "urn:oasis:names:tc:SAML:2.0:metadata",
    "saml": SAML,
    "samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
}
IDENTITY = {"mail": ["alice@example.org"], "givenName": ["Alice"]}


@dataclass(frozen=True)
class Credential:
    key_pem: bytes
    cert_pem: bytes


def make_credential(common_name: str) -> Credential:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return Credential(key_pem, cert.public_bytes(serialization.Encoding.PEM))


@pytest.fixture(autouse=True)
def no_xmlsec1_program(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any attempt by pysaml2 to start a program (it only ever starts xmlsec1)."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"pysaml2 tried to run a program: {args[:1]}")

    monkeypatch.setattr(saml2.sigver, "Popen", refuse)
    monkeypatch.setenv("PATH", "/nonexistent")


@pytest.fixture(scope="module")
def idp_credential() -> Credential:
    return make_credential("portcullis idp")


@pytest.fixture(scope="module")
def intruder_credential() -> Credential:
    return make_credential("intruder")


def idp_settings(cert_file: str) -> dict[str, Any]:
    bindings = (BINDING_HTTP_REDIRECT, BINDING_HTTP_POST)
    sso = [(f"{IDP_ID}/protocol/saml", binding) for binding in bindings]
    policy = {"default": {"lifetime": {"minutes": 5}, "attribute_restrictions": None}}
    return {
        "entityid": IDP_ID,
        "cert_file": cert_file,
        "service": {
            "idp": {
                "endpoints": {"single_sign_on_service": sso},
                "policy": policy,
                "name_id_format": [NAMEID_FORMAT_PERSISTENT],
            }
        },
    }


def sp_settings(*, want_response_signed: bool) -> dict[str, Any]:
    sp = {
        "endpoints": {"assertion_consumer_service": [(ACS_URL, BINDING_HTTP_POST)]},
        "want_response_signed": want_response_signed,
        "want_assertions_signed": True,
        "allow_unsolicited": True,
    }
    return {"entityid": SP_ID, "service": {"sp": sp}}


def make_idp(credential: Credential, tmp_path: Any) -> Server:
    cert_file = tmp_path / f"idp-{hashlib.sha256(credential.cert_pem).hexdigest()[:8]}.pem"
    cert_file.write_bytes(credential.cert_pem)
    sp_config = load_config(sp_settings(want_response_signed=True), entity_type="sp")
    sp_metadata = str(entity_descriptor(sp_config))
    settings = {**idp_settings(str(cert_file)), "metadata": {"inline": [sp_metadata]}}
    backend = XmlSecBackend(key_pem=credential.key_pem, cert_pem=credential.cert_pem)
    return install_backend(Server(config=load_config(settings, entity_type="idp")), backend)


def make_sp(idp: Server, *, want_response_signed: bool = True) -> Saml2Client:
    idp_metadata = str(entity_descriptor(idp.config))
    settings = {
        **sp_settings(want_response_signed=want_response_signed),
        "metadata": {"inline": [idp_metadata]},
    }
    client = Saml2Client(config=load_config(settings, entity_type="sp"))
    return install_backend(client, XmlSecBackend())


def issue(idp: Server, *, sign_response: bool = True, user: str = "alice") -> str:
    return idp.create_authn_response(
        IDENTITY,
        in_response_to=None,
        destination=ACS_URL,
        sp_entity_id=SP_ID,
        name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text=user),
        authn={"class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified"},
        sign_response=sign_response,
        sign_assertion=True,
    )


def post(sp: Saml2Client, response_xml: str | bytes) -> Any:
    if isinstance(response_xml, str):
        response_xml = response_xml.encode()
    encoded = base64.b64encode(response_xml).decode()
    return sp.parse_authn_request_response(encoded, BINDING_HTTP_POST)


def _cert_file(idp: Server) -> str:
    return str(idp.config.cert_file)


@pytest.fixture
def idp(idp_credential: Credential, tmp_path: Any) -> Server:
    return make_idp(idp_credential, tmp_path)


def test_saml2client_accepts_signed_response_and_assertion(idp: Server) -> None:
    response_xml = issue(idp)

    answer = post(make_sp(idp), response_xml)

    assert answer.name_id.text == "alice"
    assert answer.get_identity() == IDENTITY
    root = etree.fromstring(response_xml.encode())
    for signed in (root, root.find("saml:Assertion", NS)):
        info = signed.find("ds:Signature/ds:SignedInfo", NS)
        assert info.find("ds:SignatureMethod", NS).get("Algorithm").endswith("rsa-sha256")
        assert info.find("ds:CanonicalizationMethod", NS).get("Algorithm").endswith(
            "xml-exc-c14n#"
        )
        assert info.find(".//ds:DigestMethod", NS).get("Algorithm").endswith("sha256")
        assert info.find("ds:Reference", NS).get("URI") == f"#{signed.get('ID')}"


@pytest.mark.parametrize("sign_response", [True, False])
def test_refuses_attribute_changed_after_signing(idp: Server, sign_response: bool) -> None:
    response_xml = issue(idp, sign_response=sign_response)
    tampered = response_xml.replace("alice@example.org", "mallory@example.org")
    assert tampered != response_xml

    with pytest.raises(SignatureError):
        post(make_sp(idp, want_response_signed=sign_response), tampered)


def test_refuses_response_signed_by_another_key(
    idp: Server, intruder_credential: Credential, tmp_path: Any
) -> None:
    """The intruder's certificate travels in KeyInfo; only the metadata's may count."""
    intruder = make_idp(intruder_credential, tmp_path)
    forged = issue(intruder)

    with pytest.raises(SignatureError):
        post(make_sp(idp), forged)


def test_refuses_forged_assertion_beside_signed_original(idp: Server) -> None:
    """XSW: the signed original hides in Extensions; a forged copy keeps its ID and Signature.

    pysaml2's own checks pass this one (the forged Reference does point at its own ID): only
    the backend's refusal of a duplicated ID stands between it and a login as ``admin``.
    """
    root = etree.fromstring(issue(idp, sign_response=False).encode())
    original = root.find("saml:Assertion", NS)
    forged = copy.deepcopy(original)
    forged.find(".//saml:NameID", NS).text = "admin"
    extensions = etree.Element(f"{{{NS['samlp']}}}Extensions")
    root.find("saml:Issuer", NS).addnext(extensions)
    extensions.append(original)
    root.append(forged)

    with pytest.raises(SignatureError):
        post(make_sp(idp, want_response_signed=False), etree.tostring(root))


def test_refuses_duplicated_id(idp: Server) -> None:
    response_xml = issue(idp, sign_response=False)
    root = etree.fromstring(response_xml.encode())
    assertion = root.find("saml:Assertion", NS)
    root.append(copy.deepcopy(assertion))

    with pytest.raises(SignatureRefused, match="expected one element") as refused:
        XmlSecBackend().validate_signature(
            etree.tostring(root), _cert_file(idp), "pem", ASSERTION, assertion.get("ID")
        )
    assert isinstance(refused.value, PortcullisError)
    assert refused.value.status_code == 400


def test_refuses_signature_that_references_another_element(idp: Server) -> None:
    """A signed assertion's Signature moved into a forged assertion with a new ID."""
    root = etree.fromstring(issue(idp, sign_response=False).encode())
    original = root.find("saml:Assertion", NS)
    forged = copy.deepcopy(original)
    forged.set("ID", "forged")
    root.append(forged)

    with pytest.raises(SignatureRefused, match="Reference URI"):
        XmlSecBackend().validate_signature(
            etree.tostring(root), _cert_file(idp), "pem", ASSERTION, "forged"
        )


def test_refuses_signature_that_is_not_enveloped(idp: Server) -> None:
    root = etree.fromstring(issue(idp, sign_response=False).encode())
    assertion = root.find("saml:Assertion", NS)
    root.append(assertion.find("ds:Signature", NS))

    with pytest.raises(SignatureRefused, match="one enveloped Signature, found 0"):
        XmlSecBackend().validate_signature(
            etree.tostring(root), _cert_file(idp), "pem", ASSERTION, assertion.get("ID")
        )


def test_refuses_document_with_doctype(idp: Server) -> None:
    response_xml = issue(idp)
    assertion_id = etree.fromstring(response_xml.encode()).find("saml:Assertion", NS).get("ID")
    with_doctype = '<!DOCTYPE x [<!ENTITY e "e">]>' + response_xml

    with pytest.raises(SignatureRefused, match="DOCTYPE"):
        XmlSecBackend().validate_signature(
            with_doctype, _cert_file(idp), "pem", ASSERTION, assertion_id
        )


def test_verifies_with_pem_string_and_with_file(idp: Server, idp_credential: Credential) -> None:
    response_xml = issue(idp)
    assertion_id = etree.fromstring(response_xml.encode()).find("saml:Assertion", NS).get("ID")
    backend = XmlSecBackend()

    for cert in (_cert_file(idp), idp_credential.cert_pem.decode()):
        assert backend.validate_signature(response_xml, cert, "pem", ASSERTION, assertion_id)


def test_python3_saml_accepts_response_in_strict_mode(
    idp: Server, idp_credential: Credential
) -> None:
    response_xml = issue(idp)
    settings = OneLogin_Saml2_Settings(
        {
            "strict": True,
            "sp": {
                "entityId": SP_ID,
                "assertionConsumerService": {"url": ACS_URL, "binding": BINDING_HTTP_POST},
            },
            "idp": {
                "entityId": IDP_ID,
                "singleSignOnService": {"url": f"{IDP_ID}/protocol/saml"},
                "x509cert": idp_credential.cert_pem.decode(),
            },
            "security": {"wantMessagesSigned": True, "wantAssertionsSigned": True},
        },
        sp_validation_only=True,
    )
    request_data = {
        "https": "on",
        "http_host": "jira.example.org",
        "script_name": "/plugins/servlet/samlconsumer",
    }
    answer = OneLogin_Saml2_Response(settings, base64.b64encode(response_xml.encode()))

    assert answer.is_valid(request_data, raise_exceptions=True)
    assert answer.get_nameid() == "alice"
    cert = idp_credential.cert_pem.decode()
    for xpath in (
        OneLogin_Saml2_Utils.RESPONSE_SIGNATURE_XPATH,
        OneLogin_Saml2_Utils.ASSERTION_SIGNATURE_XPATH,
    ):
        assert OneLogin_Saml2_Utils.validate_sign(response_xml, cert, xpath=xpath)


def test_signatures_check_out_with_lxml_c14n_and_cryptography(
    idp: Server, idp_credential: Credential
) -> None:
    """Recompute both digests and signatures without libxmlsec."""
    root = etree.fromstring(issue(idp).encode())
    public_key = x509.load_pem_x509_certificate(idp_credential.cert_pem).public_key()

    for signed in (root.find("saml:Assertion", NS), root):
        element = copy.deepcopy(signed)
        signature = element.find("ds:Signature", NS)
        element.remove(signature)
        digest = hashlib.sha256(etree.tostring(element, method="c14n", exclusive=True)).digest()
        assert base64.b64decode(signature.findtext(".//ds:DigestValue", namespaces=NS)) == digest

        info = etree.tostring(signature.find("ds:SignedInfo", NS), method="c14n", exclusive=True)
        value = base64.b64decode(signature.findtext("ds:SignatureValue", namespaces=NS))
        public_key.verify(value, info, padding.PKCS1v15(), hashes.SHA256())


def test_refuses_to_sign_with_sha1(idp_credential: Credential, tmp_path: Any) -> None:
    idp = make_idp(idp_credential, tmp_path)
    idp.signing_algorithm = SIG_RSA_SHA1

    with pytest.raises(SigningFailed, match="rsa-sha1 is not allowed"):
        issue(idp)


def test_signs_from_worker_threads(idp: Server) -> None:
    sp = make_sp(idp)

    with ThreadPoolExecutor(max_workers=4) as pool:
        responses = list(pool.map(lambda n: issue(idp, user=f"user{n}"), range(24)))

    assert [post(sp, xml).name_id.text for xml in responses] == [f"user{n}" for n in range(24)]


def test_signs_with_explicitly_passed_key(idp: Server, intruder_credential: Credential) -> None:
    """pysaml2 hands an explicit ``key`` over as a temporary file; it must be the one used."""
    template = issue(idp, sign_response=False)
    assertion_id = etree.fromstring(template.encode()).find("saml:Assertion", NS).get("ID")

    key = base64.b64encode(intruder_credential.key_pem).decode()  # pysaml2 wants it so
    signed = idp.sec.sign_statement(template, ASSERTION, key=key, node_id=assertion_id)

    backend = XmlSecBackend()
    intruder_cert = intruder_credential.cert_pem.decode()
    assert backend.validate_signature(signed, intruder_cert, "pem", ASSERTION, assertion_id)
    with pytest.raises(SignatureRefused):
        backend.validate_signature(signed, _cert_file(idp), "pem", ASSERTION, assertion_id)


def test_signs_idp_metadata(idp: Server, idp_credential: Credential) -> None:
    descriptor = entity_descriptor(idp.config)

    _, signed = sign_entity_descriptor(
        descriptor, "idp-metadata", idp.sec, sign_alg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256
    )

    cert = idp_credential.cert_pem.decode()
    assert OneLogin_Saml2_Utils.validate_metadata_sign(signed, cert, raise_exceptions=True)
    entity = f"{NS['md']}:EntityDescriptor"
    assert XmlSecBackend().validate_signature(signed, cert, "pem", entity, "idp-metadata")


def signed_request_parties(tmp_path: Any) -> tuple[Server, Saml2Client]:
    """An IdP that wants signed AuthnRequests and an SP with its own signing key."""
    idp_credential, sp_credential = make_credential("idp"), make_credential("sp")
    (tmp_path / "sp.pem").write_bytes(sp_credential.cert_pem)
    (tmp_path / "idp.pem").write_bytes(idp_credential.cert_pem)
    settings = sp_settings(want_response_signed=True)
    settings["cert_file"] = str(tmp_path / "sp.pem")
    settings["service"]["sp"]["authn_requests_signed"] = True
    sp_metadata = str(entity_descriptor(load_config(settings, entity_type="sp")))

    idp_config = {**idp_settings(str(tmp_path / "idp.pem")), "metadata": {"inline": [sp_metadata]}}
    idp_config["service"]["idp"]["want_authn_requests_signed"] = True
    idp = install_backend(
        Server(config=load_config(idp_config, entity_type="idp")),
        XmlSecBackend(key_pem=idp_credential.key_pem, cert_pem=idp_credential.cert_pem),
    )
    settings["metadata"] = {"inline": [str(entity_descriptor(idp.config))]}
    sp = install_backend(
        Saml2Client(config=load_config(settings, entity_type="sp")),
        XmlSecBackend(key_pem=sp_credential.key_pem, cert_pem=sp_credential.cert_pem),
    )
    return idp, sp


@pytest.mark.parametrize("tampered", [False, True])
def test_server_checks_authn_request_signed_for_redirect(tmp_path: Any, tampered: bool) -> None:
    """The query-string signature of SAML Bindings §3.4.4.1 goes through the RSA signer."""
    idp, sp = signed_request_parties(tmp_path)
    request_id, info = sp.prepare_for_authenticate(
        entityid=IDP_ID, binding=BINDING_HTTP_REDIRECT, sigalg=SIG_RSA_SHA256
    )
    query = dict(parse_qsl(urlsplit(dict(info["headers"])["Location"]).query))
    signature = query["Signature"]
    if tampered:
        signature = ("A" if signature[0] != "A" else "B") + signature[1:]

    def parse() -> Any:
        return idp.parse_authn_request(
            query["SAMLRequest"], BINDING_HTTP_REDIRECT,
            relay_state=query.get("RelayState"), sigalg=query["SigAlg"], signature=signature,
        )

    if tampered:
        with pytest.raises(IncorrectlySigned):
            parse()
    else:
        assert parse().message.id == request_id


@pytest.mark.parametrize("tampered", [False, True])
def test_server_checks_authn_request_signed_for_post(tmp_path: Any, tampered: bool) -> None:
    idp, sp = signed_request_parties(tmp_path)
    request_id, info = sp.prepare_for_authenticate(entityid=IDP_ID, binding=BINDING_HTTP_POST)
    form = re.search(r'name="SAMLRequest" value="([^"]+)"', info["data"])
    request_xml = base64.b64decode(html.unescape(form.group(1))).decode()
    if tampered:
        assert f'AssertionConsumerServiceURL="{ACS_URL}"' in request_xml
        request_xml = request_xml.replace(ACS_URL, "https://evil.example.net/acs")
    encoded = base64.b64encode(request_xml.encode()).decode()

    if tampered:
        with pytest.raises(IncorrectlySigned):
            idp.parse_authn_request(encoded, BINDING_HTTP_POST)
    else:
        assert idp.parse_authn_request(encoded, BINDING_HTTP_POST).message.id == request_id


@pytest.mark.parametrize("field", ["key_pem", "cert_pem"])
def test_refuses_unusable_key_material(field: str) -> None:
    with pytest.raises(KeyUnusable):
        XmlSecBackend(**{field: b"-----BEGIN PRIVATE KEY-----\nnot a key\n"})


def test_encryption_is_refused_plainly(idp: Server) -> None:
    with pytest.raises(EncryptionNotSupported):
        idp.sec.encrypt_assertion("<x/>", "cert.pem", "<t/>")
    with pytest.raises(EncryptionNotSupported):
        idp.sec.decrypt("<x/>", key_file="key.pem")
