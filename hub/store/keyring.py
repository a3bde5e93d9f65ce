"""Encryption of stored payloads (issue 13, personal data at rest): a key ring and the sealed form.

A sealed value is text, so it fits the columns the payloads already live in:

    enc:v1:<key id>:<nonce, base64>:<ciphertext and tag, base64>

AES-256-GCM or SM4-GCM (GB/T 32907, through OpenSSL as ``cryptography`` exposes it), an
authenticated cipher either way: a changed byte fails to open instead of decrypting to
garbage. The column's name is the associated data, so a sealed dead-letter payload copied
into another column does not open there.

The key id in front is what makes rotation work: new writes use the ring's current key,
rows sealed with an older one still open while that key stays listed, and
``tongban store rekey`` re-seals them with the current one (hub/store/rekey.py). A value
without the prefix is plain text (rows from before encryption was turned on) and is read
as it is."""
from __future__ import annotations

import base64
import os
import re
from dataclasses import dataclass

PREFIX = "enc:v1:"
ALGORITHMS = {"aes-gcm": 32, "sm4-gcm": 16}     # key length in bytes
KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
NONCE = 12


class PayloadKeyError(ValueError):
    """A sealed payload that cannot be opened: its key is not in the ring, or the key or the
    value is wrong. The message names the key id and the column, never the content."""

    def __init__(self, message: str, key_id: str | None = None):
        super().__init__(message)
        self.key_id = key_id


@dataclass(frozen=True)
class Key:
    key_id: str
    algorithm: str
    secret: bytes

    def __post_init__(self):
        if not KEY_ID.match(self.key_id):
            raise ValueError(f"payload key id {self.key_id!r}: 1-32 of A-Z a-z 0-9 _ . -")
        if self.algorithm not in ALGORITHMS:
            raise ValueError(f"payload key {self.key_id!r}: algorithm {self.algorithm!r} is not one of "
                             f"{', '.join(ALGORITHMS)}")
        if len(self.secret) != ALGORITHMS[self.algorithm]:
            raise ValueError(f"payload key {self.key_id!r}: {self.algorithm} needs {ALGORITHMS[self.algorithm]} "
                             f"bytes, the key has {len(self.secret)}")

    def encrypt(self, data: bytes, aad: bytes) -> tuple[bytes, bytes]:
        nonce = os.urandom(NONCE)
        if self.algorithm == "aes-gcm":
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM
            return nonce, AESGCM(self.secret).encrypt(nonce, data, aad)
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
        enc = Cipher(algorithms.SM4(self.secret), modes.GCM(nonce)).encryptor()
        enc.authenticate_additional_data(aad)
        return nonce, enc.update(data) + enc.finalize() + enc.tag

    def decrypt(self, nonce: bytes, sealed: bytes, aad: bytes) -> bytes:
        if self.algorithm == "aes-gcm":
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM
            return AESGCM(self.secret).decrypt(nonce, sealed, aad)
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
        if len(sealed) < 16:
            raise ValueError("too short")
        dec = Cipher(algorithms.SM4(self.secret), modes.GCM(nonce, sealed[-16:])).decryptor()
        dec.authenticate_additional_data(aad)
        return dec.update(sealed[:-16]) + dec.finalize()


def new_secret(algorithm: str) -> bytes:
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm {algorithm!r} is not one of {', '.join(ALGORITHMS)}")
    return os.urandom(ALGORITHMS[algorithm])


def is_sealed(value) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def key_id_of(value) -> str | None:
    """The key id a sealed value names (None: plain)."""
    if not is_sealed(value):
        return None
    return value[len(PREFIX):].split(":", 1)[0]


class KeyRing:
    """The keys payloads may be sealed with, and the current one new writes use (None: new
    writes stay plain, while sealed rows still open with the listed keys)."""

    def __init__(self, keys: list[Key] = (), current: str | None = None, problems: dict[str, str] | None = None):
        self.keys = {k.key_id: k for k in keys}
        # key ids listed in the settings whose key could not be loaded: why, for the error
        self.problems = dict(problems or {})
        if current is not None and current not in self.keys:
            why = self.problems.get(current, "it is not in payload_encryption.keys")
            raise ValueError(f"payload_encryption.current {current!r}: {why}")
        self.current = current

    @property
    def enabled(self) -> bool:
        return self.current is not None

    def seal(self, text: str | None, column: str) -> str | None:
        """``text`` sealed with the current key (as it is when there is none, or it is None)."""
        if text is None or self.current is None or is_sealed(text):
            return text
        key = self.keys[self.current]
        nonce, sealed = key.encrypt(text.encode("utf-8"), column.encode("ascii"))
        return (f"{PREFIX}{key.key_id}:{base64.b64encode(nonce).decode('ascii')}:"
                f"{base64.b64encode(sealed).decode('ascii')}")

    def open(self, value: str | None, column: str) -> str | None:
        """The plain text of ``value`` (plain values come back as they are)."""
        if not is_sealed(value):
            return value
        try:
            key_id, nonce, sealed = value[len(PREFIX):].split(":")
        except ValueError:
            raise PayloadKeyError(f"{column}: a sealed payload that is not of the form "
                                  f"{PREFIX}<key id>:<nonce>:<ciphertext>") from None
        key = self.keys.get(key_id)
        if key is None:
            why = self.problems.get(key_id) or "not in payload_encryption.keys"
            raise PayloadKeyError(f"{column}: sealed with payload key {key_id!r}, which this hub cannot use "
                                  f"({why})", key_id)
        try:
            return key.decrypt(base64.b64decode(nonce), base64.b64decode(sealed), column.encode("ascii")).decode("utf-8")
        except Exception:   # InvalidTag, bad base64: the key or the value is not the one sealed
            raise PayloadKeyError(f"{column}: payload key {key_id!r} does not open this value (a different key "
                                  f"under the same id, or the value was altered)", key_id) from None

    def needs_rekey(self, value) -> bool:
        """True for a value that is plain or sealed with another key than the current one."""
        if value is None or self.current is None:
            return False
        return key_id_of(value) != self.current
