"""SM2 with SM3 as the hub signs (hub/audit/sm2.py): every signature checked against the
standard's equations (GB/T 32918.2 verification, GM/T 0009 default user id) written out here
in plain integers, independent of the library; and a signature made before the switch from
gmssl still verifies, so key files and trust lists made then stay good."""
from __future__ import annotations

import os

import pytest

from hub.audit import sm2
from hub.audit.signing import PublicKey, Signer

P = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF
A = P - 3
B = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93
N = sm2.N
G = (0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7,
     0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0)


def add(p, q):
    if p is None:
        return q
    if q is None:
        return p
    if p[0] == q[0] and (p[1] + q[1]) % P == 0:
        return None
    if p == q:
        slope = (3 * p[0] * p[0] + A) * pow(2 * p[1], -1, P) % P
    else:
        slope = (q[1] - p[1]) * pow(q[0] - p[0], -1, P) % P
    x = (slope * slope - p[0] - q[0]) % P
    return x, (slope * (p[0] - x) - p[1]) % P


def mul(k, p):
    out = None
    while k:
        if k & 1:
            out = add(out, p)
        p, k = add(p, p), k >> 1
    return out


def sm3(data: bytes) -> bytes:
    from tongsuopy.crypto import hashes
    h = hashes.Hash(hashes.SM3())
    h.update(data)
    return h.finalize()


def standard_verifies(point, message: bytes, signature: bytes) -> bool:
    uid = b"1234567812345678"
    z = sm3(len(uid * 8).to_bytes(2, "big") + uid + b"".join(
        v.to_bytes(32, "big") for v in (A, B, G[0], G[1], point[0], point[1])))
    e = int.from_bytes(sm3(z + message), "big")
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    if not (1 <= r < N and 1 <= s < N) or (r + s) % N == 0:
        return False
    x1, _ = add(mul(s, G), mul((r + s) % N, point))
    return (e + x1) % N == r


def test_every_signature_meets_the_standard_and_verifies():
    # gmssl, before, failed about 3 in 1,000 of these: 300 keys make a regression visible
    for _ in range(300):
        private = sm2.generate()
        public = sm2.public_of(private)
        point = (int(public[:64], 16), int(public[64:], 16))
        assert mul(int(private, 16), G) == point
        message = os.urandom(48)
        signature = sm2.sign(private, message)
        assert standard_verifies(point, message, signature)
        assert sm2.verify(public, message, signature)
        assert not sm2.verify(public, message + b".", signature)


def test_a_signature_gmssl_made_still_verifies():
    public = ("6815904855d8bfbcf020f3c030c4bdd30ec18519d19fc0cf77eae72160fb13e6"
              "b03e8d7ddf9fd3472bbe6bb0becd4bb2abc4cb2aa9729b743840efb9fa0e9802")
    signature = bytes.fromhex("52efc7642a55f186c0246e66b8a940603549639f19bbdce3ebe686892e078e72"
                              "9353055ceac2f9835256cf5d3ce593e97ccd47b91ae21c4866cb6ae39dadad44")
    message = "通办 checkpoint".encode()
    assert sm2.verify(public, message, signature)
    assert not sm2.verify(public, "通办 checkpoinT".encode(), signature)


@pytest.mark.parametrize("public, signature", [
    ("00" * 64, b"\x01" * 64),            # not a point on the curve
    ("ab" * 63, b"\x01" * 64),            # too short a key
    (None, b"\x01" * 63),                 # too short a signature
])
def test_malformed_keys_and_signatures_do_not_verify(public, signature):
    public = public or sm2.public_of(sm2.generate())
    assert sm2.verify(public, b"m", signature) is False


def test_a_saved_sm2_key_signs_what_its_public_key_verifies(tmp_path):
    signer = Signer.generate("sm2")
    signer.save(tmp_path / "k.json")
    again = Signer.load(tmp_path / "k.json")
    sig = again.sign(b"head")
    assert PublicKey.from_json(signer.public.to_json()).verify(b"head", sig)
    assert again.key_id == signer.key_id
