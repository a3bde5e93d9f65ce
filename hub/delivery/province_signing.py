"""Signatures on the messages to the provincial node (issue 13, item 2).

Each Report call carries a SOAP header ``Signature`` (province.wsdl): algorithm, key id, the
time it was signed, a fresh nonce and the signature. What is signed is ``signed_bytes``: a
fixed label, those four header values and the six Report fields as the node reads them back
from the body, as compact UTF-8 JSON. The payload is the exact JSON text sent. A new time and
nonce are drawn for every call, retries included, so the node can refuse a replayed capture
(its nonce seen, or its time outside the node's window) without refusing a genuine retry.

The key files are the log checkpoints' (hub/audit/signing.py): Ed25519 (cryptography) or SM2
with SM3 (Tongsuo). Settings, per destination::

    signing: {algorithm: ed25519, key_file: var/keys/province-signing.key, key_id: ""}

A key file that is not there is made on first use (mode 0600), as the checkpoint key is.
``key_id`` is the id the node registered the key under; empty: the key's own id (the first
16 hex digits of the SHA-256 of its public key)."""
from __future__ import annotations

import json
import secrets
from datetime import datetime, timezone
from pathlib import Path

from hub.audit.signing import SIGNATURES, Signer, load_or_create
from hub.config import ROOT

LABEL = "tongban-province-report/1"
HEADER_FIELDS = ("algorithm", "keyId", "signedAt", "nonce", "value")   # the WSDL's order
BODY_FIELDS = ("messageId", "kind", "caseNo", "sequence", "department", "payload")


def default_key_file(destination: str) -> str:
    return f"var/keys/{destination}-signing.key"


def signed_bytes(header: dict, body: dict) -> bytes:
    """The bytes the signature is over. ``sequence`` as an int, every other value as text;
    a value XML cannot carry is kept as is (surrogatepass) so signing never fails on it:
    zeep refuses such a message before it is sent."""
    doc = [LABEL, *(header[f] for f in HEADER_FIELDS[:-1]), *(body[f] for f in BODY_FIELDS)]
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")


def _path(p: str | Path) -> Path:
    p = Path(p)
    return p if p.is_absolute() else ROOT / p


def signing_settings(destination: str, settings: dict | None) -> dict | None:
    """The destination's ``signing:`` block with its defaults, or None when it signs nothing
    (no block, or ``enabled: false``). A bad algorithm is named with the destination."""
    if not settings or settings.get("enabled", True) is False:
        return None
    out = {"algorithm": "ed25519", "key_file": default_key_file(destination), "key_id": "", **settings}
    if out["algorithm"] not in SIGNATURES:
        raise ValueError(f"destinations.{destination}.signing.algorithm {out['algorithm']!r}: "
                         f"one of {', '.join(SIGNATURES)}")
    return out


class MessageSigner:
    """Signs one Report call: the header values for its body fields."""

    def __init__(self, signer: Signer, key_id: str | None = None):
        self.signer = signer
        self.key_id = key_id or signer.key_id

    @property
    def algorithm(self) -> str:
        return self.signer.algorithm

    @classmethod
    def from_settings(cls, destination: str, settings: dict | None) -> "MessageSigner | None":
        s = signing_settings(destination, settings)
        if s is None:
            return None
        try:
            signer = load_or_create(_path(s["key_file"]), s["algorithm"])
        except (ValueError, KeyError, TypeError, OSError) as exc:
            raise ValueError(f"destinations.{destination}.signing.key_file {s['key_file']}: not a readable "
                             f"Ed25519 or SM2 key file ({exc.__class__.__name__})") from None
        if signer.algorithm != s["algorithm"]:
            raise ValueError(f"destinations.{destination}.signing: {s['key_file']} holds an {signer.algorithm} "
                             f"key, the settings say {s['algorithm']}")
        return cls(signer, s["key_id"] or None)

    def header(self, body: dict, now: datetime | None = None) -> dict:
        at = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
        header = {"algorithm": self.algorithm, "keyId": self.key_id,
                  "signedAt": at.isoformat(timespec="milliseconds"), "nonce": secrets.token_hex(16)}
        header["value"] = self.signer.sign(signed_bytes(header, body))
        return header

    def public_entry(self) -> dict:
        """This key as a trust-list entry for the node (``{"public_keys": [...]}`` documents)."""
        return {**self.signer.public.to_json(), "key_id": self.key_id}


def public_entry(key_file: str | Path, key_id: str | None = None) -> dict:
    """A key file's public half as a trust-list entry (what is handed to the node)."""
    return MessageSigner(Signer.load(_path(key_file)), key_id).public_entry()

