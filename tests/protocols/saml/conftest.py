"""Fixtures of the SAML unit tests: a realm's identity provider without a database."""

from __future__ import annotations

import pytest

from idp.keys import SigningKeyPair, _generate
from protocols.saml.idp import IdentityProvider, build_identity_provider


@pytest.fixture(scope="session")
def signing_key() -> SigningKeyPair:
    """One RSA-2048 key pair for the session: generating one takes a while."""
    return _generate("master")


@pytest.fixture
def identity_provider(signing_key: SigningKeyPair) -> IdentityProvider:
    """The master realm's IdP at the tests' base URL."""
    return build_identity_provider(base_url="http://localhost:8080", realm="master",
                                   key=signing_key)
