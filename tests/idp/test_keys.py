"""Signing keys: made on first use, encrypted at rest, loaded once, refused with a wrong key."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from cryptography import x509

from idp.directory import create_realm
from idp.errors import ConfigurationError
from idp.keys import KeyRing, load_secret_key
from idp.models import SigningKey


def test_secret_key_file_is_created_private(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "secret.key"
    first = load_secret_key(str(path))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_secret_key(str(path)) == first


def test_garbled_secret_key_names_the_setting(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    path.write_text("not a key")
    with pytest.raises(ConfigurationError, match="PORTCULLIS_SECRET_KEY_FILE"):
        load_secret_key(str(path))


async def test_active_key_is_created_once_and_stored_encrypted(db: None, tmp_path: Path) -> None:
    realm = await create_realm("acme")
    ring = KeyRing(load_secret_key(str(tmp_path / "secret.key")))
    key = await ring.active_key(realm)
    assert await ring.active_key(realm) is key
    record = await SigningKey.get(realm=realm)
    assert b"PRIVATE KEY" not in record.private_key_encrypted
    certificate = x509.load_pem_x509_certificate(record.certificate_pem.encode())
    public_key = key.private_key.public_key()
    assert certificate.public_key().public_numbers() == public_key.public_numbers()


async def test_key_survives_a_restart(db: None, tmp_path: Path) -> None:
    realm = await create_realm("acme")
    secret = load_secret_key(str(tmp_path / "secret.key"))
    first = await KeyRing(secret).active_key(realm)
    second = await KeyRing(secret).active_key(realm)
    assert second.kid == first.kid and second.private_key_pem == first.private_key_pem


async def test_wrong_secret_key_cannot_decrypt(db: None, tmp_path: Path) -> None:
    realm = await create_realm("acme")
    await KeyRing(load_secret_key(str(tmp_path / "a.key"))).active_key(realm)
    with pytest.raises(ConfigurationError, match="cannot be decrypted"):
        await KeyRing(load_secret_key(str(tmp_path / "b.key"))).active_key(realm)


def test_derived_keys_differ_by_purpose(tmp_path: Path) -> None:
    ring = KeyRing(load_secret_key(str(tmp_path / "secret.key")))
    assert ring.derive_key("csrf") != ring.derive_key("fake-credentials")
    assert len(ring.derive_key("csrf")) == 32
