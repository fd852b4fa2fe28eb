"""The LogoutResponse, in the binding of the SP's registered SingleLogoutService."""

from __future__ import annotations

import base64
from urllib.parse import unquote, urlsplit

from lxml import etree
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT

from protocols.saml.bindings import decode_redirect
from protocols.saml.crypto import XmlSecBackend
from protocols.saml.idp import IdentityProvider
from protocols.saml.registration import AssertionConsumerService, ServiceProviderConfig
from protocols.saml.signatures import verify_redirect_signature
from protocols.saml.slo import build_logout_response
from tests.protocols.saml.spkit import NS, acs_of

APP = "https://app.example.com"
SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"


def _sp(binding: str) -> ServiceProviderConfig:
    return ServiceProviderConfig(
        id=1, realm="master", name="app", entity_id=APP,
        acs=(AssertionConsumerService(acs_of(APP), BINDING_HTTP_POST, 0, True),),
        attribute_mapping=(), nameid_format="unspecified", authn_requests_signed=False,
        signing_certificates=(), slo_url=APP + "/slo?tenant=1", slo_binding=binding,
        preset="generic", enabled=True)


def test_a_post_logout_response_is_signed_enveloped(identity_provider: IdentityProvider) -> None:
    completion = build_logout_response(identity_provider, _sp(BINDING_HTTP_POST),
                                       in_response_to="_lr1", status_value=SUCCESS,
                                       second_level=None, relay_state="r")

    assert (completion.kind, completion.url) == ("post", APP + "/slo?tenant=1")
    assert completion.fields["RelayState"] == "r"
    xml = base64.b64decode(completion.fields["SAMLResponse"])
    response = etree.fromstring(xml)
    assert response.get("InResponseTo") == "_lr1"
    assert response.get("Destination") == APP + "/slo?tenant=1"
    assert response.find(".//samlp:StatusCode", NS).get("Value") == SUCCESS
    assert XmlSecBackend().validate_signature(
        xml, identity_provider.key.certificate_pem, "pem",
        "urn:oasis:names:tc:SAML:2.0:protocol:LogoutResponse", response.get("ID"))


def test_a_redirect_logout_response_carries_a_query_signature(
    identity_provider: IdentityProvider
) -> None:
    completion = build_logout_response(identity_provider, _sp(BINDING_HTTP_REDIRECT),
                                       in_response_to="_lr2", status_value=SUCCESS,
                                       second_level=None, relay_state="a b&c")

    assert completion.kind == "redirect"
    target = urlsplit(completion.url)
    assert target.query.startswith("tenant=1&SAMLResponse=")
    message = decode_redirect(target.query.encode())
    assert message.parameter == "SAMLResponse" and message.relay_state == "a b&c"
    assert message.signed_query is not None
    verify_redirect_signature(message.signed_query, [identity_provider.key.certificate_pem])
    response = etree.fromstring(message.xml)
    assert response.get("InResponseTo") == "_lr2"
    assert response.find("ds:Signature", NS) is None
    assert unquote(target.query).count("Signature=") == 1
