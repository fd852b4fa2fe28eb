"""A software WebAuthn authenticator, with the browser around it, for tests.

It stands in for Touch ID or a security key: it reads the options JSON the server sends and
answers with what ``credential.toJSON()`` returns in a browser, so flow tests can drive the
real endpoints and py_webauthn verifies real signatures.

The hostile knobs (a wrong ``origin``, ``rp_id_override``, ``flags_override``,
``sign_count_override``, :meth:`SoftAuthenticator.clone`) forge what an honest browser and
authenticator never send. For the same reason the client's own checks are skipped on purpose:
it does not refuse an RP ID that is not a suffix of the origin's host (WebAuthn Level 3
§5.1.3, SecurityError), nor a ``userVerification: required`` it cannot meet (ConstraintError);
the flags say what was done and the server has to notice.

Known shortcoming: no attestation certificate (``packed`` is self attestation only, §8.2), no
backup flags BE/BS unless forged with ``flags_override`` (§6.1), and of the extensions only
credProps is answered (§10.1.3): none of these is needed by a passkey-only server yet.

https://www.w3.org/TR/webauthn-3/#sctn-authenticator-model
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import secrets
from typing import Any, Literal
from urllib.parse import urlsplit

import cbor2
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

__all__ = [
    "Algorithm",
    "Attestation",
    "AuthenticatorError",
    "FLAG_AT",
    "FLAG_UP",
    "FLAG_UV",
    "InvalidStateError",
    "NotAllowedError",
    "NotSupportedError",
    "SignCountMode",
    "SoftAuthenticator",
    "StoredCredential",
]

Algorithm = Literal["ES256", "EdDSA", "RS256"]
SignCountMode = Literal["increment", "zero"]
Attestation = Literal["none", "packed"]
PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey

# COSE algorithm identifiers, https://www.iana.org/assignments/cose/cose.xhtml#algorithms
_COSE_ALG: dict[str, int] = {"ES256": -7, "EdDSA": -8, "RS256": -257}
# §5.1.3: an empty pubKeyCredParams means ES256 and RS256.
_DEFAULT_ALGS = (-7, -257)

# Authenticator data flags, https://www.w3.org/TR/webauthn-3/#authdata-flags
FLAG_UP = 0x01
FLAG_UV = 0x04
FLAG_AT = 0x40


class AuthenticatorError(Exception):
    """Base of the errors a browser would raise as a DOMException of the same name."""


class InvalidStateError(AuthenticatorError):
    """A credential listed in excludeCredentials is already on this authenticator (§6.3.2)."""


class NotAllowedError(AuthenticatorError):
    """No credential on this authenticator may answer the request (§6.3.3)."""


class NotSupportedError(AuthenticatorError):
    """None of the requested pubKeyCredParams is this authenticator's algorithm (§6.3.2)."""


@dataclasses.dataclass(frozen=True)
class StoredCredential:
    """A public key credential source as the authenticator keeps it (§6.4)."""

    credential_id: bytes
    private_key: PrivateKey = dataclasses.field(repr=False)
    rp_id: str
    user_handle: bytes
    sign_count: int
    discoverable: bool


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _load_options(options: dict[str, Any] | str) -> dict[str, Any]:
    """Accept the server's JSON as text or dict, bare or wrapped in ``{"publicKey": ...}``."""
    loaded: dict[str, Any] = json.loads(options) if isinstance(options, str) else options
    unwrapped: dict[str, Any] = loaded.get("publicKey", loaded)
    return unwrapped


def _generate_key(algorithm: Algorithm) -> PrivateKey:
    if algorithm == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _sign(key: PrivateKey, data: bytes) -> bytes:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, ec.ECDSA(hashes.SHA256()))
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    return key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def _cose_public_key(key: PrivateKey) -> bytes:
    """Encode the credential public key as a COSE_Key in CTAP2 canonical CBOR.

    https://www.w3.org/TR/webauthn-3/#sctn-encoded-credPubKey-examples
    """
    if isinstance(key, ec.EllipticCurvePrivateKey):
        point = key.public_key().public_numbers()
        x, y = point.x.to_bytes(32, "big"), point.y.to_bytes(32, "big")
        return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: x, -3: y}, canonical=True)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        raw = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return cbor2.dumps({1: 1, 3: -8, -1: 6, -2: raw}, canonical=True)
    numbers = key.public_key().public_numbers()
    n = numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")
    e = numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")
    return cbor2.dumps({1: 3, 3: -257, -1: n, -2: e}, canonical=True)


def _client_data_json(kind: str, challenge: str, origin: str) -> bytes:
    """Serialise client data the way browsers do, so byte-exact checks also pass.

    https://www.w3.org/TR/webauthn-3/#clientdatajson-serialization
    """
    collected = {
        "type": kind,
        "challenge": _b64url(_unb64url(challenge)),
        "origin": origin,
        "crossOrigin": False,
    }
    return json.dumps(collected, separators=(",", ":")).encode("utf-8")


def _authenticator_data(*, rp_id: str, flags: int, sign_count: int) -> bytes:
    """rpIdHash, flags and signCount: https://www.w3.org/TR/webauthn-3/#sctn-authenticator-data"""
    rp_id_hash = hashlib.sha256(rp_id.encode("utf-8")).digest()
    return rp_id_hash + bytes([flags]) + sign_count.to_bytes(4, "big")


class SoftAuthenticator:
    """One authenticator holding credentials for any number of relying parties and users."""

    def __init__(
        self,
        *,
        algorithm: Algorithm = "ES256",
        user_verification: bool = True,
        user_present: bool = True,
        sign_count_mode: SignCountMode = "increment",
        aaguid: bytes = bytes(16),
    ) -> None:
        if algorithm not in _COSE_ALG:
            raise ValueError(f"algorithm {algorithm!r}, expected one of {sorted(_COSE_ALG)}")
        if sign_count_mode not in ("increment", "zero"):
            raise ValueError(f"sign_count_mode {sign_count_mode!r}, expected increment or zero")
        if len(aaguid) != 16:
            raise ValueError(f"aaguid of {len(aaguid)} bytes, expected 16")
        self.algorithm: Algorithm = algorithm
        self.user_verification = user_verification
        self.user_present = user_present
        self.sign_count_mode: SignCountMode = sign_count_mode
        self.aaguid = aaguid
        self._credentials: dict[bytes, StoredCredential] = {}

    @property
    def credentials(self) -> tuple[StoredCredential, ...]:
        """The credentials held, oldest first."""
        return tuple(self._credentials.values())

    def clone(self) -> SoftAuthenticator:
        """Copy keys and counters into a second device, as a cloned security key would be.

        Each copy then counts on its own, so the server sees a counter that fails to grow
        (https://www.w3.org/TR/webauthn-3/#sctn-sign-counter).
        """
        twin = SoftAuthenticator(
            algorithm=self.algorithm,
            user_verification=self.user_verification,
            user_present=self.user_present,
            sign_count_mode=self.sign_count_mode,
            aaguid=self.aaguid,
        )
        twin._credentials = dict(self._credentials)
        return twin

    def create(
        self,
        options: dict[str, Any] | str,
        *,
        origin: str,
        attestation: Attestation = "none",
        rp_id_override: str | None = None,
        flags_override: int | None = None,
        sign_count_override: int | None = None,
    ) -> dict[str, Any]:
        """Run navigator.credentials.create() and return the RegistrationResponseJSON.

        https://www.w3.org/TR/webauthn-3/#sctn-op-make-cred
        """
        if attestation not in ("none", "packed"):
            raise ValueError(f"attestation {attestation!r}, expected none or packed")
        opts = _load_options(options)
        rp_id: str = opts["rp"].get("id") or urlsplit(origin).hostname or ""
        alg = self._choose_algorithm(opts.get("pubKeyCredParams") or [])

        for descriptor in opts.get("excludeCredentials") or []:
            held = self._credentials.get(_unb64url(descriptor["id"]))
            if held is not None and held.rp_id == rp_id:
                raise InvalidStateError("a credential in excludeCredentials is already held")

        selection = opts.get("authenticatorSelection") or {}
        resident = selection.get("residentKey")
        if resident is None:
            resident = "required" if selection.get("requireResidentKey") else "discouraged"
        user_handle = _unb64url(opts["user"]["id"])
        discoverable = resident != "discouraged"
        if discoverable:
            # §6.3.2: a new discoverable credential replaces the user's old one for the RP.
            self._credentials = {
                cid: held
                for cid, held in self._credentials.items()
                if not held.discoverable or (held.rp_id, held.user_handle) != (rp_id, user_handle)
            }

        key = _generate_key(self.algorithm)
        credential_id = secrets.token_bytes(32)
        self._credentials[credential_id] = StoredCredential(
            credential_id=credential_id,
            private_key=key,
            rp_id=rp_id,
            user_handle=user_handle,
            sign_count=0,
            discoverable=discoverable,
        )

        # §6.5.1: aaguid, credentialIdLength, credentialId, credentialPublicKey.
        attested = (
            self.aaguid
            + len(credential_id).to_bytes(2, "big")
            + credential_id
            + _cose_public_key(key)
        )
        auth_data = _authenticator_data(
            rp_id=rp_id_override or rp_id,
            flags=self._flags(FLAG_AT) if flags_override is None else flags_override,
            sign_count=0 if sign_count_override is None else sign_count_override,
        ) + attested
        client_data = _client_data_json("webauthn.create", opts["challenge"], origin)

        att_stmt: dict[str, Any] = {}
        if attestation == "packed":
            # §8.2 self attestation: no x5c, signed with the credential private key.
            signed = auth_data + hashlib.sha256(client_data).digest()
            att_stmt = {"alg": alg, "sig": _sign(key, signed)}
        attestation_object = cbor2.dumps(
            {"fmt": attestation, "attStmt": att_stmt, "authData": auth_data}, canonical=True
        )

        public_key_der = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return {
            "id": _b64url(credential_id),
            "rawId": _b64url(credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": _b64url(client_data),
                "attestationObject": _b64url(attestation_object),
                "authenticatorData": _b64url(auth_data),
                "transports": ["internal"],
                "publicKey": _b64url(public_key_der),
                "publicKeyAlgorithm": alg,
            },
            "authenticatorAttachment": "platform",
            "clientExtensionResults": self._extension_results(opts, discoverable),
        }

    def get(
        self,
        options: dict[str, Any] | str,
        *,
        origin: str,
        user_handle: bytes | None = None,
        rp_id_override: str | None = None,
        flags_override: int | None = None,
        sign_count_override: int | None = None,
    ) -> dict[str, Any]:
        """Run navigator.credentials.get() and return the AuthenticationResponseJSON.

        With an empty allowCredentials the newest discoverable credential for the RP ID
        answers, or the one of ``user_handle``, as a person picking an account would choose.
        A ``sign_count_override`` is reported as is and leaves the stored counter alone.

        https://www.w3.org/TR/webauthn-3/#sctn-op-get-assertion
        """
        opts = _load_options(options)
        rp_id: str = opts.get("rpId") or urlsplit(origin).hostname or ""
        allowed = [_unb64url(d["id"]) for d in opts.get("allowCredentials") or []]
        credential = self._find_credential(rp_id, allowed, user_handle)

        sign_count = sign_count_override
        if sign_count is None:
            sign_count = self._count_use(credential)
        auth_data = _authenticator_data(
            rp_id=rp_id_override or rp_id,
            flags=self._flags(0) if flags_override is None else flags_override,
            sign_count=sign_count,
        )
        client_data = _client_data_json("webauthn.get", opts["challenge"], origin)
        signature = _sign(credential.private_key, auth_data + hashlib.sha256(client_data).digest())

        response = {
            "clientDataJSON": _b64url(client_data),
            "authenticatorData": _b64url(auth_data),
            "signature": _b64url(signature),
        }
        if credential.discoverable:
            response["userHandle"] = _b64url(credential.user_handle)
        return {
            "id": _b64url(credential.credential_id),
            "rawId": _b64url(credential.credential_id),
            "type": "public-key",
            "response": response,
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
        }

    def _choose_algorithm(self, params: list[dict[str, Any]]) -> int:
        """Take our algorithm if the RP offers it (§6.3.2), else refuse."""
        offered = [p["alg"] for p in params if p.get("type") == "public-key"]
        if not params:
            offered = list(_DEFAULT_ALGS)
        wanted = _COSE_ALG[self.algorithm]
        if wanted not in offered:
            raise NotSupportedError(f"pubKeyCredParams offer algs {offered}, ours is {wanted}")
        return wanted

    def _find_credential(
        self, rp_id: str, allowed: list[bytes], user_handle: bytes | None
    ) -> StoredCredential:
        """Pick the credential source as §6.3.3 does, or refuse with NotAllowedError."""
        if allowed:
            for credential_id in allowed:
                held = self._credentials.get(credential_id)
                if held is not None and held.rp_id == rp_id:
                    return held
            raise NotAllowedError("no credential in allowCredentials is held for this RP ID")

        for held in reversed(self._credentials.values()):
            if not held.discoverable or held.rp_id != rp_id:
                continue
            if user_handle is None or held.user_handle == user_handle:
                return held
        raise NotAllowedError("no discoverable credential is held for this RP ID")

    def _count_use(self, credential: StoredCredential) -> int:
        """Advance the signature counter (§6.1.1); in zero mode it stays 0 for good."""
        if self.sign_count_mode == "zero":
            return 0
        used = dataclasses.replace(credential, sign_count=credential.sign_count + 1)
        self._credentials[credential.credential_id] = used
        return used.sign_count

    def _flags(self, extra: int) -> int:
        flags = extra
        if self.user_present:
            flags |= FLAG_UP
        if self.user_verification:
            flags |= FLAG_UV
        return flags

    @staticmethod
    def _extension_results(opts: dict[str, Any], discoverable: bool) -> dict[str, Any]:
        """Answer credProps if asked, as browsers do (§10.1.3); other extensions are ignored."""
        if (opts.get("extensions") or {}).get("credProps"):
            return {"credProps": {"rk": discoverable}}
        return {}
