"""The secret key and the realms' signing keys.

The secret key (a Fernet key in ``secret_key_file``, generated on first start) encrypts every
private key at rest. Signing keys are RSA-2048 with a self-signed certificate, as SAML metadata
and JWKS publish them. Loading a private key costs tens of milliseconds, so a :class:`KeyRing`
loads each realm's key once and keeps it; key generation and loading run in a worker thread.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from idp.errors import ConfigurationError
from idp.models import Realm, SigningKey

__all__ = ["KeyRing", "SigningKeyPair", "load_secret_key"]

log = logging.getLogger(__name__)

CERTIFICATE_YEARS = 10


def load_secret_key(path: str) -> bytes:
    """Read the secret key from ``path``, creating it (mode 0600) if it does not exist."""
    file = Path(path)
    if not file.exists():
        file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(Fernet.generate_key())
        log.info("secret_key.created", extra={"path": str(file)})
    try:
        secret = file.read_bytes().strip()
        Fernet(secret)
        return secret
    except (OSError, ValueError) as exc:
        raise ConfigurationError(
            f"PORTCULLIS_SECRET_KEY_FILE: {path} must hold a Fernet key (32 url-safe base64 "
            f"bytes): {exc.__class__.__name__}"
        ) from exc


@dataclass(frozen=True, slots=True)
class SigningKeyPair:
    """A loaded signing key: the private key object, its PEM forms and its certificate."""

    kid: str
    algorithm: str
    private_key: rsa.RSAPrivateKey
    private_key_pem: bytes
    certificate_pem: str

    @property
    def certificate_base64(self) -> str:
        """The certificate's DER in base64, as ``ds:X509Certificate`` carries it."""
        lines = self.certificate_pem.strip().splitlines()
        return "".join(line for line in lines if not line.startswith("-----"))


class KeyRing:
    """Each realm's active signing key, created on first use and then kept in memory."""

    def __init__(self, secret: bytes) -> None:
        self._fernet = Fernet(secret)
        self._secret = secret
        self._active: dict[int, SigningKeyPair] = {}
        self._lock = asyncio.Lock()

    async def active_key(self, realm: Realm) -> SigningKeyPair:
        """The realm's active signing key; generated and stored if the realm has none."""
        cached = self._active.get(realm.id)
        if cached is not None:
            return cached
        async with self._lock:
            if realm.id not in self._active:
                self._active[realm.id] = await self._load_or_create(realm)
        return self._active[realm.id]

    def derive_key(self, purpose: str) -> bytes:
        """A 32-byte key for one purpose (CSRF tokens, cookies), derived from the secret key."""
        return hmac.new(self._secret, b"portcullis:" + purpose.encode(), hashlib.sha256).digest()

    def forget(self, realm_id: int) -> None:
        """Drop a realm's cached key, after a rotation."""
        self._active.pop(realm_id, None)

    async def _load_or_create(self, realm: Realm) -> SigningKeyPair:
        record = await SigningKey.filter(realm=realm, active=True).order_by("-id").first()
        if record is None:
            pair = await asyncio.to_thread(_generate, realm.name)
            encrypted = self._fernet.encrypt(pair.private_key_pem)
            await SigningKey.create(
                realm=realm, kid=pair.kid, algorithm=pair.algorithm,
                private_key_encrypted=encrypted, certificate_pem=pair.certificate_pem,
            )
            log.info("signing_key.created", extra={"realm": realm.name, "kid": pair.kid})
            return pair
        try:
            pem = self._fernet.decrypt(record.private_key_encrypted)
        except InvalidToken as exc:
            raise ConfigurationError(
                f"PORTCULLIS_SECRET_KEY_FILE: signing key {record.kid} of realm {realm.name} "
                "cannot be decrypted with this secret key"
            ) from exc
        return await asyncio.to_thread(_load, record.kid, record.algorithm, pem,
                                       record.certificate_pem)


def _generate(realm_name: str) -> SigningKeyPair:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"portcullis {realm_name}")])
    now = dt.datetime.now(dt.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365 * CERTIFICATE_YEARS))
        .sign(key, hashes.SHA256())
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    certificate_pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
    return SigningKeyPair(secrets.token_urlsafe(16), "RS256", key, pem, certificate_pem)


def _load(kid: str, algorithm: str, pem: bytes, certificate_pem: str) -> SigningKeyPair:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigurationError(f"signing key {kid}: expected an RSA key")
    return SigningKeyPair(kid, algorithm, key, pem, certificate_pem)
