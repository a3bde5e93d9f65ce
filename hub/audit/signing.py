"""Signing the logs' checkpoints: Ed25519 (cryptography) or SM2 with SM3 (hub/audit/sm2.py).

A key file holds one private key: Ed25519 as PKCS#8 PEM, SM2 as JSON
``{"algorithm": "sm2", "private": hex, "public": hex}``. The key id is the first 16 hex digits
of the SHA-256 of the public key, so a verifier holding several public keys (two during a
rotation) picks the right one. ``tongban log keygen`` writes a key file (mode 0600);
``tongban log export`` writes the public keys beside the checkpoints."""
from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from . import sm2

SIGNATURES = ("ed25519", "sm2")


def key_id(public: bytes) -> str:
    return hashlib.sha256(public).hexdigest()[:16]


@dataclass
class PublicKey:
    algorithm: str
    public: bytes          # raw Ed25519 key, or the SM2 point as hex bytes

    @property
    def key_id(self) -> str:
        return key_id(self.public)

    def verify(self, data: bytes, signature: str) -> bool:
        try:
            sig = base64.b64decode(signature, validate=True)
        except (ValueError, TypeError):
            return False
        if self.algorithm == "ed25519":
            from cryptography.exceptions import InvalidSignature
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
            try:
                Ed25519PublicKey.from_public_bytes(self.public).verify(sig, data)
                return True
            except InvalidSignature:
                return False
        if self.algorithm == "sm2":
            return sm2.verify(self.public.decode("ascii", "replace"), data, sig)
        return False

    def to_json(self) -> dict:
        return {"algorithm": self.algorithm, "key_id": self.key_id,
                "public": base64.b64encode(self.public).decode()}

    @classmethod
    def from_json(cls, doc: dict) -> "PublicKey":
        return cls(doc["algorithm"], base64.b64decode(doc["public"]))


class Signer:
    def __init__(self, algorithm: str, private, public: PublicKey):
        self.algorithm, self._private, self.public = algorithm, private, public

    @property
    def key_id(self) -> str:
        return self.public.key_id

    def sign(self, data: bytes) -> str:
        if self.algorithm == "ed25519":
            return base64.b64encode(self._private.sign(data)).decode()
        return base64.b64encode(sm2.sign(self._private, data)).decode()

    @classmethod
    def generate(cls, algorithm: str = "ed25519") -> "Signer":
        if algorithm == "ed25519":
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
            from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
            k = Ed25519PrivateKey.generate()
            return cls("ed25519", k, PublicKey("ed25519", k.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)))
        if algorithm == "sm2":
            private = sm2.generate()
            return cls("sm2", private, PublicKey("sm2", sm2.public_of(private).encode()))
        raise ValueError(f"unknown signature {algorithm!r} (one of {', '.join(SIGNATURES)})")

    def save(self, path: str | Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        if self.algorithm == "ed25519":
            from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
            data = self._private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        else:
            data = json.dumps({"algorithm": "sm2", "private": self._private,
                               "public": self.public.public.decode()}).encode()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)   # never over a key in use
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)

    @classmethod
    def load(cls, path: str | Path) -> "Signer":
        data = Path(path).read_bytes()
        if data.lstrip().startswith(b"{"):
            doc = json.loads(data)
            return cls("sm2", doc["private"], PublicKey("sm2", doc["public"].encode()))
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_private_key
        k = load_pem_private_key(data, password=None)
        if not isinstance(k, Ed25519PrivateKey):
            raise ValueError(f"{path}: not an Ed25519 key nor an SM2 key file")
        return cls("ed25519", k, PublicKey("ed25519", k.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)))


def load_or_create(path: str | Path, algorithm: str = "ed25519") -> Signer:
    """The hub's checkpoint key: made on first use if the file is not there."""
    path = Path(path)
    if not path.exists():
        try:
            Signer.generate(algorithm).save(path)
        except FileExistsError:   # another process made it first
            pass
    return Signer.load(path)
