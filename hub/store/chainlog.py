"""Reading the hash-chained logs back for ``tongban log verify``, and their signed checkpoints
(hub/audit/). Rows come out as plain dicts in chain order, a chain at a time."""
from __future__ import annotations

from datetime import datetime
from typing import Iterator

from sqlalchemy import func, insert, select

from .schema import audit_log, log_checkpoints, message_log
from .sql import StoreBase

LOGS = {"message_log": message_log, "audit_log": audit_log}
# what each log's rows are named by in a finding
ROW_KEY = {"message_log": "message_id", "audit_log": "id"}
TIME = {"message_log": "logged_at", "audit_log": "at"}


class ChainLog(StoreBase):
    def chains(self, log: str) -> dict[str | None, tuple[int, int]]:
        """chain -> (rows, highest position); None: the rows that carry no chain at all."""
        t = LOGS[log]
        with self._read() as conn:
            return {r[0]: (int(r[1]), int(r[2] or 0)) for r in conn.execute(
                select(t.c.chain, func.count(), func.max(t.c.chain_seq)).group_by(t.c.chain))}

    def chain_start(self, log: str, since: datetime) -> dict[str, int]:
        """chain -> the first position logged at or after ``since``."""
        t = LOGS[log]
        with self._read() as conn:
            return {r[0]: int(r[1]) for r in conn.execute(
                select(t.c.chain, func.min(t.c.chain_seq)).where(t.c[TIME[log]] >= since,
                                                                 t.c.chain.is_not(None)).group_by(t.c.chain))}

    def chain_rows(self, log: str, chain: str | None, from_seq: int = 0, batch: int = 5000) -> Iterator[dict]:
        """The rows of ``chain`` from position ``from_seq`` on, in position order (chain None:
        the unchained rows), read in keyset pages."""
        t = LOGS[log]
        if chain is None:
            with self._read() as conn:
                yield from (dict(r._mapping) for r in conn.execute(select(t).where(t.c.chain.is_(None))))
            return
        last = from_seq - 1
        while True:
            with self._read() as conn:
                rows = [dict(r._mapping) for r in conn.execute(
                    select(t).where(t.c.chain == chain, t.c.chain_seq > last).order_by(t.c.chain_seq).limit(batch))]
            yield from rows
            if len(rows) < batch:
                return
            last = rows[-1]["chain_seq"]

    def save_log_checkpoints(self, rows: list[dict]) -> None:
        if rows:
            with self._write() as conn:
                conn.execute(insert(log_checkpoints), rows)

    def log_checkpoints(self, log: str | None = None, chain: str | None = None,
                        latest_only: bool = False) -> list[dict]:
        """Oldest first; ``latest_only``: the newest of each (log, chain)."""
        c = log_checkpoints.c
        q = select(log_checkpoints).order_by(c.id)
        if log is not None:
            q = q.where(c.log == log)
        if chain is not None:
            q = q.where(c.chain == chain)
        with self._read() as conn:
            rows = [dict(r._mapping) for r in conn.execute(q)]
        if latest_only:
            rows = list({(r["log"], r["chain"]): r for r in rows}.values())
        return rows

    def chain_heads(self, log: str) -> list[dict]:
        """Each chain's last row: (log, chain, chain_seq, row_hash), for a checkpoint."""
        t = LOGS[log]
        with self._read() as conn:
            tops = select(t.c.chain, func.max(t.c.chain_seq).label("top")).where(
                t.c.chain.is_not(None)).group_by(t.c.chain).subquery()
            q = select(t.c.chain, t.c.chain_seq, t.c.row_hash).join(
                tops, (t.c.chain == tops.c.chain) & (t.c.chain_seq == tops.c.top))
            return [{"log": log, "chain": r.chain, "chain_seq": int(r.chain_seq), "head_hash": r.row_hash}
                    for r in conn.execute(q)]
