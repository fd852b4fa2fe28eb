"""The errors Portcullis raises, as one tree.

Every error a caller is expected to handle derives from :class:`PortcullisError`. Protocol
front ends add their own subclasses named after their spec's error codes (``protocols/saml``
carries SAML status codes, ``protocols/oidc`` OAuth error codes)::

    PortcullisError
    ├── ConfigurationError          a setting is missing or invalid; names the key
    ├── NotFoundError               a realm, user, client or transaction does not exist
    ├── ConflictError               the change would duplicate something unique
    ├── ExpiredError                a transaction, challenge or link is past its expiry
    ├── InvalidRequestError         the browser or client sent something malformed
    └── PasskeyError                a WebAuthn ceremony failed (see idp.passkeys)
        └── PossibleCloneError      the sign counter did not increase

Messages say what was received and what was expected and never contain a secret. A person sees
only :attr:`PortcullisError.public_message` and the error id; the detail goes to the log.
"""

from __future__ import annotations

import secrets

__all__ = [
    "ConfigurationError",
    "ConflictError",
    "ExpiredError",
    "InvalidRequestError",
    "NotFoundError",
    "PasskeyError",
    "PortcullisError",
    "PossibleCloneError",
    "UnexpectedError",
]


class PortcullisError(Exception):
    """The base of every error Portcullis raises on purpose.

    ``public_message`` is the one sentence shown to a person; the full message is for logs.
    ``error_id`` is a short random reference printed on the error page and in the log line, so
    that a support request can be matched to the detail without exposing it.
    """

    status_code = 400
    public_message = "The request could not be completed."

    def __init__(self, message: str, *, public_message: str | None = None) -> None:
        super().__init__(message)
        if public_message is not None:
            self.public_message = public_message
        self.error_id = secrets.token_hex(4)


class ConfigurationError(PortcullisError):
    """A setting is missing or invalid; the message names the setting's key."""

    status_code = 500
    public_message = "Portcullis is not configured correctly."


class NotFoundError(PortcullisError):
    """A realm, user, client or transaction that was asked for does not exist."""

    status_code = 404
    public_message = "The page or item you asked for does not exist."


class ConflictError(PortcullisError):
    """The change would create a second copy of something that must be unique."""

    status_code = 409
    public_message = "That already exists."


class ExpiredError(PortcullisError):
    """A login transaction, challenge or link was used after it expired or was used once."""

    status_code = 400
    public_message = "This link or sign-in attempt has expired. Please start again."


class InvalidRequestError(PortcullisError):
    """The request was malformed: bad encoding, missing parameter, or too large."""

    status_code = 400
    public_message = "The request was not understood."


class PasskeyError(PortcullisError):
    """A WebAuthn registration or authentication ceremony failed.

    See https://www.w3.org/TR/webauthn-3/#sctn-verifying-assertion for the steps behind it.
    """

    status_code = 400
    public_message = "Your passkey could not be verified. Please try again."


class PossibleCloneError(PasskeyError):
    """A non-zero signature counter did not increase: the authenticator may be cloned.

    WebAuthn Level 3 §6.1.1: https://www.w3.org/TR/webauthn-3/#sctn-sign-counter
    """


class UnexpectedError(PortcullisError):
    """An exception no view expected: a bug, or a dependency that failed."""

    status_code = 500
    public_message = "Something went wrong on our side. Please try again later."
