"""Readiness for cutover, per department, from the stored verdicts and the criteria in
config/dualtrack.yaml. Judged when asked (not when compared), so a new adjudication,
a noise field or an expiry changes the answer at once for the whole window."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone

from . import adjudication
from .config import DepartmentConfig, load_config


@dataclass
class Assessment:
    """One stored mismatch or missing verdict, in the light of what is known now."""
    excused: bool                 # every difference is noise or an accepted/policy adjudication
    critical_open: list[str] = field(default_factory=list)      # critical fields nobody classified
    critical_defects: list[str] = field(default_factory=list)   # critical fields classified new_defect


@dataclass
class Readiness:
    department: str
    ready: bool
    reasons: list[str]            # why not (empty when ready)
    checks: list[dict]            # each criterion: {name, ok, value, required}
    figures: dict

    def to_dict(self) -> dict:
        return asdict(self)


def noise_fields(store, department: str, dept: DepartmentConfig) -> set[tuple[str, str]]:
    """(kind, field) pairs found noisy. Noise in a critical field is shown but never
    silences it: a re-run that changes a status may be a real correction."""
    return {(n["kind"], n["field"]) for n in store.dualtrack_noise(department)
            if not dept.rules(n["kind"]).is_critical(n["field"])}


def assess(row: dict, dept: DepartmentConfig, adjudications: list[dict], noise: set) -> Assessment:
    kind = row["kind"]
    if row["verdict"] in adjudication.MISSING_FIELDS:
        a = adjudication.find(adjudications, kind, {"field": row["verdict"]})
        return Assessment(excused=a is not None and a["classification"] in adjudication.EXCUSING)
    rules = dept.rules(kind)
    out = Assessment(excused=True)
    for diff in row["fields"] or []:
        a = adjudication.find(adjudications, kind, diff)
        cls = a["classification"] if a else None
        if (kind, diff["field"]) not in noise and cls not in adjudication.EXCUSING:
            out.excused = False
        if rules.is_critical(diff["field"]):
            if cls is None:
                out.critical_open.append(diff["field"])
            elif cls == "new_defect":
                out.critical_defects.append(diff["field"])
    return out


def readiness(store, settings: dict, department: str, now: datetime | None = None) -> Readiness:
    now = now or datetime.now(timezone.utc)
    dept = load_config(settings).department(department)
    crit = dept.criteria
    since = now - timedelta(days=crit.window_days)
    volumes = store.dualtrack_volumes(department, since=since)
    v = volumes["verdicts"]
    adjs = adjudication.active(store.dualtrack_adjudications(department), now)
    noise = noise_fields(store, department, dept)
    excused_mismatch = excused_missing = 0
    critical_open: dict[str, int] = {}
    critical_defects: dict[str, int] = {}
    for row in store.dualtrack_comparisons(department=department, since=since,
                                           verdicts=("mismatch", "missing_old", "missing_new")):
        a = assess(row, dept, adjs, noise)
        if a.excused:
            if row["verdict"] == "mismatch":
                excused_mismatch += 1
            else:
                excused_missing += 1
        for f in a.critical_open:
            critical_open[f] = critical_open.get(f, 0) + 1
        for f in a.critical_defects:
            critical_defects[f] = critical_defects.get(f, 0) + 1
    pairs = v.get("match", 0) + v.get("mismatch", 0)
    matched = v.get("match", 0) + excused_mismatch
    missing = v.get("missing_old", 0) + v.get("missing_new", 0) - excused_missing
    open_critical = sum(critical_open.values()) + sum(critical_defects.values())
    rate = matched / pairs if pairs else None
    figures = {
        "window_days": crit.window_days, "since": since.isoformat(), "pairs": pairs, "cases": volumes["cases"],
        "match": v.get("match", 0), "mismatch": v.get("mismatch", 0), "excused_mismatch": excused_mismatch,
        "match_rate": rate, "missing_old": v.get("missing_old", 0), "missing_new": v.get("missing_new", 0),
        "missing_unexcused": missing, "noise": v.get("noise", 0), "waiting": volumes["waiting"],
        "unadjudicated_critical": critical_open, "new_defects_critical": critical_defects,
    }
    checks = [
        {"name": "match_rate", "ok": rate is not None and rate >= crit.min_match_rate, "value": rate,
         "required": crit.min_match_rate},
        {"name": "pairs", "ok": pairs >= crit.min_pairs, "value": pairs, "required": crit.min_pairs},
        {"name": "critical", "ok": open_critical <= crit.max_unadjudicated_critical, "value": open_critical,
         "required": crit.max_unadjudicated_critical},
        {"name": "missing", "ok": missing <= crit.max_missing, "value": missing, "required": crit.max_missing},
    ]
    reasons = [_reason(c, figures) for c in checks if not c["ok"]]
    return Readiness(department, not reasons, reasons, checks, figures)


def _reason(check: dict, f: dict) -> str:
    name, value, required = check["name"], check["value"], check["required"]
    if name == "match_rate":
        if value is None:
            return f"no pairs compared in the last {f['window_days']:g} days"
        return f"match rate {value:.3%} is below {required:.3%} ({f['match']} + {f['excused_mismatch']} excused " \
               f"of {f['pairs']} pairs)"
    if name == "pairs":
        return f"{value} pairs compared in the last {f['window_days']:g} days, fewer than {required}"
    if name == "critical":
        parts = [f"{k} ×{n}" for k, n in sorted(f["unadjudicated_critical"].items())]
        parts += [f"{k} ×{n} (new_defect)" for k, n in sorted(f["new_defects_critical"].items())]
        return f"{value} open mismatch(es) in critical fields: {', '.join(parts)}"
    return f"{value} missing twin(s) (missing_old {f['missing_old']}, missing_new {f['missing_new']}), " \
           f"at most {required} allowed"
