"""The login transaction: one sign-in, from a protocol's request to its answer.

A protocol front end validates an incoming request (a SAML AuthnRequest, an OIDC authorization
request) and begins a transaction holding what it needs to answer later. The browser carries
only the transaction's opaque id. When the person is signed in, the core hands the transaction
to the :class:`Completer` the protocol registered, which builds the answer. A transaction can be
finished once; it expires after ``transaction_ttl_seconds``. See DESIGN.md, "The data that flows".
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from idp.errors import ExpiredError, InvalidRequestError
from idp.ttl import TtlStore

if TYPE_CHECKING:
    from idp.sessions import SignIn

__all__ = [
    "Completer",
    "Completion",
    "LoginTransaction",
    "TransactionStore",
    "register_completer",
    "completer_for",
]

_TXN_ID_BYTES = 32


@dataclass(frozen=True, slots=True)
class LoginTransaction:
    """A pending sign-in. ``request`` is the protocol's own data, plain JSON."""

    id: str
    realm: str
    protocol: str
    client: str
    request: dict[str, Any]
    force_authn: bool = False
    is_passive: bool = False
    login_hint: str = ""
    created_at: float = field(default_factory=time.time)


@dataclass(frozen=True, slots=True)
class Completion:
    """How the browser is sent back to the application.

    ``post``: an auto-submitting form of ``fields`` to ``url`` (SAML HTTP-POST, form_post).
    ``redirect``: a 302 to ``url``. ``page``: the error page with ``message``.
    """

    kind: Literal["post", "redirect", "page"]
    url: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    message: str = ""


Completer = Callable[[LoginTransaction, "SignIn"], Awaitable[Completion]]
"""Builds a protocol's answer for a finished transaction and a signed-in person."""

_completers: dict[str, Completer] = {}


def register_completer(protocol: str, completer: Completer) -> None:
    """Called by a protocol at start-up for its kind of transaction."""
    _completers[protocol] = completer


def completer_for(protocol: str) -> Completer:
    """The completer registered for ``protocol``."""
    try:
        return _completers[protocol]
    except KeyError:
        raise InvalidRequestError(f"no protocol registered for {protocol!r}") from None


class TransactionStore:
    """Login transactions in the TTL store, keyed ``txn:<realm>:<id>``."""

    def __init__(self, store: TtlStore, *, ttl: int) -> None:
        self._store = store
        self._ttl = ttl

    async def begin(
        self, *, realm: str, protocol: str, client: str, request: dict[str, Any],
        force_authn: bool = False, is_passive: bool = False, login_hint: str = "",
    ) -> LoginTransaction:
        """Store a new transaction and return it; its id goes into the login page's URL."""
        transaction = LoginTransaction(
            id=secrets.token_urlsafe(_TXN_ID_BYTES), realm=realm, protocol=protocol,
            client=client, request=request, force_authn=force_authn, is_passive=is_passive,
            login_hint=login_hint,
        )
        await self._store.put(self._key(realm, transaction.id), asdict(transaction),
                              ttl=self._ttl)
        return transaction

    async def load(self, realm: str, transaction_id: str) -> LoginTransaction:
        """The transaction, still pending; raises :class:`ExpiredError` otherwise."""
        data = await self._store.get(self._key(realm, transaction_id))
        if data is None:
            raise ExpiredError(f"login transaction of realm {realm} unknown or expired")
        return LoginTransaction(**data)

    async def finish(self, realm: str, transaction_id: str) -> LoginTransaction:
        """Take the transaction out of the store: whoever calls this first may answer it."""
        data = await self._store.take(self._key(realm, transaction_id))
        if data is None:
            raise ExpiredError(f"login transaction of realm {realm} unknown, used or expired")
        return LoginTransaction(**data)

    @staticmethod
    def _key(realm: str, transaction_id: str) -> str:
        if not 20 <= len(transaction_id) <= 64 or not transaction_id.isascii():
            raise ExpiredError("login transaction id malformed")
        return f"txn:{realm}:{transaction_id}"
