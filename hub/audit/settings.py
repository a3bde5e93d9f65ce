"""The ``audit:`` settings (config/hub.yaml), with their defaults."""
from __future__ import annotations

import json
from pathlib import Path

from . import chain as hc
from .signing import PublicKey, Signer, load_or_create

ROOT = Path(__file__).resolve().parents[2]
DEFAULTS = {"hash": hc.DEFAULT, "signature": "ed25519", "signing_key": "var/keys/log-signing.key",
            "public_keys": [], "checkpoint_seconds": 60}


def audit_settings(settings: dict) -> dict:
    out = {**DEFAULTS, **(settings.get("audit") or {})}
    if out["hash"] not in hc.ALGORITHMS:
        raise ValueError(f"audit.hash {out['hash']!r}: one of {', '.join(hc.ALGORITHMS)}")
    return out


def _path(p: str) -> Path:
    p = Path(p)
    return p if p.is_absolute() else ROOT / p


def signer(settings: dict) -> Signer:
    a = audit_settings(settings)
    return load_or_create(_path(a["signing_key"]), a["signature"])


def public_keys(settings: dict, extra=()) -> dict[str, PublicKey]:
    """key id -> public key: the signing key's, those listed in audit.public_keys, and ``extra``
    (export files, or key files)."""
    a = audit_settings(settings)
    keys = {}
    if _path(a["signing_key"]).exists():
        s = Signer.load(_path(a["signing_key"]))
        keys[s.key_id] = s.public
    for f in [*a["public_keys"], *extra]:
        data = _path(f).read_bytes()
        try:
            doc = json.loads(data)
        except ValueError:
            s = Signer.load(_path(f))
            keys[s.key_id] = s.public
            continue
        for k in (doc.get("public_keys") or [doc]):
            pk = PublicKey.from_json(k)
            keys[pk.key_id] = pk
    return keys
