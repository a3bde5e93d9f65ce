"""The dual-track report of one department over a period, as plain data; report_html.py
and report_xlsx.py render it. Values in it are the stored, already masked, ones, and the
whole is masked again on its way out (hub.model.masking.mask): rows stored before the
masking knew a kind of number (credit codes, 15-digit IDs) are shown masked all the same."""
from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone

from hub.adapter.departments import label
from hub.model import SHANGHAI
from hub.model.masking import mask

from . import adjudication
from .config import load_config
from .modes import mode_info
from .readiness import assess, noise_fields, readiness

VERDICT_LABELS = {
    "match": "一致 match", "mismatch": "不一致 mismatch", "missing_old": "旧轨缺失 missing on old",
    "missing_new": "新轨缺失 missing on new", "noise": "噪声 noise",
}
MODE_LABELS = {"off": "未启用 off", "shadow": "影子运行 shadow", "cutover": "已切换 cutover",
               "retired": "旧轨停用 retired"}
LAG_BUCKETS = [(None, 0, "< 0 s (new first)"), (0, 1, "0–1 s"), (1, 5, "1–5 s"), (5, 30, "5–30 s"),
               (30, 60, "30–60 s"), (60, 300, "1–5 min"), (300, 900, "5–15 min"), (900, None, "≥ 15 min")]
EXAMPLES = 3
TOP = 10


def build_report(store, settings: dict, department: str, since: datetime | None = None,
                 until: datetime | None = None, now: datetime | None = None) -> dict:
    """``since`` defaults to the start of the readiness window, ``until`` to now."""
    now = now or datetime.now(timezone.utc)
    dept = load_config(settings).department(department)
    since = since or now - timedelta(days=dept.criteria.window_days)
    rows = store.dualtrack_comparisons(department=department, since=since, until=until)
    adjs = adjudication.active(store.dualtrack_adjudications(department), now)
    noise = noise_fields(store, department, dept)
    totals = Counter(r["verdict"] for r in rows)
    pairs = totals["match"] + totals["mismatch"]
    fields: dict[str, dict] = {}
    missing = defaultdict(Counter)
    missing_examples: list[dict] = []
    lags: list[float] = []
    days: dict[str, Counter] = defaultdict(Counter)
    for r in rows:
        day = r["compared_at"].astimezone(SHANGHAI).date().isoformat()
        days[day][r["verdict"]] += 1
        if r["verdict"] in ("match", "mismatch") and r["lag_seconds"] is not None:
            lags.append(r["lag_seconds"])
        if r["verdict"] in adjudication.MISSING_FIELDS:
            missing[r["kind"]][r["verdict"]] += 1
            if len(missing_examples) < TOP:
                missing_examples.append({k: r[k] for k in ("verdict", "case_no", "kind", "sequence")}
                                        | {"lag_seconds": r["lag_seconds"]})
            continue
        if r["verdict"] != "mismatch":
            continue
        if assess(r, dept, adjs, noise).excused:
            days[day]["excused"] += 1
        for d in _one_per_field(r["fields"]):
            _count_field(fields, r, d, dept, adjs, noise)
    per_field = sorted(fields.values(), key=lambda f: (-f["count"], f["field"]))
    for f in per_field:
        f["rate"] = f["count"] / pairs if pairs else None
    return mask({
        "department": department,
        "department_label": label(department),
        "mode": mode_info(store, settings, department),
        "since": since.isoformat(), "until": (until or now).isoformat(), "generated_at": now.isoformat(),
        "totals": {v: totals.get(v, 0) for v in VERDICT_LABELS} | {"pairs": pairs,
                                                                   "cases": len({r["case_no"] for r in rows})},
        "fields": per_field,
        "top_fields": per_field[:TOP],
        "missing": {k: dict(c) for k, c in sorted(missing.items())},
        "missing_examples": missing_examples,
        "lag": _lag(lags, dept.lag_window),
        "trend": [_day(day, c) for day, c in sorted(days.items())],
        "noise": [{k: n[k] for k in ("kind", "field", "track", "count", "first_seen", "last_seen")}
                  for n in store.dualtrack_noise(department)],
        "adjudications": [{k: a[k] for k in ("kind", "field", "old_value", "new_value", "classification", "actor",
                                             "reason", "created_at", "expires_at")} for a in adjs],
        "readiness": readiness(store, settings, department, now).to_dict(),
        "labels": {"verdicts": VERDICT_LABELS, "modes": MODE_LABELS, "classes": adjudication.LABELS},
    })


def department_summary(store, settings: dict, department: str, now: datetime | None = None) -> dict:
    """The short form (e.g. for `tongban demo --json`): volumes, mismatches by field,
    missing, noise and readiness over the readiness window."""
    r = readiness(store, settings, department, now)
    f = r.figures
    by_field: Counter = Counter()
    for row in store.dualtrack_comparisons(department=department, since=datetime.fromisoformat(f["since"]),
                                           verdicts=("mismatch",)):
        by_field.update({f"{row['kind']}:{d['field']}" for d in row["fields"] or []})
    info = mode_info(store, settings, department)
    return {"mode": info["mode"], "pairs": f["pairs"], "match": f["match"], "mismatch": f["mismatch"],
            "mismatch_by_field": dict(by_field.most_common()), "missing_old": f["missing_old"],
            "missing_new": f["missing_new"], "noise": f["noise"], "waiting": f["waiting"],
            "match_rate": f["match_rate"], "ready": r.ready, "reasons": r.reasons}


def _one_per_field(diffs: list[dict] | None):
    seen = set()
    for d in diffs or []:
        if d["field"] not in seen:
            seen.add(d["field"])
            yield d


def _count_field(fields: dict, row: dict, diff: dict, dept, adjs, noise) -> None:
    name = f"{row['kind']}:{diff['field']}"
    f = fields.get(name)
    if f is None:
        a = adjudication.find(adjs, row["kind"], diff)
        f = fields[name] = {"kind": row["kind"], "field": diff["field"], "count": 0, "examples": [],
                            "critical": dept.rules(row["kind"]).is_critical(diff["field"]),
                            "noise": (row["kind"], diff["field"]) in noise,
                            "classification": a["classification"] if a else None}
    f["count"] += 1
    if len(f["examples"]) < EXAMPLES:
        f["examples"].append({"case_no": row["case_no"], "sequence": row["sequence"], "path": diff["path"],
                              "old": diff.get("old"), "new": diff.get("new"), "absent": diff.get("absent")})


def _lag(values: list[float], window: float) -> dict:
    counts = []
    for lo, hi, label in LAG_BUCKETS:
        n = sum(1 for v in values if (lo is None or v >= lo) and (hi is None or v < hi))
        counts.append({"bucket": label, "count": n})
    s = sorted(values)

    def pct(p: float):
        return s[min(len(s) - 1, int(p * len(s)))] if s else None
    return {"window_seconds": window, "count": len(s), "min": s[0] if s else None, "p50": pct(0.5),
            "p90": pct(0.9), "p99": pct(0.99), "max": s[-1] if s else None, "buckets": counts}


def _day(day: str, c: Counter) -> dict:
    pairs = c["match"] + c["mismatch"]
    rate = (c["match"] + c["excused"]) / pairs if pairs else None
    return {"day": day, **{v: c.get(v, 0) for v in VERDICT_LABELS}, "excused": c["excused"], "pairs": pairs,
            "match_rate": rate}
