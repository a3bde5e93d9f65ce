"""SM2 signatures with SM3 (GB/T 32918, GM/T 0009 default user id), through Tongsuo.

Keys and signatures keep the form gmssl gave them, so key files, trust lists and signatures
made before stay valid: the private key as 64 hex digits, the public key as the uncompressed
point x||y in 128 hex digits, the signature as r||s in 64 bytes.

Why Tongsuo (tongsuopy, the OpenAtom foundation's OpenSSL fork with its ``cryptography``-shaped
binding) and not gmssl: gmssl's point multiplication fails for some scalars, so about 3 in
1,000 valid signatures did not verify (and some of its signatures were refused by a correct
verifier); Tongsuo's is OpenSSL's constant-time code and ~25 times faster. The test checks its
signatures against the standard's equations written out independently."""
from __future__ import annotations

import secrets

from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from tongsuopy.crypto import hashes
from tongsuopy.crypto.asymciphers import ec

# the curve's order n (GB/T 32918.5): a private key is in [1, n-2]
N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123


def _scheme():
    # Tongsuo signs an SM2 key with SM3 over Z||M, Z from the default user id 1234567812345678
    return ec.ECDSA(hashes.SM3())


def generate() -> str:
    return "%064x" % (secrets.randbelow(N - 2) + 1)


def public_of(private: str) -> str:
    n = ec.derive_private_key(int(private, 16), ec.SM2()).public_key().public_numbers()
    return "%064x%064x" % (n.x, n.y)


def sign(private: str, data: bytes) -> bytes:
    der = ec.derive_private_key(int(private, 16), ec.SM2()).sign(data, _scheme())
    r, s = decode_dss_signature(der)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def verify(public: str, data: bytes, signature: bytes) -> bool:
    """False for a signature that does not verify and for a malformed key or signature."""
    if len(signature) != 64 or len(public) != 128:
        return False
    try:
        key = ec.EllipticCurvePublicNumbers(int(public[:64], 16), int(public[64:], 16), ec.SM2()).public_key()
        der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
        key.verify(der, data, _scheme())
        return True
    except Exception:   # InvalidSignature, or a point not on the curve (ValueError): it does not verify
        return False
