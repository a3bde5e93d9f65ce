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
  reorder_materials  true, or the share of cases (0..1), whose materials list (申请材料) comes in
                  another order: the same items, never the same order (a list of one cannot move);
                  every row of a case shows the same new order
Every choice is seeded, so a run is repeatable.

`apply` is told each system's own field names by `keys`: the step code, event time, case
number and step number, the step(s) whose record "extra event" repeats, and "materials",
the dotted path of the materials list in a row (a list, or JSON text of one as a 前置库
column holds it; default "materials"). A row without that list is left as it is."""
from __future__ import annotations

import copy
import json
import random
from datetime import datetime, timedelta

KNOWN = {"status_code", "utc_times", "rename_field", "drop_field", "missing_rate", "extra_rate", "lag_seconds",
         "reorder_materials", "seed"}


def validate(drift: dict) -> dict:
    unknown = set(drift) - KNOWN
    if unknown:
        raise ValueError(f"unknown drift keys {sorted(unknown)}; known: {sorted(KNOWN)}")
    share = drift.get("reorder_materials", False)
    if not isinstance(share, bool) and not (isinstance(share, (int, float)) and 0 <= share <= 1):
        raise ValueError("reorder_materials must be true, false or a share between 0 and 1")
    # Checked here, not at the next load: a bad value must be a 400 now, never a 500 later.
    for key in ("missing_rate", "extra_rate"):
        if key in drift and not (_number(drift[key]) and 0 <= drift[key] <= 1):
            raise ValueError(f"{key} must be a share between 0 and 1, got {drift[key]!r}")
    if "lag_seconds" in drift and not (_number(drift["lag_seconds"]) and drift["lag_seconds"] >= 0):
        raise ValueError(f"lag_seconds must be a number of seconds, 0 or more, got {drift['lag_seconds']!r}")
    for key, kind in (("status_code", dict), ("rename_field", dict), ("drop_field", list)):
        if key in drift and not isinstance(drift[key], kind):
            raise ValueError(f"{key} must be a {'mapping' if kind is dict else 'list'}, got {drift[key]!r}")
    if "seed" in drift and (not isinstance(drift["seed"], int) or isinstance(drift["seed"], bool)):
        raise ValueError(f"seed must be an integer, got {drift['seed']!r}")
    return drift


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _set_path(row: dict, path: str, value) -> None:
    parts = path.split(".")
    cur = row
    for p in parts[:-1]:
        cur = cur.setdefault(p, {})
    cur[parts[-1]] = value


COMMERCE_KEYS = {"step": "eventCode", "time": "eventTime", "case": "applyNo", "seq": "stepNo", "extra_step": "02"}


def _get_path(row: dict, path: str):
    cur = row
    for p in path.split("."):
        if not isinstance(cur, dict) or p not in cur:
            return None
        cur = cur[p]
    return cur


def reorder(items: list, rng: random.Random) -> list:
    """The same items in another order. A list whose items are all alike (or of fewer than
    two) has no other order and comes back as it is."""
    out = list(items)
    if len({json.dumps(i, sort_keys=True, ensure_ascii=False, default=str) for i in items}) < 2:
        return out
    while out == items:
        rng.shuffle(out)
    return out


def _reorder_share(drift: dict) -> float:
    value = drift.get("reorder_materials")
    if value is True:
        return 1.0
    if value in (None, False):
        return 0.0
    return float(value)


def reorder_materials(row: dict, path: str, case, drift: dict) -> None:
    """Reorder the materials list at `path` in place, if the row carries one and its case is
    drawn. Seeded by (seed, case) alone, so every row of a case gets the same order, and
    whatever other drift is set draws the same choices as without this one."""
    share = _reorder_share(drift)
    if share <= 0:
        return
    value = _get_path(row, path)
    as_text = isinstance(value, str)
    if as_text:
        try:
            value = json.loads(value)
        except ValueError:
            return
    if not isinstance(value, list) or len(value) < 2:
        return
    seed = drift.get("seed", 7)
    if random.Random(f"{seed}:{case}:drawn").random() >= share:
        return
    new = reorder(value, random.Random(f"{seed}:{case}:order"))
    _set_path(row, path, json.dumps(new, ensure_ascii=False) if as_text else new)


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
    keys names the system's own fields (see the module's docstring); "extra_step" may be one
    step code or several. A repeated step keeps the type of the system's step number
    (text stays text)."""
    if not drift:
        return rows
    k = keys or COMMERCE_KEYS
    step_key, time_key, case_key = k["step"], k["time"], k["case"]
    last_seq: dict = {}
    for row in rows:
        last_seq[row.get(case_key)] = max(last_seq.get(row.get(case_key), 0), int(row.get(k["seq"], 0)))
    rng = random.Random(drift.get("seed", 7))
    extra_steps = k["extra_step"] if isinstance(k["extra_step"], (tuple, list, set, frozenset)) else (k["extra_step"],)
    materials = k.get("materials", "materials")
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
        reorder_materials(row, materials, row.get(case_key), drift)
        out.append(row)
        case = row.get(case_key)
        if (row.get(step_key) in extra_steps and case not in extra_cases
                and rng.random() < float(drift.get("extra_rate", 0))):
            extra_cases.add(case)
            twin = copy.deepcopy(row)
            seq = last_seq[case] + 1                # the decision recorded again, as one more step
            twin[k["seq"]] = str(seq) if isinstance(row.get(k["seq"]), str) else seq
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
