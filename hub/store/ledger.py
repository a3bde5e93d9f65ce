"""Delivery ledger: the idempotent-consumer record of what each destination
accepted (invariant 4) and the last sequence per case (invariant 5)."""

from __future__ import annotations

from sqlalchemy import func, select

from .schema import deliveries
from .sql import StoreBase, check_keys, chunks, insert_ignore, unique_by
from .types import utcnow

# skipped: a department track the dual-track mode leaves out (the write mirror's other side)
OUTCOMES = ("accepted", "duplicate", "skipped")
_KEYS = frozenset({"message_id", "case_no", "sequence", "kind", "outcome", "delivered_at"})
_REQUIRED = ("message_id", "outcome")


class Ledger(StoreBase):
    def delivered_ids(self, destination: str, message_ids: list[str]) -> set[str]:
        """Which of ``message_ids`` ``destination`` already has."""
        ids = list(dict.fromkeys(message_ids))
        found: set[str] = set()
        if not ids:
            return found
        c = deliveries.c
        with self._read() as conn:
            for part in chunks(ids):
                q = select(c.message_id).where(c.destination == destination, c.message_id.in_(part))
                found.update(conn.scalars(q))
        return found

    def record_deliveries(self, destination: str, rows: list[dict]) -> int:
        """Record a batch of deliveries in one transaction. Rows already in
        the ledger for this destination are left as they are (first outcome
        wins). ``delivered_at`` is optional (default now). Returns how many
        rows were new."""
        if not rows:
            return 0
        now = utcnow()
        batch = []
        for row in rows:
            check_keys(row, _KEYS, _REQUIRED, "record_deliveries")
            if row["outcome"] not in OUTCOMES:
                raise ValueError(
                    f"record_deliveries: outcome must be one of {OUTCOMES}, got {row['outcome']!r}"
                )
            batch.append(
                {
                    "message_id": row["message_id"],
                    "destination": destination,
                    "case_no": row.get("case_no"),
                    "sequence": row.get("sequence"),
                    "kind": row.get("kind"),
                    "outcome": row["outcome"],
                    "delivered_at": row.get("delivered_at") or now,
                }
            )
        with self._write() as conn:
            return insert_ignore(conn, deliveries, unique_by(batch, "message_id"))

    def last_sequences(self, destination: str, case_nos: list[str]) -> dict[str, int]:
        """Highest delivered sequence per case; cases with none are absent."""
        cases = list(dict.fromkeys(case_nos))
        out: dict[str, int] = {}
        if not cases:
            return out
        c = deliveries.c
        with self._read() as conn:
            for part in chunks(cases):
                q = (
                    select(c.case_no, func.max(c.sequence))
                    .where(c.destination == destination, c.case_no.in_(part), c.sequence.is_not(None))
                    .group_by(c.case_no)
                )
                out.update({case_no: seq for case_no, seq in conn.execute(q)})
        return out
