"""Message log (lineage) and source checkpoints."""

from __future__ import annotations

from sqlalchemy import select

from .schema import checkpoints, message_log
from .sql import StoreBase, check_keys, chunks, insert_ignore, unique_by, upsert
from .types import utcnow

_MESSAGE_KEYS = frozenset(
    c.name for c in message_log.columns if c.name != "logged_at"
)
_MESSAGE_REQUIRED = ("message_id", "kind", "produced_at")


class MessageLog(StoreBase):
    def log_messages(self, rows: list[dict]) -> int:
        """Record published canonical messages; ids already logged are skipped
        (a source re-read after a crash republishes the same ids).
        Returns how many were new."""
        if not rows:
            return 0
        now = utcnow()
        batch = []
        for row in rows:
            check_keys(row, _MESSAGE_KEYS, _MESSAGE_REQUIRED, "log_messages")
            # every dict must carry every column for one executemany
            full = {k: row.get(k) for k in _MESSAGE_KEYS}
            full["logged_at"] = now
            batch.append(full)
        with self._write() as conn:
            return insert_ignore(conn, message_log, unique_by(batch, "message_id"))


    def logged_ids(self, message_ids: list[str]) -> set[str]:
        """Which of ``message_ids`` were published onward (the log holds routed messages only)."""
        found: set[str] = set()
        with self._read() as conn:
            for part in chunks(list(dict.fromkeys(message_ids))):
                found.update(conn.scalars(select(message_log.c.message_id).where(message_log.c.message_id.in_(part))))
        return found


    def case_steps(self, case_nos: list[str]) -> dict[str, list[dict]]:
        """case -> its routed messages that carry a step number (message_id, sequence,
        routing_key), for the delivery's order check (hub/runtime/sequence.py)."""
        out: dict[str, list[dict]] = {}
        c = message_log.c
        with self._read() as conn:
            for part in chunks(list(dict.fromkeys(n for n in case_nos if n))):
                q = select(c.message_id, c.case_no, c.sequence, c.routing_key).where(
                    c.case_no.in_(part), c.sequence.is_not(None))
                for r in conn.execute(q):
                    out.setdefault(r.case_no, []).append(
                        {"message_id": r.message_id, "sequence": r.sequence, "routing_key": r.routing_key})
        return out


class Checkpoints(StoreBase):
    def get_checkpoint(self, source: str) -> dict | None:
        with self._read() as conn:
            return conn.scalar(select(checkpoints.c.cursor).where(checkpoints.c.source == source))

    def save_checkpoint(self, source: str, cursor: dict) -> None:
        """Only call once the broker confirmed every message made from the
        records before ``cursor`` (invariant 1). ``cursor`` must be plain JSON
        (str, numbers, bools, None, lists, dicts): give times as ISO strings."""
        if not isinstance(cursor, dict):
            raise TypeError(f"cursor must be a dict, got {type(cursor).__name__}")
        with self._write() as conn:
            upsert(
                conn,
                checkpoints,
                {"source": source, "cursor": cursor, "updated_at": utcnow()},
                key=("source",),
            )
