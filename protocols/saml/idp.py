"""The SAML identity provider of a realm: a pysaml2 ``Server`` built once and kept.

The ``Server`` depends only on the realm's entity ID, its endpoints and its active signing
key, so it is built the first time a realm answers a request and rebuilt only when the key
changes. Building it (and parsing the key for libxmlsec) happens in a worker thread. The
registered SPs are not loaded into pysaml2's metadata store: every trust decision (ACS URL,
signing certificates) is taken from the ``saml_service_provider`` rows by this package.

pysaml2's IdP remembers every assertion it issues (``session_db``) so that it can answer
AssertionIDRequest and AuthnQuery; Portcullis offers neither, so :class:`PortcullisServer`
switches that off and memory stays flat however many people sign in.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, saml
from saml2.attribute_converter import AttributeConverter
from saml2.s_utils import do_ava, factory
from saml2.saml import NAME_FORMAT_UNSPECIFIED
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS
from saml2.saml import NAMEID_FORMAT_PERSISTENT
from saml2.saml import NAMEID_FORMAT_UNSPECIFIED
from saml2.server import Server

from idp.keys import KeyRing, SigningKeyPair
from idp.models import Realm
from protocols.saml.crypto import XmlSecBackend, install_backend, load_config
from protocols.saml.metadata import descriptor_xml

__all__ = [
    "ExactNames",
    "IdentityProvider",
    "IdentityProviders",
    "PortcullisServer",
    "build_identity_provider",
    "endpoints_of",
]

ACCEPTED_CLOCK_SKEW = 120  # seconds either way, for times in inbound messages


class PortcullisServer(Server):
    """pysaml2's ``Server`` that keeps nothing per response.

    Neither AssertionIDRequest nor AuthnQuery (SAML Core §3.3) is offered, so no issued
    assertion needs to be kept; no SP metadata is loaded, so no encryption certificate is
    ever found there (assertions are not encrypted: SAML Core §6 is not implemented).
    """

    def support_AssertionIDRequest(self) -> bool:  # noqa: N802 - pysaml2's name
        return False

    def support_AuthnQuery(self) -> bool:  # noqa: N802 - pysaml2's name
        return False

    def has_encrypt_cert_in_metadata(self, sp_entity_id: str | None) -> bool:
        return False


class ExactNames(AttributeConverter):
    """Sends each attribute under exactly the Name registered, NameFormat unspecified.

    pysaml2's default maps rename attributes (``mail`` goes out as
    ``urn:oid:0.9.2342.19200300.100.1.3``) and its no-op converter lower-cases them; an SP
    such as Atlassian reads attributes by the exact Name it was configured with.
    Multi-valued attributes become one Attribute with several AttributeValues (SAML Core
    §2.7.3.1); an empty list, an Attribute with none.
    """

    def __init__(self) -> None:
        super().__init__(NAME_FORMAT_UNSPECIFIED)

    def to_(self, attrvals: dict[str, list[str]]) -> list[saml.Attribute]:
        return [
            factory(saml.Attribute, name=name, name_format=self.name_format,
                    attribute_value=do_ava(list(values)) or [])
            for name, values in attrvals.items()
        ]


@dataclass(frozen=True, slots=True)
class IdentityProvider:
    """A realm's IdP, ready to sign: safe to use from several worker threads at once."""

    realm: str
    entity_id: str
    sso_url: str
    key: SigningKeyPair
    server: PortcullisServer
    metadata_xml: str


def endpoints_of(base_url: str, realm: str) -> tuple[str, str]:
    """The entity ID ``<base>/realms/{realm}`` and the SSO/SLO URL under it."""
    entity_id = f"{base_url}/realms/{realm}"
    return entity_id, f"{entity_id}/protocol/saml"


def build_identity_provider(*, base_url: str, realm: str, key: SigningKeyPair
                            ) -> IdentityProvider:
    """Build the pysaml2 ``Server`` of a realm; CPU work, run it in a worker thread."""
    entity_id, sso_url = endpoints_of(base_url, realm)
    both = [(sso_url, BINDING_HTTP_REDIRECT), (sso_url, BINDING_HTTP_POST)]
    settings = {
        "entityid": entity_id,
        "accepted_time_diff": ACCEPTED_CLOCK_SKEW,
        "service": {"idp": {
            "endpoints": {"single_sign_on_service": both, "single_logout_service": both},
            "want_authn_requests_signed": False,
            "name_id_format": [NAMEID_FORMAT_UNSPECIFIED, NAMEID_FORMAT_EMAILADDRESS,
                               NAMEID_FORMAT_PERSISTENT],
        }},
    }
    config = load_config(settings, entity_type="idp")
    config.attribute_converters = [ExactNames()]
    backend = XmlSecBackend(key_pem=key.private_key_pem, cert_pem=key.certificate_pem)
    server = install_backend(PortcullisServer(config=config), backend)
    return IdentityProvider(
        realm=realm, entity_id=entity_id, sso_url=sso_url, key=key, server=server,
        metadata_xml=descriptor_xml(config, certificate_base64=key.certificate_base64),
    )


class IdentityProviders:
    """Each realm's :class:`IdentityProvider`, rebuilt only when its signing key changes."""

    def __init__(self, *, base_url: str, keys: KeyRing) -> None:
        self._base_url = base_url
        self._keys = keys
        self._built: dict[int, IdentityProvider] = {}
        self._lock = asyncio.Lock()

    async def get(self, realm: Realm) -> IdentityProvider:
        """The realm's IdP, building it (off the event loop) on first use."""
        key = await self._keys.active_key(realm)
        built = self._built.get(realm.id)
        if built is not None and built.key.kid == key.kid:
            return built
        async with self._lock:
            built = self._built.get(realm.id)
            if built is None or built.key.kid != key.kid:
                built = await asyncio.to_thread(
                    build_identity_provider, base_url=self._base_url, realm=realm.name, key=key
                )
                self._built[realm.id] = built
        return built
