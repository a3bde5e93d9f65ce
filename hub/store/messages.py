"""Message log (lineage) and source checkpoints."""

from __future__ import annotations

from sqlalchemy import Connection, Table, delete, select

from hub.audit import chain as hc

from .schema import checkpoints, message_log
from .sql import StoreBase, check_keys, chunks, insert_ignore, unique_by, upsert
from .types import utcnow

_CHAIN_COLUMNS = ("chain", "chain_seq", "prev_hash", "row_hash")
_MESSAGE_KEYS = frozenset(
    c.name for c in message_log.columns if c.name != "logged_at" and c.name not in _CHAIN_COLUMNS
)


class ChainConflict(RuntimeError):
    """A chain moved under this writer twice in one transaction: give up the transaction (the
    caller's page is re-read and logged again)."""


def chain_heads(conn: Connection, table: Table, chains) -> dict[str, tuple[int, str]]:
    """chain -> (position, hash) of its last stored row; (0, GENESIS) for a chain with none.
    One indexed query per chain (a page has one, its source's)."""
    c = table.c
    out = {}
    for name in chains:
        r = conn.execute(select(c.chain_seq, c.row_hash).where(c.chain == name)
                         .order_by(c.chain_seq.desc()).limit(1)).first()
        out[name] = (int(r.chain_seq), r.row_hash) if r else (0, hc.GENESIS)
    return out
_MESSAGE_REQUIRED = ("message_id", "kind", "produced_at")


class MessageLog(StoreBase):
    def log_messages(self, rows: list[dict], heads: dict | None = None, chain: str | None = None) -> int:
        """Record published canonical messages; ids already logged are skipped
        (a source re-read after a crash republishes the same ids).
        Returns how many were new.

        Each row is chained to the one before it in its source's chain (hub/audit/chain.py),
        in the order given. ``heads`` (chain -> (position, hash)) is the writer's cache of its
        chains' heads: used where it has the chain, filled in and advanced here. It describes
        rows not yet committed, so a caller whose transaction fails must clear it. ``chain``:
        the writer's own chain for every row (a source worker's name: one reader, one chain);
        without it, the department/system/track of each row. One INSERT
        for the page; only when that finds ids logged before or a chain moved by another
        writer are the page's rows taken back and chained again from the stored heads."""
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
        batch = unique_by(batch, "message_id")
        alg = getattr(self, "chain_algorithm", None) or hc.default_algorithm()
        cache = heads if heads is not None else {}
        chain_of = (lambda _row: chain) if chain else hc.message_chain
        chains = list(dict.fromkeys(chain_of(r) for r in batch))
        with self._write() as conn:
            start = {c: cache[c] for c in chains if c in cache}
            unknown = [c for c in chains if c not in start]
            if unknown:
                start.update(chain_heads(conn, message_log, unknown))
            new = hc.link(batch, start, hc.MESSAGE_FIELDS, alg, chain_of)
            inserted = insert_ignore(conn, message_log, batch)
            if inserted != len(batch):
                self._take_back(conn, batch)
                known = set()
                for part in chunks([r["message_id"] for r in batch]):
                    known.update(conn.scalars(select(message_log.c.message_id)
                                              .where(message_log.c.message_id.in_(part))))
                batch = [r for r in batch if r["message_id"] not in known]
                start = chain_heads(conn, message_log, chains)
                new = hc.link(batch, start, hc.MESSAGE_FIELDS, alg, chain_of)
                inserted = insert_ignore(conn, message_log, batch)
                if inserted != len(batch):
                    raise ChainConflict(f"message log: chains {chains} moved under this writer twice")
            cache.update(start)
            cache.update(new)
            return inserted

    @staticmethod
    def _take_back(conn: Connection, batch: list[dict]) -> None:
        """Delete what this call inserted of ``batch`` (its hashes are its own: they cover
        this call's time), before chaining it again."""
        c = message_log.c
        for part in chunks(batch):
            conn.execute(delete(message_log).where(c.message_id.in_([r["message_id"] for r in part]),
                                                   c.row_hash.in_([r["row_hash"] for r in part])))


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
