"""Taking SAML messages off the wire: bounds, encodings, and the signed octets."""

from __future__ import annotations

import base64
from urllib.parse import quote

import pytest

from protocols.saml.bindings import (
    MAX_RELAY_STATE_BYTES,
    MAX_XML_BYTES,
    decode_post,
    decode_redirect,
    parse_xml,
    relay_state_from_query,
)
from protocols.saml.errors import MalformedMessageError, RelayStateTooLongError
from tests.protocols.saml.spkit import authn_request_xml, deflate


def _query(data: bytes) -> bytes:
    return b"SAMLRequest=" + quote(base64.b64encode(deflate(data)).decode(), safe="").encode()


def test_decode_redirect_inflates_the_message() -> None:
    xml = authn_request_xml()

    message = decode_redirect(_query(xml) + b"&RelayState=%2Fa%20b")

    assert message.xml == xml
    assert message.relay_state == "/a b"
    assert message.signed_query is None


def test_signed_octets_are_the_parameters_as_received_in_spec_order() -> None:
    query = _query(b"<x/>")
    raw = (b"Signature=c2ln&foo=bar&SigAlg=http%3a%2f%2fexample&RelayState=%2fkeep%2Bthis&"
           + query)

    signed = decode_redirect(raw).signed_query

    assert signed is not None
    assert signed.octets == (query + b"&RelayState=%2fkeep%2Bthis&SigAlg=http%3a%2f%2fexample")
    assert signed.sig_alg == "http://example"
    assert signed.signature == b"sig"


def test_signed_octets_leave_out_an_absent_relay_state() -> None:
    query = _query(b"<x/>")

    signed = decode_redirect(query + b"&SigAlg=a&Signature=c2ln").signed_query

    assert signed is not None and signed.octets == query + b"&SigAlg=a"


def test_a_signature_without_its_algorithm_is_refused() -> None:
    with pytest.raises(MalformedMessageError, match="SigAlg and Signature"):
        decode_redirect(_query(b"<x/>") + b"&Signature=c2ln")


def test_an_unencoded_plus_in_base64_is_read_as_plus() -> None:
    xml = b"<x>" + b"\xfb\xff" * 40 + b"</x>"
    encoded = base64.b64encode(deflate(xml))
    assert b"+" in encoded or b"/" in encoded

    message = decode_redirect(b"SAMLRequest=" + encoded.replace(b"/", b"%2F"))

    assert message.xml == xml


def test_inflating_stops_at_the_bound() -> None:
    exactly = b"<a>" + b" " * (MAX_XML_BYTES - 7) + b"</a>"
    assert len(exactly) == MAX_XML_BYTES
    assert decode_redirect(_query(exactly)).xml == exactly

    with pytest.raises(MalformedMessageError, match="inflates to more than"):
        decode_redirect(_query(exactly + b" "))


@pytest.mark.parametrize("payload", [
    base64.b64encode(b"plain text, not deflated"),
    base64.b64encode(deflate(b"<a>complete</a>")[:-3]),
    b"!!!",
])
def test_undecodable_redirect_messages_are_refused(payload: bytes) -> None:
    with pytest.raises(MalformedMessageError):
        decode_redirect(b"SAMLRequest=" + payload)


@pytest.mark.parametrize("query", [
    b"RelayState=x",
    b"SAMLRequest=a&SAMLResponse=b",
    b"SAMLRequest=a&SAMLRequest=b",
    b"SAMLRequest=" + b"A" * (200 * 1024),
])
def test_queries_without_exactly_one_message_are_refused(query: bytes) -> None:
    with pytest.raises(MalformedMessageError):
        decode_redirect(query)


def test_relay_state_is_bounded_in_bytes_and_must_be_utf8() -> None:
    at_bound = "é" * (MAX_RELAY_STATE_BYTES // 2)
    assert relay_state_from_query(b"RelayState=" + quote(at_bound).encode()) == at_bound

    with pytest.raises(RelayStateTooLongError):
        relay_state_from_query(b"RelayState=" + quote(at_bound + "x").encode())
    with pytest.raises(MalformedMessageError, match="UTF-8"):
        relay_state_from_query(b"RelayState=%ff%fe")
    assert relay_state_from_query(b"RelayState=") == ""
    assert relay_state_from_query(b"other=1") is None


def test_decode_post_reads_line_wrapped_base64() -> None:
    xml = authn_request_xml()
    wrapped = b"\r\n".join(base64.b64encode(xml)[i:i + 76] for i in range(0, 400, 76))
    body = b"SAMLRequest=" + quote(wrapped + base64.b64encode(xml)[400:]).encode()

    message = decode_post(body + b"&RelayState=r")

    assert message.xml == xml and message.relay_state == "r"


def test_decode_post_refuses_an_oversized_message() -> None:
    body = b"SAMLRequest=" + quote(base64.b64encode(b"x" * (MAX_XML_BYTES + 1))).encode()

    with pytest.raises(MalformedMessageError):
        decode_post(body)


@pytest.mark.parametrize("xml", [
    b'<!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/passwd">]><a>&e;</a>',
    b'<!DOCTYPE a SYSTEM "http://attacker.example/evil.dtd"><a/>',
    '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>'
    .encode("utf-16"),
])
def test_parse_xml_refuses_any_dtd(xml: bytes) -> None:
    with pytest.raises(MalformedMessageError, match="DOCTYPE"):
        parse_xml(xml)


def test_parse_xml_refuses_what_is_not_xml() -> None:
    with pytest.raises(MalformedMessageError, match="well-formed"):
        parse_xml(b"<a><b></a>")


@pytest.mark.parametrize("raw", [b"a%00b", b"line%0D%0Abreak", b"bell%07"])
def test_relay_state_that_an_html_form_would_change_is_refused(raw: bytes) -> None:
    with pytest.raises(MalformedMessageError, match="control character"):
        relay_state_from_query(b"RelayState=" + raw)


def test_relay_state_may_hold_tabs_and_line_feeds() -> None:
    assert relay_state_from_query(b"RelayState=a%09b%0Ac") == "a\tb\nc"
