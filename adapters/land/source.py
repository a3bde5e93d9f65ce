"""Reads the land system's batch files, one file at a time, a page of records at a time.

The cursor is {"file", "sha256", "next", "total"}: the file in processing/ and how many of
its records the broker has confirmed. After a crash the file is still in processing/ and
the saved cursor says where to go on, so no record is lost and none read twice (a page
re-read after a crash between publish and checkpoint carries the same message ids, which
the ledger and the destinations' idempotency keys absorb).

A file delivered twice is recognised by the sha256 of its bytes, remembered in
seen.sha256 in the work folder when a file is done. The index lives beside the files
rather than in the hub's store because an adapter knows nothing of the store, and because
it stops a re-sent batch before any work: its good records are not published again and,
more to the point, its bad records are not dead-lettered a second time. Records re-sent
inside a different file are still caught downstream by their message ids."""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass

from hub.adapter import Page, RawRecord, Source, SourceUnavailable

from .batch import BatchUnreadable, parse
from .folders import WorkFolders

log = logging.getLogger("tongban.adapters.land")
MAX_SKIPS = 100   # duplicates and empty files passed over in one fetch before yielding


@dataclass
class _Open:
    name: str
    sha: str
    records: list[RawRecord]
    failed: str | None = None   # why the whole file could not be read


class LandSource(Source):
    def __init__(self, folders: WorkFolders, csv_encoding: str = "gb18030"):
        self.folders = folders
        self.csv_encoding = csv_encoding
        self._seen: dict[str, str] | None = None
        self._current: _Open | None = None

    def fetch(self, cursor: dict | None, limit: int) -> Page:
        cursor = cursor or {}
        try:
            self.folders.ensure()
            if self._seen is None:
                self._seen = self.folders.seen()
            for _ in range(MAX_SKIPS):
                current = self._open(cursor)
                if current is None:
                    return Page([], cursor, has_more=False)
                same = cursor.get("file") == current.name and cursor.get("sha256") == current.sha
                start = int(cursor.get("next", 0)) if same else 0
                if start >= len(current.records):
                    self._finish(current)   # every record was confirmed before (or there are none)
                    continue
                records = current.records[start:start + limit]
                nxt = start + len(records)
                more = nxt < len(current.records) or bool(self.folders.waiting())
                return Page(records, {"file": current.name, "sha256": current.sha, "next": nxt,
                                      "total": len(current.records)}, has_more=more)
        except OSError as exc:
            raise SourceUnavailable(f"land folders: {exc}") from None
        return Page([], cursor, has_more=True)

    def acknowledge(self, page: Page, failures: dict[str, str]) -> None:
        """The page is confirmed and checkpointed: a file read to its end leaves processing/."""
        cur, current = page.cursor, self._current
        if current is None or cur.get("file") != current.name or cur.get("sha256") != current.sha:
            return
        if cur["next"] >= len(current.records):
            self._finish(current)

    def close(self) -> None:
        self._current = None

    # --- the file in hand ----------------------------------------------------------------
    def _open(self, cursor: dict) -> _Open | None:
        """The file in processing/ (resumed after a crash), else the next one claimed from the outbox."""
        f = self.folders
        if self._current is not None and (f.processing / self._current.name).exists():
            return self._current
        for _ in range(MAX_SKIPS):
            resumed = f.in_processing()
            if resumed:
                name = resumed[0]
            else:
                name = next((n for n in f.waiting() if f.claim(n)), None)
                if name is None:
                    return None
            data = (f.processing / name).read_bytes()
            sha = hashlib.sha256(data).hexdigest()
            if sha in self._seen:
                finished = resumed and cursor.get("file") == name and cursor.get("sha256") == sha
                if finished:   # done and remembered, then the process died before the move
                    f.finish(name, f.done)
                else:
                    kept = f.finish(name, f.duplicates, f"same bytes (sha256 {sha}) as {self._seen[sha]}, "
                                                         f"already processed; not read again")
                    log.info("batch %s is a duplicate of %s: moved to duplicates/%s", name, self._seen[sha], kept)
                continue
            self._current = self._read(name, data, sha)
            return self._current
        return None

    def _read(self, name: str, data: bytes, sha: str) -> _Open:
        try:
            return _Open(name, sha, parse(name, data, self.csv_encoding))
        except BatchUnreadable as exc:
            reason = f"batch file {name} could not be read: {exc}"
            # One record stands for the file, so the hub dead-letters it (no silent drop);
            # the file itself goes to failed/ with the reason beside it.
            raw = json.dumps({"file": name, "sha256": sha, "bytes": len(data), "reason": str(exc),
                              "head": data[:2000].decode("utf-8", errors="replace")}, ensure_ascii=False)
            return _Open(name, sha, [RawRecord(name, {}, raw, error=reason + "; moved to failed/")], failed=reason)

    def _finish(self, current: _Open) -> None:
        f = self.folders
        if current.failed is not None:
            # Not remembered: dropping the same bytes again (after fixing the cause) is how it is retried.
            kept = f.finish(current.name, f.failed, current.failed)
            log.warning("batch %s failed: %s (kept as failed/%s)", current.name, current.failed, kept)
        else:
            if current.sha not in self._seen:
                f.remember(current.sha, current.name)   # before the move: a crash between leaves it findable
                self._seen[current.sha] = current.name
            f.finish(current.name, f.done)
        self._current = None
