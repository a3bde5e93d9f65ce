"""Adjudication: a handover team's word on a mismatch pattern (department + kind + field,
optionally one value pair), and what each word does to readiness.

  legacy_defect        the old system is wrong; still counts against the match rate
  new_defect           the new system is wrong; counts, and blocks cutover in a critical field
  accepted_difference  a difference both sides accept; stops counting until it expires
  policy_change        the rules changed on purpose; stops counting until it expires

A missing twin is adjudicated with the field ``missing_old`` or ``missing_new``."""
from __future__ import annotations

from datetime import datetime
from fnmatch import fnmatchcase

from hub.adapter.departments import names as departments

CLASSES = ("legacy_defect", "new_defect", "accepted_difference", "policy_change")
EXCUSING = ("accepted_difference", "policy_change")
LABELS = {"legacy_defect": "旧系统缺陷 legacy defect", "new_defect": "新系统缺陷 new defect",
          "accepted_difference": "可接受差异 accepted difference", "policy_change": "政策变更 policy change"}
MISSING_FIELDS = ("missing_old", "missing_new")


def adjudicate(store, *, department: str, kind: str, field: str, classification: str, reason: str, actor: str,
               expires_at: datetime | None = None, old_value: str | None = None,
               new_value: str | None = None) -> int:
    if department not in departments():
        raise ValueError(f"unknown department {department!r} (installed: {', '.join(departments())})")
    if classification not in CLASSES:
        raise ValueError(f"classification must be one of {', '.join(CLASSES)}, got {classification!r}")
    if not field or not kind:
        raise ValueError("adjudicate: kind and field are required")
    if expires_at is not None and expires_at.tzinfo is None:
        raise ValueError("adjudicate: expires_at must be timezone-aware")
    return store.add_dualtrack_adjudication({
        "department": department, "kind": kind, "field": field, "classification": classification,
        "reason": reason, "actor": actor, "expires_at": expires_at,
        "old_value": None if old_value is None else str(old_value),
        "new_value": None if new_value is None else str(new_value),
    })


def active(adjudications: list[dict], now: datetime) -> list[dict]:
    return [a for a in adjudications if a["expires_at"] is None or a["expires_at"] > now]


def find(adjudications: list[dict], kind: str, diff: dict) -> dict | None:
    """The newest adjudication covering one diff (fields may be globs; the value pair, when
    given, is compared with the stored, masked, values as text)."""
    for a in reversed(adjudications):
        if a["kind"] not in ("*", kind) or not fnmatchcase(diff["field"], a["field"]):
            continue
        if a["old_value"] is not None and a["old_value"] != _text(diff.get("old")):
            continue
        if a["new_value"] is not None and a["new_value"] != _text(diff.get("new")):
            continue
        return a
    return None


def _text(value) -> str:
    return "" if value is None else str(value)
