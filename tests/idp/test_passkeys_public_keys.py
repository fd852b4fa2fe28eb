"""Credential public keys must load as keys: COSE_Key structure and the point's curve."""

from __future__ import annotations

import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from idp.errors import PasskeyError
from idp.passkeys.public_keys import load_credential_public_key


def _ec2(x: bytes, y: bytes) -> bytes:
    return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: x, -3: y})


def test_loads_a_p256_key() -> None:
    numbers = ec.generate_private_key(ec.SECP256R1()).public_key().public_numbers()

    key = load_credential_public_key(_ec2(numbers.x.to_bytes(32, "big"),
                                          numbers.y.to_bytes(32, "big")))

    assert key.public_numbers() == numbers


@pytest.mark.parametrize("cose_key", [
    cbor2.dumps({3: -7}), cbor2.dumps({1: 2, 3: -7}), cbor2.dumps(5), b"",
    _ec2(b"\x01" * 32, b"\x02" * 32), cbor2.dumps({1: 2, 3: 10**40, -1: 1}),
], ids=["no-kty", "ec2-without-coordinates", "not-a-map", "empty", "off-curve", "huge-alg"])
def test_refuses_a_key_that_does_not_load(cose_key: bytes) -> None:
    with pytest.raises(PasskeyError):
        load_credential_public_key(cose_key)
