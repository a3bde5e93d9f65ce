"""Drift of a "new" instance of a legacy system (the dual-track period's cloud copy).

The new instance is given the same seed as the old one, so it makes the same cases;
this module then changes its rows the ways a migrated system really differs:
  status_code     {"field": "registration.regstate", "step": "02", "value": "2"}: another code at one step
  utc_times       event times written in UTC, naive (a real defect: 8 hours off)
  rename_field    {"operator": "handlerName"}: a field renamed (the old name is then absent)
  drop_field      ["opinion"]: fields no longer sent
  missing_rate    share of rows the new system never produces
  extra_rate      share of cases that get one more step (a decision recorded twice)
  lag_seconds     rows appear in the feed this much later than they are written
Every choice is seeded, so a run is repeatable."""
from __future__ import annotations

import copy
import random
from datetime import datetime, timedelta

KNOWN = {"status_code", "utc_times", "rename_field", "drop_field", "missing_rate", "extra_rate", "lag_seconds",
         "seed"}


def validate(drift: dict) -> dict:
    unknown = set(drift) - KNOWN
    if unknown:
        raise ValueError(f"unknown drift keys {sorted(unknown)}; known: {sorted(KNOWN)}")
    return drift


def _set_path(row: dict, path: str, value) -> None:
    parts = path.split(".")
    cur = row
    for p in parts[:-1]:
        cur = cur.setdefault(p, {})
    cur[parts[-1]] = value


COMMERCE_KEYS = {"step": "eventCode", "time": "eventTime", "case": "applyNo", "seq": "stepNo", "extra_step": "02"}


def _to_utc(text: str) -> str:
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y年%m月%d日 %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y%m%d%H%M%S"):
        try:
            local = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return (local - timedelta(hours=8)).strftime("%Y-%m-%d %H:%M:%S")
    return text


def apply(rows: list[dict], drift: dict, keys: dict | None = None) -> list[dict]:
    """The rows the new instance writes, in order (copies; the input is untouched).
    keys names the system's own fields: step code, event time, case number, step number,
    and the step whose record the "extra event" drift repeats."""
    if not drift:
        return rows
    k = keys or COMMERCE_KEYS
    step_key, time_key, case_key = k["step"], k["time"], k["case"]
    last_seq: dict = {}
    for row in rows:
        last_seq[row.get(case_key)] = max(last_seq.get(row.get(case_key), 0), int(row.get(k["seq"], 0)))
    rng = random.Random(drift.get("seed", 7))
    out = []
    extra_cases: set[str] = set()
    for row in rows:
        if rng.random() < float(drift.get("missing_rate", 0)):
            continue
        row = copy.deepcopy(row)
        sc = drift.get("status_code")
        if sc and row.get(step_key) == sc.get("step"):
            _set_path(row, sc["field"], sc["value"])
        if drift.get("utc_times") and isinstance(row.get(time_key), str):
            row[time_key] = _to_utc(row[time_key])
        for old, new in (drift.get("rename_field") or {}).items():
            if old in row:
                row[new] = row.pop(old)
        for name in drift.get("drop_field") or []:
            row.pop(name, None)
        out.append(row)
        case = row.get(case_key)
        if (row.get(step_key) == k["extra_step"] and case not in extra_cases
                and rng.random() < float(drift.get("extra_rate", 0))):
            extra_cases.add(case)
            twin = copy.deepcopy(row)
            twin[k["seq"]] = last_seq[case] + 1   # the decision recorded again, as one more step
            out.append(twin)
    return out


def set_drift(sim, body) -> dict:
    """POST /_admin/drift for any simulator that applies drift on load."""
    from .base import HttpError
    try:
        sim.drift = validate(dict(body or {}))
    except (TypeError, ValueError) as exc:
        raise HttpError(400, str(exc)) from None
    return {"drift": sim.drift}
