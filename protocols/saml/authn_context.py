"""The authentication context a passkey sign-in claims, and how requested contexts are met.

Every sign-in is a WebAuthn ceremony with user verification required: the person holds the
authenticator (its private key never leaves it) and unlocks it with a PIN or a biometric the
authenticator checks. That is two factors, phishing-resistant, which is what the REFEDS MFA
profile (``https://refeds.org/profile/mfa``) names; none of the SAML 2.0 classes of SAML
Authentication Context §3.4 describes a passkey, and the password classes would be untrue.
So an AuthnStatement carries ``https://refeds.org/profile/mfa`` unless the SP asked, with
exact comparison, for ``...ac:classes:unspecified``, which is always true.

A RequestedAuthnContext (SAML Core §3.3.2.2.1) is honoured as follows: ``exact`` needs one of
those two classes; ``minimum``/``better`` are met when a requested class is known to be no
stronger (resp. weaker) than a passkey; ``maximum`` is met only by ``unspecified`` or MFA
itself. Otherwise the answer is NoAuthnContext. Comparisons by declaration are not supported.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocols.saml.errors import NoAuthnContextError

__all__ = [
    "PASSKEY_CLASS",
    "UNSPECIFIED_CLASS",
    "RequestedAuthnContext",
    "choose_authn_context",
]

_AC = "urn:oasis:names:tc:SAML:2.0:ac:classes:"
PASSKEY_CLASS = "https://refeds.org/profile/mfa"
UNSPECIFIED_CLASS = _AC + "unspecified"
COMPARISONS = ("exact", "minimum", "maximum", "better")

# Classes whose strength relative to a user-verified passkey is clear; others compare only
# by equality. Higher is stronger.
_RANK: dict[str, int] = {
    UNSPECIFIED_CLASS: 0,
    _AC + "InternetProtocol": 1,
    _AC + "PreviousSession": 1,
    _AC + "Password": 1,
    _AC + "InternetProtocolPassword": 1,
    _AC + "PasswordProtectedTransport": 2,
    PASSKEY_CLASS: 3,
}


@dataclass(frozen=True, slots=True)
class RequestedAuthnContext:
    """What an AuthnRequest asked for: class references and a comparison."""

    class_refs: tuple[str, ...]
    comparison: str = "exact"


def choose_authn_context(requested: RequestedAuthnContext | None) -> str:
    """The AuthnContextClassRef to send, or :class:`NoAuthnContextError` if none fits.

    SAML Core §3.3.2.2.1: when the requirements cannot be met the responder answers with
    the second-level status NoAuthnContext.
    """
    if requested is None or not requested.class_refs:
        return PASSKEY_CLASS
    if requested.comparison not in COMPARISONS:
        raise NoAuthnContextError(f"comparison {requested.comparison!r} is not defined")

    ours = _RANK[PASSKEY_CLASS]
    refs = requested.class_refs
    if requested.comparison == "exact":
        for ref in refs:
            if ref in (PASSKEY_CLASS, UNSPECIFIED_CLASS):
                return ref
    elif requested.comparison == "minimum":
        if any(ref in _RANK and _RANK[ref] <= ours for ref in refs):
            return PASSKEY_CLASS
    elif requested.comparison == "better":
        if any(ref in _RANK and _RANK[ref] < ours for ref in refs):
            return PASSKEY_CLASS
    elif PASSKEY_CLASS in refs or UNSPECIFIED_CLASS in refs:  # maximum
        return PASSKEY_CLASS if PASSKEY_CLASS in refs else UNSPECIFIED_CLASS

    raise NoAuthnContextError(
        f"requested {requested.comparison} {', '.join(refs)[:300]}; a passkey sign-in is "
        f"{PASSKEY_CLASS}"
    )
