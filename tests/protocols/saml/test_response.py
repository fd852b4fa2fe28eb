"""The signed Response: what it says, that it verifies, and that nothing is kept per response."""

from __future__ import annotations

import base64
import datetime as dt
import gc
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
from lxml import etree
from saml2 import BINDING_HTTP_POST

from protocols.saml.crypto import XmlSecBackend
from protocols.saml.errors import NoPassiveError, Reply, UnknownPrincipalError
from protocols.saml.idp import IdentityProvider
from protocols.saml.registration import AssertionConsumerService, ServiceProviderConfig
from protocols.saml.response import AssertionParams, build_error_response, build_response
from protocols.saml.subject import Principal, name_id_for, release_attributes
from tests.protocols.saml.spkit import JIRA, NS, acs_of

NOW = dt.datetime.now(dt.timezone.utc)
PARAMS = AssertionParams(
    sp_entity_id=JIRA, acs_url=acs_of(JIRA), in_response_to="_req1",
    name_id_format="unspecified", name_id="ada", session_index="abc123",
    authn_instant=NOW - dt.timedelta(minutes=1), authn_context="https://refeds.org/profile/mfa",
    attributes={"mail": ["ada@example.com"], "urn:oid:2.5.4.42": ["Ada"],
                "Display Name": ["Ada Lovelace"], "groups": ["a", "b", "c"], "empty": []},
)


def _xml(encoded: str) -> etree._Element:
    return etree.fromstring(base64.b64decode(encoded))


def _instant(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def test_attributes_go_out_under_exactly_the_configured_names(
    identity_provider: IdentityProvider
) -> None:
    attributes = _xml(build_response(identity_provider, PARAMS)).findall(".//saml:Attribute", NS)

    assert [a.get("Name") for a in attributes] == list(PARAMS.attributes)
    assert {a.get("NameFormat") for a in attributes} == {
        "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified"}
    values = {a.get("Name"): [v.text for v in a.findall("saml:AttributeValue", NS)]
              for a in attributes}
    assert values == PARAMS.attributes


def test_the_validity_window_is_a_few_minutes_around_now(
    identity_provider: IdentityProvider
) -> None:
    assertion = _xml(build_response(identity_provider, PARAMS, now=NOW)).find(
        "saml:Assertion", NS)

    conditions = assertion.find("saml:Conditions", NS)
    confirmation = assertion.find(".//saml:SubjectConfirmationData", NS)
    not_before = _instant(conditions.get("NotBefore"))
    not_after = _instant(conditions.get("NotOnOrAfter"))
    assert NOW - dt.timedelta(minutes=5) <= not_before <= NOW
    assert NOW < not_after <= NOW + dt.timedelta(minutes=10)
    assert _instant(confirmation.get("NotOnOrAfter")) == not_after
    statement = assertion.find("saml:AuthnStatement", NS)
    assert statement.get("SessionIndex") == "abc123"
    assert statement.get("AuthnInstant") == (NOW - dt.timedelta(minutes=1)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def test_in_response_to_is_absent_not_empty_for_idp_initiated(
    identity_provider: IdentityProvider
) -> None:
    unsolicited = _xml(build_response(identity_provider, replace(PARAMS, in_response_to=None)))
    solicited = _xml(build_response(identity_provider, PARAMS))

    for response, expected in ((unsolicited, None), (solicited, "_req1")):
        confirmation = response.find(".//saml:SubjectConfirmationData", NS)
        assert response.get("InResponseTo") == expected
        assert confirmation.get("InResponseTo") == expected


def test_both_signatures_verify_with_the_published_certificate(
    identity_provider: IdentityProvider
) -> None:
    xml = base64.b64decode(build_response(identity_provider, PARAMS))
    response = etree.fromstring(xml)
    verifier = XmlSecBackend()

    for element, node in ((response, "urn:oasis:names:tc:SAML:2.0:protocol:Response"),
                          (response.find("saml:Assertion", NS),
                           "urn:oasis:names:tc:SAML:2.0:assertion:Assertion")):
        assert verifier.validate_signature(xml, identity_provider.key.certificate_pem, "pem",
                                           node, element.get("ID"))


def test_the_idp_keeps_nothing_per_response(identity_provider: IdentityProvider) -> None:
    server = identity_provider.server
    for _ in range(20):
        build_response(identity_provider, PARAMS)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for _ in range(200):
        build_response(identity_provider, PARAMS)
    gc.collect()
    growth = sum(stat.size_diff for stat in
                 tracemalloc.take_snapshot().compare_to(before, "filename"))
    tracemalloc.stop()

    assert server.session_db.assertion == {} and server.session_db.authn == {}
    assert dict(server.ident.db) == {}
    # An assertion kept per response would be about 12 KiB each: 2.4 MB here.
    assert growth < 256 * 1024


def test_an_error_response_carries_both_status_levels_and_no_assertion(
    identity_provider: IdentityProvider
) -> None:
    error = NoPassiveError("nobody signed in")
    reply = Reply(JIRA, acs_of(JIRA), "_req2", "rs")

    response = _xml(build_error_response(identity_provider, reply=reply, error=error))

    codes = [c.get("Value") for c in response.iterfind(".//samlp:StatusCode", NS)]
    assert codes == ["urn:oasis:names:tc:SAML:2.0:status:Responder",
                     "urn:oasis:names:tc:SAML:2.0:status:NoPassive"]
    assert error.error_id in response.findtext(".//samlp:StatusMessage", namespaces=NS)
    assert "nobody signed in" not in etree.tostring(response).decode()
    assert response.get("InResponseTo") == "_req2"
    assert response.find("saml:Assertion", NS) is None
    assert response.find("ds:Signature", NS) is not None


ADA = Principal(user_id=7, username="ada", email=None, display_name="Ada",
                groups=(), user_handle=b"\x01" * 64)


def _sp(entity_id: str, **changes: object) -> ServiceProviderConfig:
    values: dict[str, object] = dict(
        id=1, realm="master", name="x", entity_id=entity_id,
        acs=(AssertionConsumerService(acs_of(entity_id), BINDING_HTTP_POST, 0, True),),
        attribute_mapping=(("uid", "username"), ("mail", "email"), ("cn", "display_name"),
                           ("memberOf", "groups")),
        nameid_format="unspecified", authn_requests_signed=False, signing_certificates=(),
        slo_url="", slo_binding="", preset="generic", enabled=True)
    values.update(changes)
    return ServiceProviderConfig(**values)  # type: ignore[arg-type]


def test_persistent_nameids_are_stable_per_sp_and_differ_between_sps() -> None:
    key = b"k" * 32
    jira, wiki = _sp(JIRA), _sp("https://wiki.example.com")

    first = name_id_for(ADA, jira, format="persistent", persistent_key=key)
    again = name_id_for(replace(ADA, username="ada2"), jira, format="persistent",
                        persistent_key=key)
    elsewhere = name_id_for(ADA, wiki, format="persistent", persistent_key=key)

    assert first == again
    assert first.value != elsewhere.value and "ada" not in first.value
    assert name_id_for(ADA, jira, format="unspecified", persistent_key=key).value == "ada"


def test_an_email_nameid_needs_an_email_address() -> None:
    with pytest.raises(UnknownPrincipalError):
        name_id_for(ADA, _sp(JIRA), format="email", persistent_key=b"k")


def test_every_configured_attribute_is_released_even_without_a_value() -> None:
    assert release_attributes(ADA, _sp(JIRA)) == {
        "uid": ["ada"], "mail": [], "cn": ["Ada"], "memberOf": []}


def test_responses_built_in_parallel_worker_threads_all_verify(
    identity_provider: IdentityProvider
) -> None:
    def one(index: int) -> bytes:
        params = replace(PARAMS, name_id=f"user{index}", in_response_to=f"_req{index}")
        return base64.b64decode(build_response(identity_provider, params))

    with ThreadPoolExecutor(max_workers=8) as pool:
        documents = list(pool.map(one, range(48)))

    verifier = XmlSecBackend()
    for index, xml in enumerate(documents):
        response = etree.fromstring(xml)
        assert response.findtext(".//saml:NameID", namespaces=NS) == f"user{index}"
        assert verifier.validate_signature(
            xml, identity_provider.key.certificate_pem, "pem",
            "urn:oasis:names:tc:SAML:2.0:protocol:Response", response.get("ID"))
