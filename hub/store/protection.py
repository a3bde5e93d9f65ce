"""The ``payload_encryption:`` and ``retention:`` settings (config/hub.yaml), read into a key
ring and a retention policy, and given to a Store (``protect(store, settings)``).

Keys are never in the settings themselves: each listed key names a file (``key_file``, base64
of the key, as `tongban store keygen` writes it, mode 0600) or an environment variable
(``key_env``, the same base64 text). A key that cannot be loaded is only an error when it is
the current one (the hub would have nothing to seal new payloads with, so it refuses to
start, naming the key); an older one is noted, and a row sealed with it fails to open with
an error naming that key id, while everything else goes on."""
from __future__ import annotations

import base64
import binascii
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from .keyring import ALGORITHMS, Key, KeyRing, is_sealed, new_secret

ROOT = Path(__file__).resolve().parents[2]
# the tables that keep payloads, and the column(s) retention removes in each
PAYLOAD_TABLES = ("dead_letters", "content_versions", "dualtrack_twins")
RETENTION_DEFAULTS = {"payload_days": 0, "tables": {}, "batch_size": 1000}


def _path(p: str) -> Path:
    p = Path(p)
    return p if p.is_absolute() else ROOT / p


def _decode(text: str, key_id: str, where: str) -> bytes:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"payload key {key_id!r}: {where} does not hold base64 text") from None


def load_key(key_id: str, spec: dict, environ=None) -> Key:
    env = os.environ if environ is None else environ
    if not isinstance(spec, dict):
        raise ValueError(f"payload_encryption.keys.{key_id}: give {{algorithm, key_file}} or {{algorithm, key_env}}")
    algorithm = spec.get("algorithm") or "aes-gcm"
    if spec.get("key_file"):
        path = _path(str(spec["key_file"]))
        if not path.exists():
            raise ValueError(f"payload key {key_id!r}: key_file {path} does not exist")
        secret = _decode(path.read_text(encoding="ascii"), key_id, f"key_file {path}")
    elif spec.get("key_env"):
        name = str(spec["key_env"])
        if not env.get(name):
            raise ValueError(f"payload key {key_id!r}: environment variable {name} is not set")
        secret = _decode(env[name], key_id, f"${name}")
    else:
        raise ValueError(f"payload_encryption.keys.{key_id}: no key_file and no key_env")
    return Key(key_id, algorithm, secret)


def key_ring(settings: dict, environ=None) -> KeyRing:
    conf = settings.get("payload_encryption") or {}
    keys, problems = [], {}
    for key_id, spec in (conf.get("keys") or {}).items():
        try:
            keys.append(load_key(str(key_id), spec, environ))
        except ValueError as exc:
            problems[str(key_id)] = str(exc)
    current = conf.get("current") or None
    return KeyRing(keys, None if current is None else str(current), problems)


@dataclass
class Retention:
    """How many days each table keeps its stored payloads (0: for ever)."""
    payload_days: int = 0
    tables: dict[str, int] = field(default_factory=dict)
    batch_size: int = 1000

    def days(self, table: str) -> int:
        return int(self.tables.get(table, self.payload_days) or 0)


def retention(settings: dict) -> Retention:
    conf = {**RETENTION_DEFAULTS, **(settings.get("retention") or {})}
    tables = dict(conf.get("tables") or {})
    unknown = set(tables) - set(PAYLOAD_TABLES)
    if unknown:
        raise ValueError(f"retention.tables: unknown {sorted(unknown)} (tables with payloads: "
                         f"{', '.join(PAYLOAD_TABLES)})")
    out = Retention(int(conf["payload_days"] or 0), {k: int(v or 0) for k, v in tables.items()},
                    int(conf["batch_size"] or 1000))
    for name, days in [("payload_days", out.payload_days), *out.tables.items()]:
        if days < 0:
            raise ValueError(f"retention {name}: {days} days; 0 keeps payloads for ever")
    if out.batch_size < 1:
        raise ValueError(f"retention.batch_size {out.batch_size}: at least 1")
    return out


def protect(store, settings: dict):
    """Give ``store`` the key ring of ``settings`` (every read and write of a payload goes
    through it). Returns the store."""
    store.payload_keys = key_ring(settings)
    return store


def write_key(path: str | Path, algorithm: str = "aes-gcm") -> Path:
    """A new random key in ``path`` (base64, mode 0600); refuses to overwrite one."""
    path = _path(str(path))
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm {algorithm!r} is not one of {', '.join(ALGORITHMS)}")
    if path.exists():
        raise ValueError(f"{path} exists: a payload key is never overwritten (rows sealed with it would be lost)")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(base64.b64encode(new_secret(algorithm)).decode("ascii") + "\n")
    return path


# --- JSON columns: a sealed document is stored as a JSON string holding the sealed text -------
def seal_json(ring: KeyRing, doc, column: str):
    if doc is None or not ring.enabled:
        return doc
    return ring.seal(json.dumps(doc, ensure_ascii=False, sort_keys=True, default=str), column)


def open_json(ring: KeyRing, value, column: str):
    if is_sealed(value):
        return json.loads(ring.open(value, column))
    return value
