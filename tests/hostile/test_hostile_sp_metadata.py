"""``portcullis saml add --metadata`` fed hostile documents, files and URLs (loopback only).

XXE, DOCTYPE, ``file://`` URLs, directories and unreadable files are already refused with one
line. The cases below are not: a line break hidden in an ACS ``Location``, a source with no
size (a FIFO, ``/dev/zero``) read without bound, and network errors printed as tracebacks.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from quart import Quart

from idp.directory import get_realm
from idp.errors import InvalidRequestError
from protocols.saml.cli import fetch_metadata, register_from_metadata
from protocols.saml.metadata import MAX_METADATA_BYTES
from protocols.saml.models import ServiceProvider

_MD = "urn:oasis:names:tc:SAML:2.0:metadata"
_POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"


def _metadata(location: str) -> str:
    return (
        f'<md:EntityDescriptor xmlns:md="{_MD}" entityID="https://sp.example.com">'
        f'<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
        f'<md:AssertionConsumerService Binding="{_POST}" Location="{location}" index="0"/>'
        f"</md:SPSSODescriptor></md:EntityDescriptor>"
    )


@pytest.mark.parametrize("location", [
    "https://sp.example.com/acs&#10;x",
    "https://sp.example.com/acs&#13;&#10;Set-Cookie: a=b",
], ids=["line-feed", "crlf-header"])
async def test_rejects_metadata_acs_url_with_a_line_break(app: Quart, tmp_path: Path,
                                                          location: str) -> None:
    """urlsplit() drops CR/LF before checking, so the URL passes and is stored as sent.

    Every sign-in into that SP then ends in a 500: the auto-post page's CSP header is built
    from the ACS URL and a header value may not hold a line break.
    """
    document = tmp_path / "sp.xml"
    document.write_text(_metadata(location))

    with pytest.raises(InvalidRequestError):
        await register_from_metadata(await get_realm("master"), name="sp",
                                     metadata=str(document))

    assert await ServiceProvider.all().count() == 0


async def test_reads_no_more_than_the_bound_from_a_file_without_a_size(tmp_path: Path) -> None:
    """A FIFO (or /dev/zero, /dev/urandom) has st_size 0: read_bytes() reads until EOF.

    The 4 MiB written here are read whole; /dev/zero would be read until memory runs out.
    """
    fifo = tmp_path / "metadata.xml"
    os.mkfifo(fifo)

    def write() -> None:
        try:
            with open(fifo, "wb") as pipe:
                for _ in range(4):
                    pipe.write(b" " * (1024 * 1024))
        except BrokenPipeError:
            pass  # the reader stopped at the bound, as it should

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    try:
        with pytest.raises(InvalidRequestError):
            body = await fetch_metadata(str(fifo))
            assert len(body) <= MAX_METADATA_BYTES, f"read {len(body)} bytes"
    finally:
        # Unblock a writer still waiting for a reader (if the FIFO was refused unopened).
        unblock = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        os.close(unblock)
        writer.join(timeout=5)


def _closed_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:{port}/saml/metadata",
    "https://127.0.0.1:{port}/saml/metadata",
    "http://[::1/saml/metadata",
], ids=["refused-http", "refused-https", "malformed-url"])
def test_unreachable_metadata_url_is_one_clear_line(tmp_path: Path, url: str) -> None:
    """idp/cli.py: every command prints one clear line on error and exits non-zero."""
    environment = {**os.environ,
                   "PORTCULLIS_DATABASE_URL": f"sqlite://{tmp_path}/cli.sqlite3",
                   "PORTCULLIS_SECRET_KEY_FILE": str(tmp_path / "secret.key"),
                   "PORTCULLIS_LOG_LEVEL": "WARNING"}

    done = subprocess.run(
        [sys.executable, "-m", "idp", "saml", "add", "sp", "--metadata",
         url.format(port=_closed_loopback_port())],
        env=environment, capture_output=True, text=True, timeout=120, check=False)

    assert done.returncode == 1
    assert "Traceback" not in done.stderr, done.stderr[-400:]
    assert done.stderr.startswith("portcullis: error:") and len(done.stderr.splitlines()) == 1
