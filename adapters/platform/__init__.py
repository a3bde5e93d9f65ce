"""The unified platform's application feed (申办): what citizens and companies submitted
online, pulled by the hub and sent down to the department that owns each item.

The feed is paged by position: afterSeq is the seq of the last application read and seqs are
whole numbers, one per application (the platform numbers them 1, 2, 3...). A page the
platform answers but that cannot be read (not JSON, cut off, no items list) is asked for again
a few times, then raised as PageUnreadable with the body as received; the source worker asks
for smaller pages, so the applications before the bad one flow, and dead-letters a page of
one that stays unreadable (hub/runtime/unreadable.py). For that page of one the position after
it is known without reading it: afterSeq + 1. Stepping there skips nothing else even if seqs
had gaps (no application lies between afterSeq and the unreadable one; with a gap the step
only brings the same record back, to be met again one seq further on)."""
from __future__ import annotations

import requests
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from hub.adapter import (DEFAULT_MAX_RECORD_BYTES, Adapter, CheckResult, ConfigSpec, Field, Page, PageUnreadable,
                         Source, SourceUnavailable, checked, is_html, page_json)


class _Transient(Exception):
    pass


class _Unreadable(_Transient):
    def __init__(self, reason: str, raw: bytes):
        super().__init__(reason)
        self.raw = raw


class PlatformApplicationSource(Source):
    def __init__(self, url: str, timeout: float, max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES):
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.max_record_bytes = max_record_bytes
        self.session = requests.Session()
        self.session.trust_env = False

    @retry(retry=retry_if_exception_type(_Transient), stop=stop_after_attempt(3),
           wait=wait_exponential(multiplier=0.1, max=1.0), reraise=True)
    def _get(self, after: int, limit: int) -> tuple[dict, str, dict[int, str]]:
        try:
            resp = self.session.get(f"{self.url}/api/v1/applications/feed",
                                    params={"afterSeq": after, "pageSize": limit}, timeout=self.timeout)
            if resp.status_code >= 500:
                raise _Transient(f"platform answered HTTP {resp.status_code}")
            resp.raise_for_status()
        except requests.RequestException as exc:
            raise _Transient(f"platform feed unavailable: {exc.__class__.__name__}") from None
        try:
            body, charset, refused = page_json(resp.content, resp.headers.get("Content-Type"))
        except (ValueError, RecursionError) as exc:
            what = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)[:120]
            if is_html(resp.headers.get("Content-Type")):   # a gateway's page, not the feed's
                raise _Transient(f"platform feed unavailable: an HTML page ({what})") from None
            raise _Unreadable(f"platform feed page is not JSON ({what})", resp.content) from None
        if not isinstance(body, dict) or not isinstance(body.get("items"), list):
            raise _Unreadable("platform feed page has no items list", resp.content)
        return body, charset, refused

    def fetch(self, cursor: dict | None, limit: int) -> Page:
        after = int((cursor or {}).get("afterSeq", 0))
        try:
            body, charset, refused = self._get(after, limit)
        except _Unreadable as exc:   # see the module docstring for the step past a page of one
            beyond = {"afterSeq": after + 1} if limit == 1 else None
            raise PageUnreadable(str(exc), exc.raw, next_cursor=beyond) from None
        except _Transient as exc:
            raise SourceUnavailable(str(exc)) from None
        records = []
        for i, item in enumerate(body["items"], 1):
            # A broken item is dead-lettered (stage decode), never skipped or allowed to stop the page.
            key = item.get("applyNo") if isinstance(item, dict) else None
            records.append(checked(item, key, key_name="applyNo", position=i, limit=self.max_record_bytes,
                                   charset=charset, error=refused.get(i - 1)))
            seq = item.get("seq") if isinstance(item, dict) else None
            if isinstance(seq, str) and seq.isdecimal() and seq.isascii() and len(seq) <= 18:
                seq = int(seq)
            if isinstance(seq, int) and not isinstance(seq, bool):   # garbage never moves the cursor
                after = max(after, seq)
        return Page(records=records, cursor={"afterSeq": after}, has_more=bool(body.get("hasMore")))

    def close(self) -> None:
        self.session.close()


class PlatformAdapter(Adapter):
    name = "platform"
    department = "platform"
    system = "platform-applications"
    style = "rest"
    spec = ConfigSpec(fields=(
        Field("url", "base URL of the unified platform", required=True, example="http://127.0.0.1:18082"),
        Field("page_size", "applications fetched per call", type=int, default=100),
        Field("timeout", "seconds before a call counts as failed", type=float, default=10.0),
    ))

    def source(self) -> PlatformApplicationSource:
        return PlatformApplicationSource(self.config["url"], self.config["timeout"], self.config["max_record_bytes"])

    @classmethod
    def simulator(cls):
        from sims.harness import PlatformFeedSimulator   # the simulators are not needed to run the hub
        return PlatformFeedSimulator()

    def check(self) -> CheckResult:
        try:
            resp = requests.get(f"{self.config['url'].rstrip('/')}/api/v1/applications/feed",
                                params={"pageSize": 1}, timeout=self.config["timeout"])
        except requests.RequestException as exc:
            return CheckResult(False, f"cannot reach {self.config['url']}: {exc.__class__.__name__}")
        return CheckResult(resp.status_code == 200, f"application feed answered HTTP {resp.status_code}")
