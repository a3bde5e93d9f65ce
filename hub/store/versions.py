"""What each source last sent per record and per case step (hub/runtime/conflicts.py)."""
from __future__ import annotations

from sqlalchemy import delete, select

from .protection import open_json, seal_json
from .schema import content_versions
from .sql import StoreBase, chunks, upsert
from .types import utcnow


PAYLOAD_COLUMN = "content_versions.payload"


class ContentVersions(StoreBase):
    def versions_of(self, source: str, record_keys: list[str], case_nos: list[str]) -> list[dict]:
        """The rows of `source` for any of these record keys or cases."""
        c = content_versions.c
        out: dict[tuple, dict] = {}
        with self._read() as conn:
            for column, values in ((c.record_key, record_keys), (c.case_no, case_nos)):
                for part in chunks(list(dict.fromkeys(v for v in values if v))):
                    for r in conn.execute(select(content_versions).where(c.source == source, column.in_(part))):
                        out[(r.record_key, r.kind)] = dict(r._mapping)
        # a payload whose key is missing raises (PayloadKeyError, naming it): the source's page
        # is retried, nothing is judged on a guess
        for row in out.values():
            row["payload"] = open_json(self.payload_keys, row["payload"], PAYLOAD_COLUMN)
        return list(out.values())

    def save_versions(self, source: str, rows: list[dict]) -> None:
        """rows: record_key, kind, case_no, sequence, digest, message_id, payload; the latest wins."""
        if not rows:
            return
        now = utcnow()
        latest = {(r["record_key"], r["kind"]): {**r, "source": source, "seen_at": now, "payload_removed_at": None,
                                                 "payload": seal_json(self.payload_keys, r["payload"], PAYLOAD_COLUMN)}
                  for r in rows}
        with self._write() as conn:   # one statement for the page, a key once (the last version)
            upsert(conn, content_versions, list(latest.values()), ("source", "record_key", "kind"))

    def forget_versions(self, source: str) -> None:
        """Forget what `source` sent: its next records are all new (a source re-read from
        scratch on purpose, or a test feeding variants of the same records)."""
        with self._write() as conn:
            conn.execute(delete(content_versions).where(content_versions.c.source == source))
