"""Audit trail: who did what, to what, when and why (replays, purges,
dual-track cutovers and rollbacks)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert, select

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
        "details": details,
    }


def write_audit(conn: Connection, rows: list[dict]) -> None:
    if rows:
        conn.execute(insert(audit_log), rows)


class Audit(StoreBase):
    def audit(self, actor: str, action: str, target: str, reason: str, details: dict | None = None) -> None:
        row = audit_row(actor, action, target, reason, details, utcnow())
        with self._write() as conn:
            write_audit(conn, [row])

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
