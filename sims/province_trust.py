"""The provincial node's check of a sender's signature, as the real node does it: a trust list
of public keys by key id (several at once: that is how a sender rotates its key), the
signature over the documented bytes, and a replay guard (signed time inside a window, each
nonce once).

Written from the interface's description (README, Security), not from the hub's code: the
simulator is the other side of the contract, so a hub that drifts from it is refused here.
Refusals are SOAP Client faults whose text starts with ``signature:`` or ``replay:``: the
sender's fault, never worth sending again unchanged."""
from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
import time
from datetime import datetime
from pathlib import Path

from .soap import SoapFault

LABEL = "tongban-province-report/1"
ENV_TRUST = "TONGBAN_SIM_PROVINCE_TRUST"             # trust files, separated by os.pathsep
ENV_WINDOW = "TONGBAN_SIM_PROVINCE_REPLAY_WINDOW"    # seconds
DEFAULT_WINDOW = 300.0
ALGORITHMS = ("ed25519", "sm2")


def signed_bytes(header: dict, body: dict) -> bytes:
    doc = [LABEL, header["algorithm"], header["keyId"], header["signedAt"], header["nonce"],
           body["messageId"], body["kind"], body["caseNo"], int(body["sequence"].strip()),
           body["department"], body["payload"]]
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _check(algorithm: str, public: bytes, data: bytes, signature: bytes) -> bool:
    if algorithm == "ed25519":
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
        try:
            Ed25519PublicKey.from_public_bytes(public).verify(signature, data)
            return True
        except (InvalidSignature, ValueError):
            return False
    return _sm2_verifies(public.decode("ascii", "replace"), data, signature)


def _sm2_verifies(point: str, data: bytes, signature: bytes) -> bool:
    """SM2 with SM3 and the GM/T 0009 default user id (Tongsuo): point x||y in hex, r||s."""
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
    from tongsuopy.crypto import hashes
    from tongsuopy.crypto.asymciphers import ec
    if len(point) != 128 or len(signature) != 64:
        return False
    try:
        key = ec.EllipticCurvePublicNumbers(int(point[:64], 16), int(point[64:], 16), ec.SM2()).public_key()
        key.verify(encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")),
                   data, ec.ECDSA(hashes.SM3()))
        return True
    except Exception:   # a bad signature, or a point not on the curve: it does not verify
        return False


def entry(doc: dict) -> dict:
    """A trust-list entry {algorithm, key_id, public}: public is base64 (Ed25519: the raw key;
    SM2: the uncompressed point as hex text); key_id defaults to the SHA-256 of it, 16 digits."""
    if doc.get("algorithm") not in ALGORITHMS:
        raise ValueError(f"trusted key: algorithm {doc.get('algorithm')!r} is not one of {', '.join(ALGORITHMS)}")
    public = base64.b64decode(doc["public"], validate=True)
    return {"algorithm": doc["algorithm"], "public": public,
            "key_id": doc.get("key_id") or hashlib.sha256(public).hexdigest()[:16]}


def read_trust_files(paths) -> list[dict]:
    out = []
    for p in paths:
        doc = json.loads(Path(p).read_text(encoding="utf-8"))
        out.extend(entry(d) for d in (doc.get("public_keys") if "public_keys" in doc else [doc]))
    return out


class Trust:
    """Who the node accepts messages from, and the nonces it has seen."""

    def __init__(self, keys: list[dict] | None = None, replay_window: float = DEFAULT_WINDOW,
                 required: bool | None = None):
        self.lock = threading.Lock()
        self.configure(keys or [], replay_window, required)

    @classmethod
    def from_env(cls) -> "Trust":
        paths = [p for p in os.environ.get(ENV_TRUST, "").split(os.pathsep) if p.strip()]
        window = float(os.environ.get(ENV_WINDOW) or DEFAULT_WINDOW)
        return cls(read_trust_files(paths), window)

    def configure(self, keys: list[dict], replay_window: float, required: bool | None = None) -> None:
        with self.lock:
            self.keys = {k["key_id"]: k for k in keys}
            self.window = float(replay_window)
            # A node with keys registered refuses what is not signed by one of them.
            self.required = bool(keys) if required is None else bool(required)
            self.nonces: dict[str, float] = {}      # nonce -> signed time (epoch seconds)
            self.refused = {"signature": 0, "replay": 0}

    def forget_nonces(self) -> None:
        with self.lock:
            self.nonces.clear()
            self.refused = {"signature": 0, "replay": 0}

    def state(self) -> dict:
        with self.lock:
            return {"required": self.required, "replay_window": self.window, "key_ids": sorted(self.keys),
                    "nonces_kept": len(self.nonces), "refused": dict(self.refused)}

    def check(self, header: dict | None, body: dict) -> None:
        """Returns when the message may be taken; raises a Client fault naming why not."""
        with self.lock:
            if not self.required:   # signature checking off: a node with no sender's key registered
                return
            try:
                self._verify(header, body)
            except SoapFault as fault:
                self.refused[fault.message.split(":", 1)[0]] += 1
                raise

    def _verify(self, header: dict | None, body: dict) -> None:
        if header is None:
            raise SoapFault("Client", "signature: missing (no Signature header; this node accepts signed messages only)")
        missing = [f for f in ("algorithm", "keyId", "signedAt", "nonce", "value") if not header.get(f, "").strip()]
        if missing:
            raise SoapFault("Client", f"signature: Signature header lacks {', '.join(missing)}")
        key = self.keys.get(header["keyId"].strip())
        if key is None:
            raise SoapFault("Client", f"signature: unknown key id {header['keyId'].strip()!r} (not in the trust list)")
        if key["algorithm"] != header["algorithm"].strip():
            raise SoapFault("Client", f"signature: key {key['key_id']} is {key['algorithm']}, "
                                      f"the message says {header['algorithm'].strip()!r}")
        try:
            sig = base64.b64decode(header["value"].strip(), validate=True)
            ok = _check(key["algorithm"], key["public"], signed_bytes(header, body), sig)
        except (ValueError, TypeError):
            ok = False
        if not ok:
            raise SoapFault("Client", f"signature: does not verify with key {key['key_id']} "
                                      "(the message was changed, or signed with another key)")
        self._fresh(header)

    def _fresh(self, header: dict) -> None:
        """The replay guard, after the signature: only a genuine signed message spends a nonce."""
        try:
            at = datetime.fromisoformat(header["signedAt"].strip())
        except ValueError:
            at = None
        if at is None or at.tzinfo is None:
            raise SoapFault("Client", f"signature: signedAt {header['signedAt'][:40]!r} is not an ISO time with an offset")
        now, signed = time.time(), at.timestamp()
        # Nonces older than the window are refused by their time anyway: only the window is kept.
        for n in [n for n, t in self.nonces.items() if t < now - self.window]:
            del self.nonces[n]
        if abs(now - signed) > self.window:
            raise SoapFault("Client", f"replay: signed at {header['signedAt'].strip()}, outside the replay window "
                                      f"of {self.window:g} s")
        nonce = header["nonce"].strip()
        if nonce in self.nonces:
            raise SoapFault("Client", f"replay: nonce {nonce[:40]} already used")
        self.nonces[nonce] = signed
