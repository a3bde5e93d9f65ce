"""The legacy enterprise-registration system of 市场监督管理局 (企业登记), REST/JSON.

It exposes a change feed of case events in its own vocabulary. The feed is keyed by
(updatedAt, eventId), the way such systems are really polled: a timestamp alone
repeats or skips rows written in the same instant, an id alone misses updated rows."""
from __future__ import annotations

import bisect
import json
import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from . import commerce_applications, drift
from .base import HttpError, Request, Response, SimServer, json_response, list_response, load_request
from .commerce_data import CaseFactory
from .step_order import STEP_ORDERS, reorder_steps

SHANGHAI = ZoneInfo("Asia/Shanghai")
MAX_PAGE = 500
MAX_LOAD = 100_000


def parse_since(text: str) -> datetime:
    """The cursor timestamp as the feed compares it: naive Shanghai local time."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise HttpError(400, "updatedSince must be ISO-8601, e.g. 2026-03-05T08:00:00.000001 "
                             "(URL-encode a '+' offset as %2B)", field="updatedSince") from None
    if value.tzinfo is not None:
        value = value.astimezone(SHANGHAI).replace(tzinfo=None)
    return value


def int_param(query: dict, name: str, default: int, low: int) -> int:
    raw = query.get(name, "")
    if raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise HttpError(400, f"{name} must be an integer", field=name) from None
    if value < low:
        raise HttpError(400, f"{name} must be >= {low}", field=name)
    return value


def poisoned_page(items: list[dict], has_more: bool, key: str, poisoned: set) -> bytes:
    """A feed page as a system with a hand-rolled JSON writer sends it when a record holds a
    character it does not escape (a raw TAB a clerk pasted): a page no strict JSON parser reads."""
    parts = []
    for item in items:
        text = json.dumps(item, ensure_ascii=False)
        parts.append('{"remark": "\t", ' + text[1:] if item.get(key) in poisoned else text)
    return ('{"items": [' + ", ".join(parts) + '], "hasMore": ' + ("true" if has_more else "false") + "}").encode()


class CommerceSim(SimServer):
    name = "commerce"
    default_drift: dict = {}


    def setup_routes(self) -> None:
        self.route("GET", "/api/v1/changes", self.changes)
        self.route("POST", "/_admin/load", self.admin_load)
        self.route("POST", "/_admin/release-withheld", self.admin_release_withheld)
        self.route("GET", "/_admin/events", self.admin_events)
        self.route("GET", "/_admin/cases", self.admin_cases)
        commerce_applications.register(self)
        self.route("POST", "/_admin/drift", self.admin_drift)
        self.route("POST", "/_admin/poison", self.admin_poison)

    def reset_state(self) -> None:
        self.factory = CaseFactory(random.Random(self.seed))
        self.cases: list[dict] = []
        self.events: list[dict] = []
        self.keys: list[tuple[datetime, int]] = []  # parallel to events, for bisect
        self.next_event_id = 1
        self.last_updated = datetime.min
        self.applications: dict[str, dict] = {}   # platform 申办流水号 -> what arrived
        self.visible_at: list[datetime] = []       # parallel to events: when each row shows in the feed
        self.drift: dict = dict(self.default_drift)
        self.poisoned: set[int] = set()             # eventIds the feed writes out broken
        self.withheld: list[dict] = []              # steps kept back by load(withhold_step=...)
        self._rng = random.Random(self.seed)

    # --- writing -------------------------------------------------------------------
    def _stamp(self) -> datetime:
        # Strictly increasing even when the clock stands still or steps back (NTP).
        now = datetime.now(SHANGHAI).replace(tzinfo=None)
        if now <= self.last_updated:
            now = self.last_updated + timedelta(microseconds=1)
        self.last_updated = now
        return now

    def load(self, cases: int, bad: int = 0, step_order: str = "in_order", withhold_step: int | None = None,
             withhold_cases: int = 0) -> dict:
        """Create `cases` good and `bad` broken-USCC cases; their events go to the feed
        interleaved in business-time order, each case's steps in order unless `step_order`
        says otherwise (reversed, or shuffled: a system that writes a case's steps out of
        order); `withhold_step` of the first `withhold_cases` cases is kept back until
        POST /_admin/release-withheld (a step written late, or never)."""
        with self.lock:
            made = [self.factory.case(bad=False) for _ in range(cases)]
            made += [self.factory.case(bad=True) for _ in range(bad)]
            events = [e for _, evs in made for e in evs]
            events.sort(key=lambda e: (e["_at"], e["stepNo"]))
            for event in events:
                del event["_at"]
            events = reorder_steps(events, step_order, self._rng)
            held = {c["applyNo"] for c, _ in made[:withhold_cases]} if withhold_step else set()
            self.withheld += [e for e in events if e["applyNo"] in held and e["stepNo"] == withhold_step]
            events = [e for e in events if not (e["applyNo"] in held and e["stepNo"] == withhold_step)]
            if self.drift:
                events = drift.apply(events, self.drift)
            self._append(events)
            for case, evs in made:
                case["eventIds"] = [e["eventId"] for e in evs if "eventId" in e]
                self.cases.append(case)
        return {"created": cases,
                "applyNos": [c["applyNo"] for c, _ in made[:cases]],
                "bad": [c["applyNo"] for c, _ in made[cases:]]}

    def release_withheld(self) -> dict:
        with self.lock:
            events, self.withheld = self.withheld, []
            self._append(events)
        return {"released": [{"applyNo": e["applyNo"], "stepNo": e["stepNo"], "eventId": e["eventId"]}
                             for e in events]}

    def _append(self, events: list[dict]) -> None:
            for event in events:
                updated = self._stamp()
                ordered = {"eventId": self.next_event_id, **event,
                           "updatedAt": updated.isoformat(timespec="microseconds")}
                event.clear()
                event.update(ordered)  # same dict object, so the case can list it
                self.keys.append((updated, self.next_event_id))
                shows = updated + timedelta(seconds=float(self.drift.get("lag_seconds", 0)))
                self.visible_at.append(max(shows, self.visible_at[-1]) if self.visible_at else shows)
                self.events.append(event)
                self.next_event_id += 1

    # --- routes --------------------------------------------------------------------
    def changes(self, req: Request) -> Response:
        since_text = req.query.get("updatedSince", "")
        since = parse_since(since_text) if since_text.strip() else datetime.min
        after_id = int_param(req.query, "afterId", 0, 0)
        size = min(int_param(req.query, "pageSize", 100, 1), MAX_PAGE)
        with self.lock:
            start = bisect.bisect_right(self.keys, (since, after_id))
            end = min(start + size, len(self.events))
            # A lagging system shows a row only once its lag has passed; rows are in
            # write order, so the first invisible one ends the page.
            now = datetime.now(SHANGHAI).replace(tzinfo=None)
            visible = bisect.bisect_right(self.visible_at, now, start, end)
            items = self.events[start:visible]
            has_more = visible < len(self.events) and visible == end
            poisoned = self.poisoned & {e["eventId"] for e in items}
        if poisoned:
            return Response(200, poisoned_page(items, has_more, "eventId", poisoned))
        return json_response({"items": items, "hasMore": has_more})

    def admin_load(self, req: Request) -> Response:
        body, cases, bad = load_request(req, MAX_LOAD)
        order = body.get("step_order", "in_order")
        if order not in STEP_ORDERS:
            raise HttpError(400, f"step_order must be one of {', '.join(STEP_ORDERS)}", field="step_order")
        step, held = body.get("withhold_step"), body.get("withhold_cases", 0)
        for key, value in (("withhold_step", step), ("withhold_cases", held)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise HttpError(400, f"{key} must be a non-negative integer", field=key)
        return json_response(self.load(cases, bad, order, step, held))

    def admin_release_withheld(self, req: Request) -> Response:
        return json_response(self.release_withheld())

    def admin_drift(self, req: Request) -> Response:
        return json_response(drift.set_drift(self, req.json()))

    def admin_poison(self, req: Request) -> Response:
        """Fault injection: {"eventIds": [...]} makes the feed write those events out broken, so
        that every page holding one cannot be read; {"eventIds": []} mends them."""
        body = req.json()
        ids = body.get("eventIds") if isinstance(body, dict) else None
        if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            raise HttpError(400, "eventIds must be a list of integers", field="eventIds")
        with self.lock:
            self.poisoned = set(ids)
        return json_response({"poisoned": sorted(ids)})

    def admin_events(self, req: Request) -> Response:
        with self.lock:
            return list_response(list(self.events))

    def admin_cases(self, req: Request) -> Response:
        with self.lock:
            return list_response(list(self.cases))


class CommerceNewSim(CommerceSim):
    """The cloud copy of the registration system for the dual-track period: the same cases
    as the old one (same seed), with the drift set by POST /_admin/drift."""
    name = "commerce_new"
