"""Ready-made registrations for Atlassian Data Center applications, from their base URL.

Jira, Confluence, Bitbucket and Jira Service Management Data Center share one SAML service
provider ("SSO 2.0", built into the products since 8.x/7.x): its entity ID is the application's
base URL and its assertion consumer service is ``<base URL>/plugins/servlet/samlconsumer``,
context path included (``https://wiki.example.com/confluence`` gives
``https://wiki.example.com/confluence/plugins/servlet/samlconsumer``). It does not sign its
AuthnRequests and sends them with the HTTP-Redirect binding.

Attribute names. SSO 2.0 identifies the person by its *username mapping*, ``${NameID}`` by
default, so the NameID carries the username (format unspecified). Its just-in-time
provisioning reads the display name, email and groups through *mapping expressions* such as
``${displayName}``, where the variable is the SAML Attribute ``Name`` exactly as sent, and a
group attribute given by its plain name. It never looks at NameFormat or FriendlyName, and
URN or OID names would have to be typed into those expressions verbatim. So the presets send
plain names, one Attribute each: ``username``, ``displayName``, ``email`` and ``groups``
(always present, with zero or more values, because JIT provisioning removes the person from
any group not listed).
https://confluence.atlassian.com/enterprise/jit-user-provisioning-1005342579.html
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from idp.errors import InvalidRequestError

__all__ = [
    "ATLASSIAN_ACS_PATH",
    "ATLASSIAN_ATTRIBUTES",
    "PRESETS",
    "Preset",
    "normalise_base_url",
]

ATLASSIAN_ACS_PATH = "/plugins/servlet/samlconsumer"

ATLASSIAN_ATTRIBUTES: dict[str, str] = {
    "username": "username",
    "displayName": "display_name",
    "email": "email",
    "groups": "groups",
}
"""SAML Attribute Name → user property, as Atlassian SSO 2.0 mapping expressions read them."""


@dataclass(frozen=True, slots=True)
class Preset:
    """What a kind of application expects: where it consumes assertions and what it reads."""

    name: str
    label: str
    acs_path: str
    nameid_format: str
    attributes: tuple[tuple[str, str], ...]

    def entity_id(self, base_url: str) -> str:
        """The SP entity ID for an application at ``base_url``: the base URL itself."""
        return normalise_base_url(base_url)

    def acs_url(self, base_url: str) -> str:
        """The assertion consumer service URL under ``base_url`` (context path kept)."""
        return normalise_base_url(base_url) + self.acs_path


def _atlassian(name: str, label: str) -> Preset:
    return Preset(name=name, label=label, acs_path=ATLASSIAN_ACS_PATH,
                  nameid_format="unspecified", attributes=tuple(ATLASSIAN_ATTRIBUTES.items()))


PRESETS: dict[str, Preset] = {
    "jira": _atlassian("jira", "Jira Software Data Center"),
    "confluence": _atlassian("confluence", "Confluence Data Center"),
    "bitbucket": _atlassian("bitbucket", "Bitbucket Data Center"),
    "jsm": _atlassian("jsm", "Jira Service Management Data Center"),
    # Any other application that behaves like Atlassian SSO 2.0 (Bamboo, Crowd, ...); its
    # ACS URL and entity ID may be given explicitly when they differ.
    "generic": _atlassian("generic", "SAML application"),
}


def normalise_base_url(base_url: str) -> str:
    """The base URL without a trailing slash; refused unless absolute http(s) without query.

    The entity ID must be exactly what the application puts in its AuthnRequest Issuer,
    which for Atlassian is the base URL as configured, without a trailing slash.
    """
    url = base_url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InvalidRequestError(f"base URL {base_url!r}: expected an absolute http(s) URL")
    if parts.query or parts.fragment or "@" in parts.netloc:
        raise InvalidRequestError(
            f"base URL {base_url!r}: expected no user info, query or fragment"
        )
    return url.rstrip("/")
