"""Who the assertion is about: the NameID and the attributes released to one SP.

The person's properties are read once per response (:func:`load_principal`); the NameID and
the attribute values are then pure functions of the principal and the SP's registration.
Attribute values are never logged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

from idp.directory import group_names
from idp.models import User
from protocols.saml.errors import UnknownPrincipalError
from protocols.saml.registration import ServiceProviderConfig

__all__ = ["NameIdValue", "Principal", "load_principal", "name_id_for", "release_attributes"]


@dataclass(frozen=True, slots=True)
class Principal:
    """The signed-in person's properties an SP may receive."""

    user_id: int
    username: str
    email: str | None
    display_name: str
    groups: tuple[str, ...]
    user_handle: bytes


@dataclass(frozen=True, slots=True)
class NameIdValue:
    """A NameID: its short format name (``unspecified``, ``email``, ``persistent``) and value."""

    format: str
    value: str


async def load_principal(user_id: int) -> Principal:
    """Read the person and their groups (two queries); an unknown or disabled user is refused."""
    user = await User.get_or_none(id=user_id, enabled=True)
    if user is None:
        raise UnknownPrincipalError(f"user {user_id} does not exist or is disabled")
    return Principal(
        user_id=user.id, username=user.username, email=user.email,
        display_name=user.display_name or user.username,
        groups=tuple(await group_names(user)), user_handle=bytes(user.user_handle),
    )


def name_id_for(principal: Principal, sp: ServiceProviderConfig, *, format: str,
                persistent_key: bytes) -> NameIdValue:
    """The NameID for ``sp`` in ``format`` (SAML Core §8.3).

    ``unspecified`` is the username, as Atlassian's default username mapping ``${NameID}``
    expects. ``persistent`` is an opaque pseudonym, the same for a person at one SP every
    time and different at every other SP (SAML Core §8.3.7): an HMAC of the person's random
    WebAuthn user handle and the SP's entity ID under a key derived from the secret key.
    Rotating the secret key therefore changes every persistent identifier.
    """
    if format == "email":
        if not principal.email:
            raise UnknownPrincipalError(
                f"{sp.entity_id} needs an email NameID; user {principal.user_id} has no email"
            )
        return NameIdValue("email", principal.email)
    if format == "persistent":
        message = principal.user_handle + b"\x00" + sp.entity_id.encode("utf-8")
        digest = hmac.new(persistent_key, message, hashlib.sha256).digest()
        return NameIdValue("persistent", base64.urlsafe_b64encode(digest).decode().rstrip("="))
    return NameIdValue("unspecified", principal.username)


def release_attributes(principal: Principal, sp: ServiceProviderConfig) -> dict[str, list[str]]:
    """The attributes for ``sp``: each configured Name once, with its values.

    A missing email gives an Attribute with no value rather than no Attribute: every
    configured Name is always present, so an SP such as Atlassian's JIT provisioning sees
    "no groups" as an empty ``groups`` rather than as a missing attribute.
    """
    released: dict[str, list[str]] = {}
    for name, prop in sp.attribute_mapping:
        if prop == "groups":
            released[name] = list(principal.groups)
        elif prop == "email":
            released[name] = [principal.email] if principal.email else []
        elif prop == "display_name":
            released[name] = [principal.display_name]
        else:
            released[name] = [principal.username]
    return released
