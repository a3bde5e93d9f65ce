"""Pulls the change feed of the 投资项目审批 system through QueryProjectChanges.

The cursor is the last (updateTime, changeId) pair read: the stamp has whole seconds only,
so the id tells apart the many changes written in one second. A failed page is asked for
again a few times (the query only reads, so repeating it is harmless); after that the hub's
supervisor backs off and the next poll starts again from the saved checkpoint.

An answer that came but cannot be read (a cut-off envelope, bytes or characters XML cannot
hold, a change the schema refuses) is raised as PageUnreadable with its bytes: the source
worker asks for smaller pages, so the changes before the bad one flow, and dead-letters a page
of one that stays unreadable (hub/runtime/unreadable.py). It can step past that change when
the broken answer still names its position: changeId and updateTime come first in a
ChangeRecord (the schema's order), so a cut or a bad character further on leaves them intact
(records.position_in). Where even they are lost the feed is held there, visibly, until the
system serves the change readably."""
from __future__ import annotations

from tenacity import retry, retry_if_exception, stop_after_attempt, wait_exponential

from hub.adapter import DEFAULT_MAX_RECORD_BYTES, Page, PageUnreadable, Source, SourceUnavailable

from .client import CallFailed, SoapClient
from .records import cursor_of, decode, position_in

START = {"updatedSince": "", "afterId": 0}


def _transient(exc: BaseException) -> bool:
    return isinstance(exc, CallFailed) and exc.transient


class NdrcSource(Source):
    def __init__(self, wsdl: str, timeout: float = 10.0, attempts: int = 3,
                 max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES):
        self.client = SoapClient(wsdl, timeout)
        self.max_record_bytes = max_record_bytes
        self._query = retry(retry=retry_if_exception(_transient), stop=stop_after_attempt(attempts),
                            wait=wait_exponential(multiplier=0.1, max=1.0), reraise=True)(self._query_once)

    def _query_once(self, cursor: dict, limit: int):
        return self.client.call("QueryProjectChanges", updatedSince=cursor["updatedSince"] or None,
                                afterId=int(cursor["afterId"]), pageSize=limit)

    def fetch(self, cursor: dict | None, limit: int) -> Page:
        cursor = cursor or START
        try:
            result = self._query(cursor, limit)
        except CallFailed as exc:
            if exc.raw is not None:
                beyond = position_in(exc.raw, cursor) if limit == 1 else None
                raise PageUnreadable(f"ndrc project approval system: {exc.reason}", exc.raw,
                                     next_cursor=beyond) from None
            raise SourceUnavailable(f"ndrc project approval system: {exc.reason}") from None
        records, last = [], cursor
        for i, change in enumerate(result.change or [], 1):
            record = decode(change, self.max_record_bytes, i)
            records.append(record)
            last = cursor_of(record) or last
        return Page(records=records, cursor=last, has_more=bool(result.hasMore))

    def close(self) -> None:
        self.client.close()
