"""What a person's browser does on the sign-in pages, driven through the Quart test client.

The pages are parsed as a browser would read them (forms, hidden fields, the options data
block); the software authenticator answers the options; the answer goes back as the page's
form POST. Nothing here shortcuts the server: every step is a real request.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

from tests.support.authenticator import SoftAuthenticator

ORIGIN = "http://localhost:8080"


@dataclass
class Page:
    """A parsed HTML page: its forms (by id) and JSON data blocks (by id)."""

    status: int
    html: str
    headers: Any
    forms: dict[str, dict[str, str]] = field(default_factory=dict)
    actions: dict[str, str] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    scripts: list[dict[str, str]] = field(default_factory=list)

    def shape(self) -> tuple[tuple[str, ...], tuple[str, ...], int]:
        """What an observer could compare between two pages: forms, fields, credential count."""
        fields = tuple(sorted(f"{form}.{name}" for form, names in self.forms.items()
                              for name in names))
        options = self.data.get("passkey-options", {})
        return tuple(sorted(self.forms)), fields, len(options.get("allowCredentials", []))


class _Reader(HTMLParser):
    def __init__(self, page: Page) -> None:
        super().__init__()
        self.page = page
        self._form: str | None = None
        self._block: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = attributes.get("id") or attributes.get("action", "")
            self.page.forms[self._form] = {}
            self.page.actions[self._form] = attributes.get("action", "")
        elif tag == "input" and self._form is not None and "name" in attributes:
            self.page.forms[self._form][attributes["name"]] = attributes.get("value", "")
        elif tag == "script":
            self.page.scripts.append(attributes)
            if attributes.get("type") == "application/json":
                self._block, self._text = attributes["id"], []

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "script" and self._block is not None:
            self.page.data[self._block] = json.loads("".join(self._text))
            self._block = None

    def handle_data(self, data: str) -> None:
        if self._block is not None:
            self._text.append(data)


def parse_page(status: int, html: str, headers: Any) -> Page:
    """Read an HTML answer as a browser would: its forms and data blocks."""
    page = Page(status=status, html=html, headers=headers)
    _Reader(page).feed(html)
    return page


async def read(response: Any) -> Page:
    """Parse a test client response into a :class:`Page`."""
    html = await response.get_data(as_text=True)
    return parse_page(response.status_code, html, response.headers)


def drop_cookies(client: Any) -> None:
    """Forget every cookie, as closing the browser would: the SSO session is left behind."""
    assert client.cookie_jar is not None
    client.cookie_jar.clear()


def path_of(url: str) -> str:
    """The path and query of an absolute or relative URL, as the test client wants it."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


class Browser:
    """One browser (cookie jar) with one authenticator, signing in to one realm."""

    def __init__(self, client: Any, *, realm: str = "acme",
                 authenticator: SoftAuthenticator | None = None) -> None:
        self.client = client
        self.realm = realm
        self.authenticator = authenticator or SoftAuthenticator()

    async def open(self, path: str) -> Page:
        """GET a page, without following redirects."""
        return await read(await self.client.get(path_of(path)))

    async def post(self, path: str, form: dict[str, str], **kwargs: Any) -> Page:
        """POST a form, without following redirects."""
        return await read(await self.client.post(path_of(path), form=form, **kwargs))

    async def enrol(self, link: str, *, name: str = "", **create: Any) -> Page:
        """Open an enrolment link, create the passkey and post it, as enrol.js does."""
        page = await self.open(link)
        assert page.status == 200, page.html
        fields = dict(page.forms["enrol-form"])
        response = self.authenticator.create(page.data["registration-options"], origin=ORIGIN,
                                             **create)
        fields.update(credential=json.dumps(response), name=name)
        return await self.post(page.actions["enrol-form"], fields)

    async def start(self, txn: str | None = None) -> Page:
        """The identifier page of a transaction (or of a new ``account`` one)."""
        if txn is None:
            redirect = await self.client.get(f"/realms/{self.realm}/login/")
            assert redirect.status_code == 303
            return await self.open(redirect.headers["Location"])
        return await self.open(f"/realms/{self.realm}/login/?txn={txn}")

    async def identify(self, identifier: str, *, txn: str | None = None) -> Page:
        """Type the identifier and continue: the passkey page."""
        page = await self.start(txn)
        fields = dict(page.forms["identifier-form"], identifier=identifier)
        return await self.post(page.actions["identifier-form"], fields)

    async def use_passkey(self, page: Page, *, ignore_allow_list: bool = False,
                          **get: Any) -> Page:
        """Answer the passkey page's options and post the assertion, as login.js does."""
        options = dict(page.data["passkey-options"])
        if ignore_allow_list:
            options["allowCredentials"] = []
        response = self.authenticator.get(options, origin=get.pop("origin", ORIGIN), **get)
        fields = dict(page.forms["passkey-form"], credential=json.dumps(response))
        return await self.post(page.actions["passkey-form"], fields)

    async def sign_in(self, identifier: str, *, txn: str | None = None, **get: Any) -> Page:
        """Identifier first, then the passkey: the whole local sign-in."""
        return await self.use_passkey(await self.identify(identifier, txn=txn), **get)

    async def sign_in_discoverable(self, *, txn: str | None = None, **get: Any) -> Page:
        """The "Sign in with a passkey" button: fetch options, answer, post the form."""
        page = await self.start(txn)
        form = page.forms["discoverable-form"]
        fetched = await self.client.post(f"/realms/{self.realm}/login/passkey/options",
                                         json={"txn": form["txn"]})
        assert fetched.status_code == 200, await fetched.get_data(as_text=True)
        body = await fetched.get_json()
        response = self.authenticator.get(body["options"], origin=get.pop("origin", ORIGIN),
                                          **get)
        fields = dict(form, handle=body["handle"], credential=json.dumps(response))
        return await self.post(page.actions["discoverable-form"], fields)
