"""The HTTP-Redirect and HTTP-POST bindings: taking a SAML message off the wire, safely.

Everything here distrusts its input. The encoded message, its inflated size and the
RelayState are bounded before anything else looks at them, and the XML is parsed by a
hardened lxml parser that refuses any DTD, resolves no entity and opens no URL, before pysaml2
(which uses defusedxml too) ever sees it. For the Redirect binding the query string is taken
as received: its signature covers those exact octets (SAML Bindings §3.4.4.1).

Bounds. A SAML message inflates to at most :data:`MAX_XML_BYTES` (64 KiB: an AuthnRequest is
typically under 2 KiB). RelayState may be up to :data:`MAX_RELAY_STATE_BYTES` (1 KiB). SAML
Bindings §3.4.3 and §3.5.3 say it "MUST NOT exceed 80 bytes" for the requester to send, but
Atlassian Data Center puts the whole URL the person asked for into it, which is often longer;
refusing those would break sign-in, while an unbounded value would let a sender make us echo
any amount of data into the browser. 1 KiB covers real URLs and stays harmless.
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
import zlib
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote_to_bytes

from lxml import etree
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT

from protocols.saml.errors import MalformedMessageError, RelayStateTooLongError

__all__ = [
    "MAX_RELAY_STATE_BYTES",
    "MAX_XML_BYTES",
    "InboundMessage",
    "SignedQuery",
    "decode_post",
    "decode_redirect",
    "parse_xml",
    "read_relay_state",
    "relay_state_from_query",
]

MAX_XML_BYTES = 64 * 1024
MAX_RELAY_STATE_BYTES = 1024
MAX_ENCODED_CHARS = 4 * (MAX_XML_BYTES // 3 + 1) + 8 * 1024  # base64 plus line breaks

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f]")

Parameter = Literal["SAMLRequest", "SAMLResponse"]
_PARAMETERS: tuple[Parameter, ...] = ("SAMLRequest", "SAMLResponse")
_local = threading.local()


@dataclass(frozen=True, slots=True)
class SignedQuery:
    """The octets a Redirect-binding signature covers, and the signature (§3.4.4.1)."""

    octets: bytes
    sig_alg: str
    signature: bytes


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """A decoded SAML protocol message: the XML bytes and how it arrived."""

    parameter: Parameter
    xml: bytes
    binding: str
    relay_state: str | None
    signed_query: SignedQuery | None = None


def _split_query(raw: bytes) -> dict[bytes, bytes]:
    """Raw ``name=value`` pairs, values still URL-encoded; a repeated SAML name is refused."""
    pairs: dict[bytes, bytes] = {}
    for part in raw.split(b"&"):
        name, _, value = part.partition(b"=")
        if name in pairs and name in (b"SAMLRequest", b"SAMLResponse", b"RelayState",
                                      b"SigAlg", b"Signature"):
            raise MalformedMessageError(f"parameter {name.decode('ascii', 'replace')} repeated")
        pairs.setdefault(name, value)
    return pairs


def _unquote(value: bytes) -> bytes:
    return unquote_to_bytes(value.replace(b"+", b" "))


def _base64(value: bytes, what: str) -> bytes:
    if len(value) > MAX_ENCODED_CHARS:
        raise MalformedMessageError(f"{what}: {len(value)} characters, more than allowed")
    # A space is never base64: it is a '+' that the sender did not percent-encode.
    cleaned = value.replace(b" ", b"+").translate(None, b"\r\n\t")
    try:
        return base64.b64decode(cleaned, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedMessageError(f"{what}: not base64") from exc


def _inflate(data: bytes) -> bytes:
    """Raw DEFLATE (RFC 1951, SAML Bindings §3.4.4.1), stopped at :data:`MAX_XML_BYTES`."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    try:
        xml = inflater.decompress(data, MAX_XML_BYTES + 1)
    except zlib.error as exc:
        raise MalformedMessageError(f"message does not inflate: {exc}") from exc
    if len(xml) > MAX_XML_BYTES or inflater.unconsumed_tail:
        raise MalformedMessageError(f"message inflates to more than {MAX_XML_BYTES} bytes")
    if not inflater.eof:
        raise MalformedMessageError("message is a truncated DEFLATE stream")
    return xml


def read_relay_state(raw: bytes | None) -> str | None:
    """RelayState as text, refused if it could not come back exactly as it was sent.

    It travels back in an HTML form field, so it must be UTF-8 text without control
    characters other than tab and line feed: an HTML parser turns NUL into U+FFFD and CR
    into LF (HTML Standard §13.2.3.5), and the SP would get other bytes than it sent.
    """
    if raw is None:
        return None
    if len(raw) > MAX_RELAY_STATE_BYTES:
        raise RelayStateTooLongError(
            f"RelayState of {len(raw)} bytes; at most {MAX_RELAY_STATE_BYTES} are accepted"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedMessageError("RelayState is not UTF-8 text") from exc
    if _CONTROL.search(text):
        raise MalformedMessageError("RelayState holds a control character")
    return text


def _which(pairs: dict[bytes, bytes]) -> Parameter:
    present = [p for p in _PARAMETERS if p.encode() in pairs]
    if len(present) != 1:
        raise MalformedMessageError("expected exactly one of SAMLRequest or SAMLResponse")
    return present[0]


def decode_redirect(query: bytes) -> InboundMessage:
    """Decode an HTTP-Redirect message from the raw query string (SAML Bindings §3.4.4)."""
    pairs = _split_query(query)
    parameter = _which(pairs)
    xml = _inflate(_base64(_unquote(pairs[parameter.encode()]), parameter))
    raw_relay = pairs.get(b"RelayState")
    relay_state = read_relay_state(_unquote(raw_relay) if raw_relay is not None else None)

    signed_query = None
    if b"Signature" in pairs or b"SigAlg" in pairs:
        if b"Signature" not in pairs or b"SigAlg" not in pairs:
            raise MalformedMessageError("expected both SigAlg and Signature, or neither")
        # §3.4.4.1: the signed octets are the three parameters as received, in this order.
        names = [parameter.encode()] + ([b"RelayState"] if raw_relay is not None else [])
        octets = b"&".join(name + b"=" + pairs[name] for name in [*names, b"SigAlg"])
        signed_query = SignedQuery(
            octets=octets,
            sig_alg=_unquote(pairs[b"SigAlg"]).decode("ascii", "replace"),
            signature=_base64(_unquote(pairs[b"Signature"]), "Signature"),
        )
    return InboundMessage(parameter, xml, BINDING_HTTP_REDIRECT, relay_state, signed_query)


def decode_post(body: bytes) -> InboundMessage:
    """Decode an HTTP-POST message from the raw form body (SAML Bindings §3.5.4)."""
    pairs = _split_query(body)
    parameter = _which(pairs)
    xml = _base64(_unquote(pairs[parameter.encode()]), parameter)
    if len(xml) > MAX_XML_BYTES:
        raise MalformedMessageError(f"message of {len(xml)} bytes; at most {MAX_XML_BYTES}")
    raw_relay = pairs.get(b"RelayState")
    relay_state = read_relay_state(_unquote(raw_relay) if raw_relay is not None else None)
    return InboundMessage(parameter, xml, BINDING_HTTP_POST, relay_state)


def relay_state_from_query(query: bytes) -> str | None:
    """The RelayState of a query string that carries no SAML message (IdP-initiated SSO)."""
    raw = _split_query(query).get(b"RelayState")
    return read_relay_state(_unquote(raw) if raw is not None else None)


def _parser() -> etree.XMLParser:
    """One hardened parser per thread (lxml parsers must not be shared between threads)."""
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                                 dtd_validation=False, huge_tree=False, remove_pis=True)
        _local.parser = parser
    return parser


def parse_xml(xml: bytes) -> etree._Element:
    """Parse a SAML message, refusing any DOCTYPE: no SAML schema needs one, attacks do.

    A DTD is how entity expansion and external entity attacks reach a parser. The byte scan
    catches a DTD before the parser reads it; the check after parsing catches one hidden by an
    encoding the scan cannot see.
    """
    if b"<!DOCTYPE" in xml or b"<!ENTITY" in xml:
        raise MalformedMessageError("message carries a DOCTYPE or ENTITY declaration")
    try:
        root = etree.fromstring(xml, parser=_parser())
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise MalformedMessageError(f"message is not well-formed XML: {exc}") from exc
    info = root.getroottree().docinfo
    if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
        raise MalformedMessageError("message carries a DOCTYPE")
    return root
