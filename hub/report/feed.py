"""The report's case rows fed from the hub's own flow: each canonical case event a source routes
onward is folded into its case's row of ``supervision_cases`` (hub/store/supervision.py), in the
same store transaction as the message log that says it was routed (hub/runtime/source_worker.py).

Why there and not in a consumer of its own: the log row and the report row then say the same
thing by construction (a page the store refused is in neither, a page re-read after a crash is
folded again to the same row), and it costs one SELECT and one upsert per page instead of a
queue, a consumer and its lag. A failure here is taken back alone (a savepoint) and logged: the
report may lag, the delivery never stops for it.

A source may read a case's steps out of order (hub/runtime/sequence.py), so every rule is one an
order does not change: times are the earliest seen, visits the most seen (a count so far), the
status that of the highest step (withdrawn stays), and the other facts the latest step's that
says them. A fact no step says stays unknown (NULL), and the report counts the case as not
meeting the figure that needs it."""
from __future__ import annotations

import logging
import time

from .facts import add_working_days

log = logging.getLogger("tongban.report.feed")

# the steps that end a case (办结): the first of them is its completion. A department that
# ends with 发证 (commerce's 03) sends no 办结 of its own.
END_TYPES = ("completed", "certificate_issued")


def _least(*values):
    known = [v for v in values if v is not None]
    return min(known) if known else None


def event_fact(payload) -> dict:
    """What one case event (hub.model.case.CaseEvent) says of its case."""
    required = [m for m in payload.materials if m.required]
    return {
        "case_no": payload.case_no, "department": str(payload.department), "item_code": payload.item_code,
        "sequence": payload.sequence, "type": str(payload.type), "occurred_at": payload.occurred_at,
        "channel": None if payload.channel is None else str(payload.channel),
        "submitted_at": payload.submitted_at, "visits": payload.visits, "promised_days": payload.promised_days,
        "one_window": payload.one_window,
        "materials": None if not required else (len(required), sum(1 for m in required if m.provided),
                                                sum(1 for m in required if m.reused)),
    }


def fold(row: dict | None, ev: dict, item_days: int | None = None) -> dict:
    """The case's row after one more event; ``item_days``: the catalogue's promised days of
    its item, used while the case says none of its own."""
    row = dict(row or {"case_no": ev["case_no"], "channel": None, "visits": None, "promised_days": None,
                       "one_window": None, "materials_required": 0, "materials_provided": 0,
                       "materials_reused": 0, "accepted_at": None, "completed_at": None, "status": None})
    row["department"] = row.get("department") or ev["department"]
    row["item_code"] = row.get("item_code") or ev["item_code"] or ""
    last = row.get("last_sequence") or 0
    newest = ev["sequence"] >= last
    for key in ("channel", "promised_days"):
        if ev[key] is not None and (newest or row.get(key) is None):
            row[key] = ev[key]
    if ev["one_window"] is not None and (newest or row.get("one_window") is None):
        row["one_window"] = int(ev["one_window"])
    if ev["visits"] is not None:
        row["visits"] = max(ev["visits"], row.get("visits") or 0)
    if ev["materials"] is not None and (newest or not row.get("materials_required")):
        row["materials_required"], row["materials_provided"], row["materials_reused"] = ev["materials"]
    # every step comes after the application: the earliest time seen is the best word on it
    row["submitted_at"] = _least(row.get("submitted_at"), ev["submitted_at"], ev["occurred_at"])
    if ev["type"] == "accepted":
        row["accepted_at"] = _least(row.get("accepted_at"), ev["occurred_at"])
    if ev["type"] in END_TYPES:
        row["completed_at"] = _least(row.get("completed_at"), ev["occurred_at"])
    if row.get("status") == "withdrawn" or ev["type"] == "withdrawn":
        row["status"] = "withdrawn"
    elif newest or not row.get("status"):
        row["status"] = ev["type"]
    row["last_sequence"] = max(last, ev["sequence"])
    days = row.get("promised_days") if row.get("promised_days") is not None else item_days
    row["due_at"] = add_working_days(row["accepted_at"], days) \
        if row.get("accepted_at") is not None and days is not None else None
    return row


class CaseFeed:
    """Called by the source worker with the envelopes of a page it routed onward, inside the
    page's store transaction."""

    def __init__(self, store, refresh_seconds: float = 30.0):
        self.store = store
        self.refresh_seconds = refresh_seconds
        self._days: dict[str, int | None] = {}
        self._loaded_at = 0.0

    def _item_days(self) -> dict[str, int | None]:
        if time.monotonic() - self._loaded_at > self.refresh_seconds:
            self._days = self.store.catalogue_promised_days()
            self._loaded_at = time.monotonic()
        return self._days

    def __call__(self, envelopes) -> int:
        events = [event_fact(e.payload) for e in envelopes if e.kind == "case_event"]
        if not events:
            return 0
        days = self._item_days()
        events.sort(key=lambda ev: (ev["case_no"], ev["sequence"]))

        def merge(stored: dict[str, dict]) -> list[dict]:
            for ev in events:
                stored[ev["case_no"]] = fold(stored.get(ev["case_no"]), ev, days.get(ev["item_code"] or ""))
            return [stored[c] for c in dict.fromkeys(ev["case_no"] for ev in events)]

        try:
            return self.store.merge_case_facts(sorted({ev["case_no"] for ev in events}), merge)
        except Exception as exc:   # the report lags; the page, its log and its delivery go on
            log.error("report feed: %d case events not folded into the report's rows (%s: %s)",
                      len(events), type(exc).__name__, exc)
            return 0
