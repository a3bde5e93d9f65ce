"""Canonical cases (hub/model/case.py) as the rows the monthly report counts (hub/store/supervision.py)."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from hub.model.case import Case
from hub.model.common import SHANGHAI


def add_working_days(start: datetime, days: int) -> datetime:
    """The end (23:59:59.999999, Asia/Shanghai) of the ``days``-th working day after ``start``:
    Saturdays and Sundays are skipped; public holidays are not known here (a case deadline over
    a holiday is counted early, never late: the report errs towards flagging)."""
    d = start.astimezone(SHANGHAI).date()
    left = days
    while left > 0:
        d += timedelta(days=1)
        if d.weekday() < 5:
            left -= 1
    return datetime.combine(d, time.max, tzinfo=SHANGHAI)


def case_fact(case: Case | dict, item: dict | None = None) -> dict:
    """One supervision row from a case; ``item`` (a catalogue row) gives the promised days
    when the case does not carry its own."""
    if isinstance(case, dict):
        case = Case.model_validate(case)
    promised = case.promised_days
    if promised is None and item is not None:
        promised = item.get("promised_days")
    start = case.accepted_at
    required = [m for m in case.materials if m.required]
    return {
        "case_no": case.case_no,
        "department": case.department,
        "item_code": case.item_code,
        "channel": str(case.channel),
        "status": str(case.status),
        "visits": case.visits,
        "materials_required": len(required),
        "materials_provided": sum(1 for m in required if m.provided),
        "materials_reused": sum(1 for m in required if m.reused),
        "one_window": None if case.one_window is None else int(case.one_window),
        "promised_days": promised,
        "submitted_at": case.submitted_at,
        "accepted_at": case.accepted_at,
        "completed_at": case.completed_at,
        "due_at": add_working_days(start, promised) if start is not None and promised is not None else None,
    }
