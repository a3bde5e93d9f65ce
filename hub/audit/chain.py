"""Hash chains: each row carries the hash of the previous row of its chain.

A row's hash is ``H(prev_hash + canonical(row))``, stored as ``<alg>:<hex>`` so that a chain
may change algorithm mid-way (a configuration change) and stay verifiable. SM3 (GB/T 32905,
the national standard hash) through OpenSSL when it has it, else Tongsuo's; SHA-256 from hashlib.

The row's position in its chain (``chain_seq``) is *not* hashed: the links define the order,
and the verifier compares it with the stored positions to tell a reordering from an edit.
The chain's name is hashed, so a row moved to another chain breaks both.

Chains are per source (message log: department/system/track) and one for the audit trail,
so source writers never wait on one another's rows. Computing a page's chain is one pass in
Python over its rows, from a head read once per page (or cached by the writer)."""
from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime, timezone
from typing import Iterable

ALGORITHMS = ("sm3", "sha256")
DEFAULT = "sm3"
ENV = "TONGBAN__AUDIT__HASH"
GENESIS = ""     # the prev_hash of a chain's first row

# What is hashed of each table's row, in this order. Adding a column to a table does not
# change old hashes; adding it here would (a new algorithm label would be needed).
MESSAGE_FIELDS = ("message_id", "kind", "department", "system", "track", "case_no", "sequence",
                  "routing_key", "mapping", "record_key", "produced_at", "logged_at")
AUDIT_FIELDS = ("at", "actor", "action", "target", "reason", "details")
AUDIT_CHAIN = "audit"


def default_algorithm() -> str:
    alg = (os.environ.get(ENV) or DEFAULT).lower()
    if alg not in ALGORITHMS:
        raise ValueError(f"{ENV}={alg!r}: the log hash must be one of {', '.join(ALGORITHMS)}")
    return alg


def _sm3_openssl() -> bool:
    try:
        hashlib.new("sm3", b"")
        return True
    except (ValueError, TypeError):
        return False


_OPENSSL_SM3 = _sm3_openssl()


def digest(alg: str, data: bytes) -> str:
    if alg == "sha256":
        return hashlib.sha256(data).hexdigest()
    if alg == "sm3":
        if _OPENSSL_SM3:
            return hashlib.new("sm3", data).hexdigest()
        from tongsuopy.crypto import hashes   # Tongsuo's SM3, where the system OpenSSL lacks it
        h = hashes.Hash(hashes.SM3())
        h.update(data)
        return h.finalize().hex()
    raise ValueError(f"unknown log hash {alg!r} (one of {', '.join(ALGORITHMS)})")


def _value(v):
    if isinstance(v, datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=timezone.utc)
        return v.astimezone(timezone.utc).isoformat(timespec="microseconds")
    return v


def canonical(row: dict, fields: Iterable[str], chain: str) -> bytes:
    """The bytes hashed for ``row``: the chain's name and the fields, in order, as compact
    JSON (times in UTC with microseconds; JSON documents with sorted keys)."""
    return json.dumps([chain] + [_value(row.get(f)) for f in fields], ensure_ascii=False,
                      separators=(",", ":"), sort_keys=True, default=str).encode("utf-8")


def row_hash(alg: str, prev: str, row: dict, fields: Iterable[str], chain: str) -> str:
    return f"{alg}:{digest(alg, prev.encode('ascii') + b'|' + canonical(row, fields, chain))}"


def algorithm_of(hashed: str | None) -> str | None:
    if not hashed or ":" not in hashed:
        return None
    return hashed.split(":", 1)[0]


def recompute(row: dict, fields: Iterable[str]) -> str | None:
    """The hash ``row`` should carry given its stored content, chain and prev_hash (None when it
    names no algorithm this hub knows)."""
    alg = algorithm_of(row.get("row_hash"))
    if alg not in ALGORITHMS or row.get("chain") is None or row.get("prev_hash") is None:
        return None
    return row_hash(alg, row["prev_hash"], row, fields, row["chain"])


def link(rows: list[dict], heads: dict, fields: Iterable[str], alg: str, chain_of) -> dict:
    """Give each row its chain, position, prev_hash and row_hash in one pass, in list order.
    ``heads``: chain -> (seq, hash) of its last stored row, for every chain in ``rows`` (a
    chain with no row yet: (0, GENESIS)). Returns the new heads (the caller's dict is not
    touched: the rows are not stored yet)."""
    fields = tuple(fields)
    new = {}
    for row in rows:
        c = chain_of(row)
        seq, prev = new.get(c) or heads.get(c) or (0, GENESIS)
        seq += 1
        row["chain"], row["chain_seq"], row["prev_hash"] = c, seq, prev
        row["row_hash"] = row_hash(alg, prev, row, fields, c)
        new[c] = (seq, row["row_hash"])
    return new


def message_chain(row: dict) -> str:
    """The message log's chain of a row written by no source worker (a takeover's): its
    department, system and track. A source worker chains its rows under its own name."""
    return f"{row.get('department') or '-'}/{row.get('system') or '-'}/{row.get('track') or '-'}"


def normalise_json(doc):
    """What a JSON column gives back for ``doc`` (tuples as lists, keys as strings), so the
    hash computed before the insert equals the one recomputed after reading it."""
    return None if doc is None else json.loads(json.dumps(doc, default=str))
