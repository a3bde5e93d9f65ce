"""Delivery ledger: the idempotent-consumer record of what each destination
accepted (invariant 4) and the last sequence per case (invariant 5)."""

from __future__ import annotations

from sqlalchemy import func, select

from .schema import deliveries
from .sql import StoreBase, check_keys, chunks, insert_ignore, unique_by
from .types import utcnow

# skipped: a department track the dual-track mode leaves out (the write mirror's other side)
# twin: the same step (case, kind, sequence) was delivered from the department's other track
OUTCOMES = ("accepted", "duplicate", "skipped", "twin")
_KEYS = frozenset({"message_id", "case_no", "sequence", "kind", "outcome", "delivered_at", "track"})
_REQUIRED = ("message_id", "outcome")


def ledger_row(destination: str, row: dict, now, caller: str) -> dict:
    """A delivery row checked and completed, for every path that writes the ledger."""
    check_keys(row, _KEYS, _REQUIRED, caller)
    if row["outcome"] not in OUTCOMES:
        raise ValueError(f"{caller}: outcome must be one of {OUTCOMES}, got {row['outcome']!r}")
    return {"message_id": row["message_id"], "destination": destination, "case_no": row.get("case_no"),
            "sequence": row.get("sequence"), "kind": row.get("kind"), "outcome": row["outcome"],
            "track": row.get("track"), "delivered_at": row.get("delivered_at") or now}


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
        batch = [ledger_row(destination, row, now, "record_deliveries") for row in rows]
        with self._write() as conn:
            return insert_ignore(conn, deliveries, unique_by(batch, "message_id"))

    def delivered_steps(self, destination: str, case_nos: list[str]) -> dict[tuple, set[str]]:
        """(case_no, kind, sequence) -> the tracks ``destination`` has that step from,
        for the dual-track check that one step is delivered from one track only."""
        cases = list(dict.fromkeys(c for c in case_nos if c))
        out: dict[tuple, set[str]] = {}
        c = deliveries.c
        with self._read() as conn:
            for part in chunks(cases):
                q = select(c.case_no, c.kind, c.sequence, c.track).where(
                    c.destination == destination, c.case_no.in_(part), c.track.is_not(None),
                    c.sequence.is_not(None), c.outcome.in_(("accepted", "duplicate")))
                for case_no, kind, seq, track in conn.execute(q):
                    out.setdefault((case_no, kind, seq), set()).add(track)
        return out

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
