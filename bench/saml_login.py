"""Complete SP-initiated SAML logins per second through the running server, against the
protocol work alone, and the server's memory after 1,000 and after 10,000 logins.

One run, one machine, so only the ratios mean anything:

* **through the server**: ``portcullis serve`` (one hypercorn worker, SQLite) in a subprocess;
  a Jira-like pysaml2 SP sends an AuthnRequest (HTTP-Redirect); the person types an identifier,
  a software authenticator answers the passkey page, and the signed Response comes back.
  Four requests per login, each a fresh browser (no SSO session to reuse).
* **protocol only**, in this process on one thread, with the server's own functions: decode
  and read the AuthnRequest, verify the WebAuthn assertion, build and sign the Response.

Target (issue: passkey sign-in to Jira over SAML): server rate >= 0.6 x protocol-only rate,
and resident memory after 10,000 logins within 10% of that after 1,000.

Run from the repository root: ``.venv/bin/python -m bench.saml_login [--logins 10000]``
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import webauthn
from saml2 import BINDING_HTTP_REDIRECT
from webauthn.helpers.structs import (
    PublicKeyCredentialDescriptor,
    UserVerificationRequirement,
)

from idp.keys import _generate  # noqa: PLC2701 - the same key generation the server uses
from protocols.saml.authn_request import read_authn_request
from protocols.saml.bindings import decode_redirect
from protocols.saml.idp import build_identity_provider
from protocols.saml.response import AssertionParams, build_response
from tests.flows.steps import parse_page
from tests.protocols.saml.spkit import JIRA, service_provider
from tests.support.authenticator import SoftAuthenticator
from tests.support.server import running_server

__all__ = ["main"]

REALM = "master"
CONCURRENCY = 4
"""People signing in at the same time, each in their own browser, one login after another."""


def rss_kib(pid: int) -> int:
    """Resident set size of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def server_pid(port: int) -> int:
    """The pid of the process listening on ``port`` (the ``portcullis serve`` process)."""
    inode = ""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].split(":")[1], 16) == port and fields[3] == "0A":
                inode = fields[9]
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            for fd in (proc / "fd").iterdir():
                if fd.readlink().as_posix() == f"socket:[{inode}]":
                    return int(proc.name)
        except OSError:
            continue
    raise RuntimeError(f"nothing listens on {port}")


class Person:
    """A person with a passkey, signing in through a fresh browser each time."""

    def __init__(self, base_url: str, sp: Any, authenticator: SoftAuthenticator,
                 username: str) -> None:
        self.username = username
        self.base_url = base_url
        self.sp = sp
        self.authenticator = authenticator
        self.idp_entity_id = f"{base_url}/realms/{REALM}"
        self.http = httpx.AsyncClient(base_url=base_url, headers={"Origin": base_url},
                                      timeout=30)

    def browser(self) -> httpx.AsyncClient:
        """The person's browser with its cookies forgotten, as a fresh browser session."""
        self.http.cookies.clear()
        return self.http

    async def enrol(self, link: str) -> None:
        browser = self.browser()
        answer = await browser.get(link)
        page = parse_page(answer.status_code, answer.text, answer.headers)
        form = dict(page.forms["enrol-form"])
        form["credential"] = json.dumps(self.authenticator.create(
            page.data["registration-options"], origin=self.base_url))
        answer = await browser.post(page.actions["enrol-form"], data=form)
        if answer.status_code not in (302, 303):
            raise RuntimeError(f"enrolment failed: {answer.status_code} {answer.text[:300]}")

    async def sign_in(self) -> str:
        """One SP-initiated login; returns the SAMLResponse the browser would post to Jira."""
        _, info = self.sp.prepare_for_authenticate(
            entityid=self.idp_entity_id, relay_state="/secure/Dashboard.jspa",
            binding=BINDING_HTTP_REDIRECT)
        location = dict(info["headers"])["Location"]
        browser = self.browser()
        answer = await browser.get(location)
        login = answer.headers["location"]
        answer = await browser.get(login)
        page = parse_page(answer.status_code, answer.text, answer.headers)
        form = dict(page.forms["identifier-form"], identifier=self.username)
        answer = await browser.post(page.actions["identifier-form"], data=form)
        page = parse_page(answer.status_code, answer.text, answer.headers)
        form = dict(page.forms["passkey-form"])
        form["credential"] = json.dumps(self.authenticator.get(
            page.data["passkey-options"], origin=self.base_url))
        answer = await browser.post(page.actions["passkey-form"], data=form)
        page = parse_page(answer.status_code, answer.text, answer.headers)
        fields = next(iter(page.forms.values()), {})
        if "SAMLResponse" not in fields:
            raise RuntimeError(f"no SAMLResponse: {answer.status_code} {answer.text[:300]}")
        return fields["SAMLResponse"]


async def logins(people: list[Person], count: int) -> float:
    """Run ``count`` logins, one person at a time each; returns logins per second."""
    remaining = iter(range(count))

    async def worker(person: Person) -> None:
        for _ in remaining:
            await person.sign_in()

    started = time.perf_counter()
    await asyncio.gather(*(worker(person) for person in people))
    return count / (time.perf_counter() - started)


def protocol_only_rate(sp: Any, base_url: str, *, seconds: float = 3.0) -> dict[str, float]:
    """Per-login cost of the protocol work alone, each step timed on its own."""
    idp = build_identity_provider(base_url=base_url, realm=REALM, key=_generate("bench"))
    origin, rp_id = base_url, "localhost"

    def parse_request() -> None:
        _, info = sp.prepare_for_authenticate(entityid=idp.entity_id,
                                              binding=BINDING_HTTP_REDIRECT)
        query = urlsplit(dict(info["headers"])["Location"]).query.encode()
        started = time.perf_counter()
        read_authn_request(decode_redirect(query))
        timings["parse_request"] += time.perf_counter() - started

    authenticator = SoftAuthenticator()
    registration = webauthn.generate_registration_options(
        rp_id=rp_id, rp_name="bench", user_name="alice", user_id=secrets.token_bytes(64))
    verified = webauthn.verify_registration_response(
        credential=authenticator.create(webauthn.options_to_json(registration), origin=origin),
        expected_challenge=registration.challenge, expected_origin=origin,
        expected_rp_id=rp_id, require_user_verification=True)
    sign_count = 0

    def verify_assertion() -> None:
        nonlocal sign_count
        options = webauthn.generate_authentication_options(
            rp_id=rp_id, user_verification=UserVerificationRequirement.REQUIRED,
            allow_credentials=[PublicKeyCredentialDescriptor(id=verified.credential_id)])
        response = authenticator.get(webauthn.options_to_json(options), origin=origin)
        started = time.perf_counter()
        result = webauthn.verify_authentication_response(
            credential=response, expected_challenge=options.challenge, expected_origin=origin,
            expected_rp_id=rp_id, credential_public_key=verified.credential_public_key,
            credential_current_sign_count=sign_count, require_user_verification=True)
        sign_count = result.new_sign_count
        timings["verify_assertion"] += time.perf_counter() - started

    def sign_response() -> None:
        params = AssertionParams(
            sp_entity_id=JIRA, acs_url=f"{JIRA}/plugins/servlet/samlconsumer",
            in_response_to="_" + secrets.token_hex(16), name_id_format="unspecified",
            name_id="alice", session_index=secrets.token_hex(32),
            authn_instant=dt.datetime.now(dt.timezone.utc),
            authn_context="urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified",
            attributes={"username": ["alice"], "email": ["alice@example.com"],
                        "displayName": ["Alice"], "groups": ["jira-software-users"]})
        started = time.perf_counter()
        build_response(idp, params)
        timings["sign_response"] += time.perf_counter() - started

    timings = dict.fromkeys(("parse_request", "verify_assertion", "sign_response"), 0.0)
    rounds = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        parse_request()
        verify_assertion()
        sign_response()
        rounds += 1
    per_login = sum(timings.values()) / rounds
    return {**{k: v / rounds * 1000 for k, v in timings.items()}, "rate": 1 / per_login}


async def run(total: int, checkpoint: int) -> None:
    with tempfile.TemporaryDirectory() as workdir, running_server(Path(workdir)) as server:
        server.cli("saml", "add", "jira", "--preset", "jira", "--base-url", JIRA)
        async with httpx.AsyncClient() as http:
            descriptor = await http.get(f"{server.base_url}/realms/{REALM}/protocol/saml/"
                                        "descriptor")
        sp = service_provider(JIRA, idp_metadata=descriptor.text)
        people = []
        for number in range(CONCURRENCY):
            username = f"person{number}"
            link = server.cli("user", "add", username, "--group", "jira-software-users",
                              "--email", f"{username}@example.com", "--enrol")
            person = Person(server.base_url, sp, SoftAuthenticator(), username)
            await person.enrol(link.strip().splitlines()[-1])
            people.append(person)
        pid = server_pid(int(urlsplit(server.base_url).port or 0))

        await logins(people, 100)  # warm-up: keys loaded, caches filled
        protocol = protocol_only_rate(sp, server.base_url)
        rate = await logins(people, checkpoint)
        rss_first = rss_kib(pid)
        later_rate = await logins(people, total - checkpoint)
        rss_last = rss_kib(pid)

    ratio = rate / protocol["rate"]
    growth = (rss_last - rss_first) / rss_first
    print(f"protocol only: {protocol['rate']:.0f} logins/s "
          f"(parse {protocol['parse_request']:.2f} ms, verify "
          f"{protocol['verify_assertion']:.2f} ms, sign {protocol['sign_response']:.2f} ms)")
    print(f"through the server: {rate:.0f} logins/s (first {checkpoint}), "
          f"{later_rate:.0f} logins/s (next {total - checkpoint}), {CONCURRENCY} at a time")
    print(f"ratio server / protocol-only: {ratio:.2f} (target >= 0.60)")
    print(f"server RSS after {checkpoint}: {rss_first / 1024:.1f} MiB, after {total}: "
          f"{rss_last / 1024:.1f} MiB, growth {growth:+.1%} (target < 10%)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logins", type=int, default=10_000)
    parser.add_argument("--checkpoint", type=int, default=1_000)
    args = parser.parse_args()
    asyncio.run(run(args.logins, args.checkpoint))


if __name__ == "__main__":
    main()
