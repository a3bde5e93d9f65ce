"""The report as plain data: every figure per department, category and level, against the
seed's target, with numerator and denominator, the month-on-month change, a ranking of
departments, the items that drag it down, and the overdue cases.

The counting is the store's SQL (hub/store/supervision.py), at the grain (department,
category, level); here the grains are only added up, numerators with numerators."""
from __future__ import annotations

from datetime import datetime, timezone

from hub.model.common import SHANGHAI
from hub.model.service_item import CATEGORY_LABELS

from . import targets as T

LEVEL_LABELS = {"province": "省级", "city": "市级", "county": "县(区)级", "town": "乡镇(街道)级"}


def dept_label(name: str) -> str:
    try:
        from hub.adapter.departments import label
        return label(name)
    except Exception:   # an uninstalled department still gets a report line
        return name


def parse_month(month: str) -> tuple[int, int]:
    try:
        y, m = (int(x) for x in month.split("-"))
        if not (1 <= m <= 12 and 1900 < y < 3000):
            raise ValueError
    except ValueError:
        raise ValueError(f"--month must be YYYY-MM, got {month!r}") from None
    return y, m


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """[first instant, first instant of the next month) in Asia/Shanghai."""
    y, m = parse_month(month)
    start = datetime(y, m, 1, tzinfo=SHANGHAI)
    end = datetime(y + (m == 12), m % 12 + 1, 1, tzinfo=SHANGHAI)
    return start, end


def previous_month(month: str) -> str:
    y, m = parse_month(month)
    return f"{y - (m == 1):04d}-{(m - 2) % 12 + 1:02d}"


def _rate(num: int, den: int) -> float | None:
    return None if den == 0 else num / den


def _roll(rows: list[dict], key: str) -> dict[str, tuple[int, int]]:
    out: dict[str, list[int]] = {}
    for r in rows:
        acc = out.setdefault(r[key], [0, 0])
        acc[0] += r["numerator"]
        acc[1] += r["denominator"]
    return {k: (n, d) for k, (n, d) in out.items()}


def _line(name, label, cur, prev, tgt) -> dict:
    num, den = cur
    rate = _rate(num, den)
    prate = None if prev is None else _rate(*prev)
    return {
        "key": name, "label": label, "numerator": num, "denominator": den, "rate": rate,
        "previous_rate": prate,
        "change": None if rate is None or prate is None else rate - prate,
        "meets_target": None if rate is None else rate >= tgt - 1e-12,
    }


def _counts(store, figure: str, month: str, level: str | None, exclude: bool) -> list[dict]:
    if T.FIGURES[figure]["kind"] == "item":
        return store.item_figure_counts(figure, level=level, exclude_exception=exclude)
    start, end = month_bounds(month)
    return store.case_figure_counts(figure, start, end, level=level, exclude_exception=exclude)


def figure(store, key: str, month: str, level: str | None = None, *, laggards: int = 10) -> dict:
    spec = T.FIGURES[key]
    tgt = T.target(key, month)
    exclude = tgt >= 1.0
    rows = _counts(store, key, month, level, exclude)
    # The catalogue keeps no history: an item figure's previous month is today's catalogue
    # again (no change shown); a case figure's is recounted from last month's cases.
    prev_rows = _counts(store, key, previous_month(month), level, exclude) if spec["kind"] == "case" else None
    total = (sum(r["numerator"] for r in rows), sum(r["denominator"] for r in rows))
    prev_total = None if prev_rows is None else (sum(r["numerator"] for r in prev_rows),
                                                 sum(r["denominator"] for r in prev_rows))
    out = {
        "key": key, "label": spec["label"], "en": spec["en"], "kind": spec["kind"],
        "definition": {"numerator": spec["numerator"], "denominator": spec["denominator"],
                       "exception": T.EXCEPTION_NOTE if exclude else None},
        "target": tgt, "excludes_approval_exception": exclude,
        "overall": _line("all", "全市" if level is None else LEVEL_LABELS.get(level, level), total, prev_total, tgt),
        "rows": rows,   # the grain the SQL counted: an auditor's recount starts here
    }
    for dim, labeller in (("department", dept_label), ("category", CATEGORY_LABELS.get),
                          ("level", LEVEL_LABELS.get)):
        cur = _roll(rows, dim)
        prev = None if prev_rows is None else _roll(prev_rows, dim)
        lines = [_line(k, labeller(k) or k, v, None if prev is None else prev.get(k, (0, 0)), tgt)
                 for k, v in sorted(cur.items())]
        out[f"by_{dim}"] = lines
    ranked = sorted((ln for ln in out["by_department"] if ln["rate"] is not None),
                    key=lambda ln: (-ln["rate"], -ln["denominator"], ln["key"]))
    for i, ln in enumerate(ranked, 1):
        ln["rank"] = i
    if spec["kind"] == "item":
        lag = store.item_figure_laggards(key, level=level, exclude_exception=exclude, limit=laggards)
    else:
        start, end = month_bounds(month)
        lag = store.case_figure_laggards(key, start, end, level=level, exclude_exception=exclude, limit=laggards)
    for r in lag:
        r["rate"] = _rate(r["numerator"], r["denominator"])
        r["missed"] = r["denominator"] - r["numerator"]
        r["department_label"] = dept_label(r["department"])
    out["laggards"] = lag
    return out


def overdue(store, month: str, level: str | None = None, *, cases: int = 50) -> dict:
    start, end = month_bounds(month)
    pstart, pend = month_bounds(previous_month(month))
    cur = {r["department"]: r for r in store.overdue_counts(start, end, level=level)}
    prev = {r["department"]: r for r in store.overdue_counts(pstart, pend, level=level)}
    lines = []
    for dept in sorted(cur):
        r = cur[dept]
        p = prev.get(dept)
        rate = _rate(r["numerator"], r["denominator"])
        prate = None if p is None else _rate(p["numerator"], p["denominator"])
        lines.append({"key": dept, "label": dept_label(dept), "numerator": r["numerator"],
                      "denominator": r["denominator"], "rate": rate, "previous_rate": prate,
                      "change": None if rate is None or prate is None else rate - prate})
    for i, ln in enumerate(sorted(lines, key=lambda ln: (ln["rate"], ln["key"])), 1):
        ln["rank"] = i   # 1 = fewest overdue
    listed = store.overdue_cases(start, end, level=level, limit=cases)
    for c in listed:
        c["department_label"] = dept_label(c["department"])
    return {"label": T.OVERDUE["label"],
            "definition": {"numerator": T.OVERDUE["numerator"], "denominator": T.OVERDUE["denominator"]},
            "by_department": lines, "cases": listed}


def build_report(store, month: str, level: str | None = None) -> dict:
    if level not in (None, "city", "county"):
        raise ValueError(f"--level must be city or county, got {level!r}")
    parse_month(month)
    return {
        "title": f"{month} 一网通办月度通报",
        "month": month, "level": level, "previous_month": previous_month(month),
        "generated_at": datetime.now(timezone.utc).isoformat(),
        "figures": [figure(store, key, month, level) for key in T.ORDER],
        "overdue": overdue(store, month, level),
    }
