"""Audit trail: who did what, to what, when and why (replays, purges,
dual-track cutovers and rollbacks)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert, select, text

from hub.audit import chain as hc

from .schema import audit_log
from .sql import StoreBase
from .types import utcnow


def audit_row(actor: str, action: str, target: str, reason: str, details: dict | None, at: datetime) -> dict:
    # An audit entry without a who or a why is worthless; refuse it here so no
    # caller (CLI, console, cutover) can skip asking for them.
    for name, value in (("actor", actor), ("action", action), ("target", target), ("reason", reason)):
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"audit: {name} is required")
    return {
        "at": at,
        "actor": actor,
        "action": action,
        "target": target,
        "reason": reason,
        "details": hc.normalise_json(details),
    }


# Any constant: the same in every process (PostgreSQL advisory lock of the audit chain).
_PG_AUDIT_LOCK = 0x61_75_64_69_74   # "audit"


def write_audit(conn: Connection, rows: list[dict], algorithm: str | None = None) -> None:
    """Append ``rows`` to the audit chain, inside the caller's transaction. Writers of the
    audit chain take turns (audit rows are rare): on SQLite the write transaction already
    holds the database, on PostgreSQL an advisory lock until commit, on MySQL the head row's
    lock."""
    if not rows:
        return
    rows = [dict(r) for r in rows]
    name = conn.dialect.name
    c = audit_log.c
    q = select(c.chain_seq, c.row_hash).where(c.chain == hc.AUDIT_CHAIN).order_by(c.chain_seq.desc()).limit(1)
    if name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_AUDIT_LOCK})
    elif name in ("mysql", "mariadb"):
        q = q.with_for_update()
    head = conn.execute(q).first()
    start = {hc.AUDIT_CHAIN: (int(head.chain_seq), head.row_hash) if head else (0, hc.GENESIS)}
    hc.link(rows, start, hc.AUDIT_FIELDS, algorithm or hc.default_algorithm(), lambda r: hc.AUDIT_CHAIN)
    conn.execute(insert(audit_log), rows)


class Audit(StoreBase):
    def audit(self, actor: str, action: str, target: str, reason: str, details: dict | None = None) -> None:
        row = audit_row(actor, action, target, reason, details, utcnow())
        with self._write() as conn:
            write_audit(conn, [row], getattr(self, "chain_algorithm", None))

    def audit_log(
        self, action: str | None = None, limit: int = 100, *, target: str | None = None
    ) -> list[dict]:
        """Newest first."""
        q = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        if action is not None:
            q = q.where(audit_log.c.action == action)
        if target is not None:
            q = q.where(audit_log.c.target == target)
        with self._read() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]
