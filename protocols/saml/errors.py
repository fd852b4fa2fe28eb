"""The errors of the SAML front end, each carrying the SAML status it stands for.

A SAML error either becomes the themed error page (the sender cannot be trusted, so nothing is
posted anywhere) or, once the service provider and one of its registered assertion consumer
services are known, a signed ``<samlp:Response>`` with the status below posted back to it.
Which of the two happens is decided by :attr:`SamlError.reply`, set only by the code that
resolved a registered ACS (SAML Core §3.2.2.2 lists the status codes)::

    PortcullisError
    └── SamlError                          (top-level status code on every subclass)
        ├── RequesterError                 Requester: the request is malformed or not allowed
        │   ├── MalformedMessageError      bad base64, deflate, XML, DOCTYPE or size
        │   ├── UnknownServiceProviderError  the Issuer is not registered in this realm
        │   ├── AcsMismatchError           the ACS named is not registered for the SP
        │   ├── RelayStateTooLongError     RelayState beyond the bound we accept
        │   ├── RequestDeniedError         .../RequestDenied: signature missing or wrong
        │   ├── RequestUnsupportedError    .../RequestUnsupported
        │   ├── UnsupportedBindingError    .../UnsupportedBinding
        │   └── InvalidNameIdPolicyError   .../InvalidNameIDPolicy
        ├── ResponderError                 Responder: we cannot answer as asked
        │   ├── NoPassiveError             .../NoPassive: IsPassive and nobody signed in
        │   ├── NoAuthnContextError        .../NoAuthnContext
        │   └── UnknownPrincipalError      .../UnknownPrincipal
        └── VersionMismatchError           VersionMismatch (+ RequestVersionTooHigh/TooLow)
"""

from __future__ import annotations

from dataclasses import dataclass

from idp.errors import PortcullisError

__all__ = [
    "AcsMismatchError",
    "InvalidNameIdPolicyError",
    "MalformedMessageError",
    "NoAuthnContextError",
    "NoPassiveError",
    "RelayStateTooLongError",
    "Reply",
    "RequestDeniedError",
    "RequestUnsupportedError",
    "RequesterError",
    "ResponderError",
    "SamlError",
    "UnknownPrincipalError",
    "UnknownServiceProviderError",
    "UnsupportedBindingError",
    "VersionMismatchError",
    "status",
]

_STATUS = "urn:oasis:names:tc:SAML:2.0:status:"


def status(name: str) -> str:
    """The full URN of a SAML status code named as in SAML Core §3.2.2.2."""
    return _STATUS + name


@dataclass(frozen=True, slots=True)
class Reply:
    """Where an error Response may be posted: a registered ACS of a known SP."""

    sp_entity_id: str
    acs_url: str
    in_response_to: str | None
    relay_state: str | None


class SamlError(PortcullisError):
    """A SAML request that cannot be answered with an assertion.

    ``status_code_value`` and ``second_level`` are the URNs of SAML Core §3.2.2.2.
    """

    status_code_value = status("Requester")
    second_level: str | None = None
    public_message = "The application sent a sign-in request that could not be accepted."

    def __init__(self, message: str, *, public_message: str | None = None,
                 second_level: str | None = None) -> None:
        super().__init__(message, public_message=public_message)
        if second_level is not None:
            self.second_level = second_level
        self.reply: Reply | None = None

    def with_reply(self, reply: Reply | None) -> SamlError:
        """Mark the error as answerable at ``reply`` (a registered ACS); returns itself."""
        self.reply = reply
        return self


class RequesterError(SamlError):
    """The request was malformed or is not allowed (status Requester)."""


class MalformedMessageError(RequesterError):
    """The message is not decodable, not well-formed, too large, or carries a DTD."""

    public_message = "The application sent a sign-in request that could not be read."


class UnknownServiceProviderError(RequesterError):
    """The Issuer (or the name in an IdP-initiated URL) is not a registered SP."""

    status_code = 404
    public_message = "This application is not registered with this sign-in service."


class AcsMismatchError(RequesterError):
    """The AssertionConsumerServiceURL or Index is not registered for the SP.

    Never answered with a Response: the place to post it to is exactly what is in doubt
    (SAML Profiles §4.1.4.1, SAML Core §3.4.1).
    """

    public_message = "The application asked to receive the sign-in at an unregistered address."


class RelayStateTooLongError(RequesterError):
    """The RelayState is longer than the bound this IdP accepts."""


class RequestDeniedError(RequesterError):
    """The request is not signed, or not signed correctly, by an SP that must sign."""

    second_level = status("RequestDenied")
    status_code = 403
    public_message = "The application's sign-in request could not be verified."


class RequestUnsupportedError(RequesterError):
    """The request asks for something this IdP does not do."""

    second_level = status("RequestUnsupported")


class UnsupportedBindingError(RequesterError):
    """The response would have to use a binding other than HTTP-POST."""

    second_level = status("UnsupportedBinding")


class InvalidNameIdPolicyError(RequesterError):
    """The NameIDPolicy asks for a format that is not the one configured for the SP."""

    second_level = status("InvalidNameIDPolicy")


class ResponderError(SamlError):
    """The IdP cannot answer the request as asked (status Responder)."""

    status_code_value = status("Responder")


class NoPassiveError(ResponderError):
    """IsPassive was requested and the person would have to sign in first."""

    second_level = status("NoPassive")


class NoAuthnContextError(ResponderError):
    """The requested authentication context cannot be met by a passkey sign-in."""

    second_level = status("NoAuthnContext")


class UnknownPrincipalError(ResponderError):
    """The signed-in person cannot be named as the SP needs (no email address, say)."""

    second_level = status("UnknownPrincipal")


class VersionMismatchError(SamlError):
    """The request is not SAML 2.0 (SAML Core §4.1.3.1)."""

    status_code_value = status("VersionMismatch")
