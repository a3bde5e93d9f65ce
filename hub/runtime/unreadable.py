"""A page the legacy system cannot serve readably (issue 4): isolated, dead-lettered, stepped past
where the protocol allows it, held visibly where it does not.

A source raises hub.adapter.PageUnreadable when the system answered but the answer cannot be
read as a page at all (a body that is not JSON or is cut off, no items list, a malformed SOAP
envelope): not one record of it can be told apart, so the record guard (hub/adapter/guard.py)
cannot dead-letter just the bad one. The source worker reads its pages through PageReader:

1. Isolate. The same cursor is asked for again with half the page, down to a page of one. The
   first readable page goes on as usual: the good records before the poisoned one flow and
   the cursor moves up to it.
2. Confirm. A page of one that cannot be read is a blip until the same answer (the same bytes)
   came back `attempts` times in a row at that cursor, one try per poll: between tries the
   worker raises SourceUnavailable and the supervisor backs off as for any outage. A network
   failure or an HTTP 5xx is a plain SourceUnavailable and never counts.
3. Record. It becomes one RawRecord at stage "fetch", its payload the answer as received
   (bytes, kept as is), its error naming the system, the cursor and what is wrong; the worker
   dead-letters it like any other record (reason masked; the dead letter's id follows from the
   cursor and the bytes, so however often it is met it is stored once).
4. Step past, or hold. If the source told the position after that record
   (PageUnreadable.next_cursor) and the system serves a readable page at most LOOKAHEAD
   positions further (so the fault is that record, not the system's answers in general), the
   page carries that position and the feed flows on. Otherwise the cursor stays: the feed is
   held, visibly: the dead letter (`tongban dlq list --stage fetch`), a warning, and every
   later poll fails with a SourceUnavailable that names it (the supervisor's log and
   last_error), until the system serves the record readably.

The state (the isolating page size, the tries at a cursor) is a PageMemory, kept outside the
worker by whoever builds the source's loop (the runner, one per source and track): a supervisor
rebuilds the loop, and with it the worker and the source, after every SourceUnavailable, so none
of those lives long enough to count the tries. A process that takes a source over starts counting
afresh, which only delays."""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from hub.adapter import Page, PageUnreadable, RawRecord, SourceUnavailable
from hub.model.masking import mask_text

log = logging.getLogger("tongban.source")

DEFAULT_ATTEMPTS = 3   # tries of a page of one at one cursor, one per poll, before its dead letter
LOOKAHEAD = 3          # positions after a poisoned record tried for a readable page before stepping past it


@dataclass
class FetchFailure(RawRecord):
    """The dead letter of an unreadable page of one, made here, never by an adapter: it is kept
    at stage fetch with the answer's bytes as received, where an adapter's records are text."""
    payload: bytes = b""
    stage: str = "fetch"


@dataclass
class _Trouble:
    cursor: dict | None
    size: int                   # the page size to ask for next at this cursor
    digest: str | None = None   # the unreadable page of one last met here
    tries: int = 0              # how many times in a row it came back
    recorded: bool = False      # its dead letter was handed to the worker


class PageMemory:
    """What one source's reader remembers between polls: the unreadable page it is isolating."""

    def __init__(self):
        self.trouble: _Trouble | None = None


def position(cursor: dict | None) -> str:
    if not cursor:
        return "the start of the feed"
    return ", ".join(f"{k}={v}" for k, v in cursor.items())[:200]


class PageReader:
    def __init__(self, name: str, system: str, source, memory: PageMemory, attempts: int | None = None):
        self.name, self.system, self.source, self.memory = name, system, source, memory
        self.attempts = max(1, int(attempts or DEFAULT_ATTEMPTS))   # the adapter config's unreadable_attempts

    def fetch(self, cursor: dict | None, page_size: int) -> Page:
        trouble = self.memory.trouble
        if trouble is not None and (trouble.cursor or {}) != (cursor or {}):
            # the cursor moved (or another process moved it): a fresh start
            trouble = self.memory.trouble = None
        size = max(1, min(page_size, trouble.size) if trouble else page_size)
        while True:
            try:
                page = self.source.fetch(cursor, size)
            except PageUnreadable as exc:
                if trouble is None:
                    trouble = self.memory.trouble = _Trouble(cursor, size)
                if size > 1:
                    log.info("source %s: the page of up to %d records after %s cannot be read (%s); "
                             "asking for %d", self.name, size, position(cursor), mask_text(exc.reason)[:300],
                             size // 2)
                    size = trouble.size = size // 2
                    continue
                return self._page_of_one(cursor, trouble, exc)
            self.memory.trouble = None
            return page

    def _page_of_one(self, cursor: dict | None, trouble: _Trouble, exc: PageUnreadable) -> Page:
        where, digest = position(cursor), hashlib.sha256(exc.raw).hexdigest()
        if trouble.digest == digest:
            trouble.tries += 1
        else:
            trouble.digest, trouble.tries, trouble.recorded = digest, 1, False
        if trouble.tries < self.attempts:
            raise SourceUnavailable(mask_text(
                f"{self.system}: the record after {where} cannot be read ({exc.reason}); try {trouble.tries} "
                f"of {self.attempts} before it is dead-lettered at stage fetch")[:2000])
        beyond, why_not = self._beyond(exc)
        error = (f"{self.system} answered a page of one record that cannot be read, {trouble.tries} times in a "
                 f"row: {exc.reason}; the answer is kept as received ({len(exc.raw)} bytes)")
        record = FetchFailure(key=f"after {where}", data={}, raw=exc.raw.decode("utf-8", "surrogateescape"),
                              payload=exc.raw,
                           error=error + (f"; stepped past it to {position(beyond)}" if beyond is not None
                                          else f"; the feed is held here until the system serves it readably "
                                               f"({why_not})"))
        if beyond is not None:
            self.memory.trouble = None
            log.warning("source %s: the record after %s cannot be read; dead-lettered at stage fetch, reading on "
                        "from %s", self.name, where, position(beyond))
            return Page(records=[record], cursor=beyond, has_more=True)
        if trouble.recorded:
            raise SourceUnavailable(mask_text(
                f"{self.system}: held after {where}: the next record cannot be read ({exc.reason}); it is "
                f"dead-lettered at stage fetch (record key 'after {where}'); {why_not}")[:2000])
        trouble.recorded = True
        log.warning("source %s: held after %s: the next record cannot be read; dead-lettered at stage fetch; %s",
                    self.name, where, why_not)
        # The cursor stays; the page carries the dead letter only (an unsaved start stays the start).
        return Page(records=[record], cursor=cursor if cursor is not None else {}, has_more=False)

    def _beyond(self, exc: PageUnreadable) -> tuple[dict | None, str]:
        """The position after the poisoned record, if it is safe to go there: the system serves
        a readable page there or a little further on. A transient failure propagates."""
        if exc.next_cursor is None:
            return None, "the position after it cannot be told without reading it"
        probe = exc.next_cursor
        for _ in range(LOOKAHEAD):
            try:
                self.source.fetch(probe, 1)   # read only to see that it reads; the next poll takes it
                return exc.next_cursor, ""
            except PageUnreadable as further:
                if further.next_cursor is None:
                    break
                probe = further.next_cursor
        return None, "the records after it cannot be read either, so stepping past it cannot be told safe"
