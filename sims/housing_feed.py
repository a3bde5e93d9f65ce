"""What the hub's source will read from the 前置库, worked out from the rows the simulator
wrote (not from the database the hub changes), for `GET /_admin/events`.

Kept apart from the adapter on purpose: the same rules written twice, so a mistake in
either shows as a difference in verify. The rules, from REFERENCE.md §1:
- only valid rows (SJYXBS=1) become records; an SJYXBS=0 correction copy never does;
- project, unit and 事项办理 rows are context: the reader checks and settles them; only
  one that fails a check (XZQHDM not 6 digits, check 130 NKGSJ not before NJCSJ, an
  invalid 单位 credit code) is handed on, to be dead-lettered;
- a child row is read only once its parent reached SJSCZT=3, so the rows under a
  refused project are held back;
- each 办理详细 / 批复文件 record carries its case (SPSX), project (XM) and 建设单位 (JSDW),
  and BLXH, the step number (invented: steps ranked by the first LSH of their DFSJZJ);
- SPSX.CLQD, the 材料清单 JSON text, goes on as the list it holds; a 事项办理 row whose CLQD
  is not a JSON list of objects fails its check."""
from __future__ import annotations

import json
import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal

from .codes import USCC_ALPHABET, uscc_check
from .housing_schema import TABLES

ORDER = ("SPGL_XMJBXXB", "SPGL_XMDWXXB", "SPGL_XMSPSXBLXXB", "SPGL_XMSPSXBLXXXXB", "SPGL_XMSPSXPFWJXXB",
         "TB_SQHZXXB")
STATE = {"SJYXBS", "SJWXYY", "SJSCZT", "SBYY", "SCSJ", "GXSJ"}
SPSX = ("SPSXBM", "SPSXBBH", "SPBMBM", "SPBMMC", "SLFS", "SXBLSX", "SFYCSL", "CLQD")
XM = ("XMDM", "XMMC", "JSDD")
JSDW = ("DWMC", "DWTYSHXYDM")
_REGION = re.compile(r"^\d{6}$")


def plain(table: str, column: str, value):
    """A column value as the adapter hands it on: text times, exact decimals at column scale."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        scale = TABLES[table].c[column].type.scale or 0
        return format(value.quantize(Decimal(1).scaleb(-scale)), "f")
    return value


def business(table: str, row: dict) -> dict:
    return {"TABLE": table, **{c.name: plain(table, c.name, row.get(c.name))
                               for c in TABLES[table].columns if c.name not in STATE}}


def _index(rows: list[dict], *keys: str) -> dict[tuple, list[dict]]:
    out: dict[tuple, list[dict]] = {}
    for row in rows:
        out.setdefault(tuple(row.get(k) for k in keys), []).append(row)
    return out


def _latest(rows: list[dict] | None) -> dict | None:
    """The last valid version (rows are in LSH order)."""
    valid = [r for r in rows or () if r.get("SJYXBS") == 1]
    return valid[-1] if valid else None


def region_ok(row: dict) -> bool:
    return bool(_REGION.match(str(row.get("XZQHDM") or "")))


def listed(text):
    """CLQD's list, or None when it holds none."""
    try:
        value = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None
    return value if isinstance(value, list) and all(isinstance(m, dict) for m in value) else None


def case_passes(row: dict) -> bool:
    return region_ok(row) and (row.get("CLQD") is None or listed(row["CLQD"]) is not None)


def project_passes(row: dict) -> bool:
    start, end = row.get("NKGSJ"), row.get("NJCSJ")
    return region_ok(row) and (start is None or end is None or start < end)


def unit_passes(row: dict) -> bool:
    code = unicodedata.normalize("NFKC", str(row.get("DWTYSHXYDM") or "")).strip().upper()
    if row.get("DWTYSHXYDM") is None:
        return region_ok(row)
    return region_ok(row) and len(code) == 18 and all(c in USCC_ALPHABET for c in code) \
        and uscc_check(code[:17]) == code[17]


def _steps(details: list[dict]) -> tuple[dict[str, int], int | None]:
    """({DFSJZJ: step number}, step number of the latest 办结(通过)) of one case's detail rows."""
    rank: dict[str, int] = {}
    last_state: dict[str, int] = {}
    for row in details:
        rank.setdefault(row["DFSJZJ"], len(rank) + 1)
        if row.get("SJYXBS") == 1:
            last_state[row["DFSJZJ"]] = row["BLZT"]
    done = [rank[k] for k, blzt in last_state.items() if blzt in (11, 12)]
    return rank, max(done) if done else None


def records(rows: dict[str, list[dict]]) -> list[dict]:
    by_gcdm = _index(rows["SPGL_XMJBXXB"], "GCDM")
    by_xmdm = _index(rows["SPGL_XMJBXXB"], "XMDM")
    owners = _index([u for u in rows["SPGL_XMDWXXB"] if u.get("DWLX") == 1], "XMDM")
    cases = _index(rows["SPGL_XMSPSXBLXXB"], "SPSXSLBM")
    details = _index(rows["SPGL_XMSPSXBLXXXXB"], "SPSXSLBM")

    def released(projects: list[dict] | None) -> bool:
        return any(p.get("SJYXBS") == 1 and project_passes(p) for p in projects or ())

    def released_case(case_no: str) -> bool:
        return any(c.get("SJYXBS") == 1 and case_passes(c) and released(by_gcdm.get((c["GCDM"],)))
                   for c in cases.get((case_no,), ()))

    def context(table: str, row: dict) -> dict:
        spsx = _latest(cases.get((row["SPSXSLBM"],)))
        xm = _latest(by_gcdm.get((row["GCDM"],)))
        dw = _latest(owners.get((xm["XMDM"],))) if xm else None
        rank, done = _steps(details.get((row["SPSXSLBM"],), []))
        step = rank.get(row["DFSJZJ"]) if table == "SPGL_XMSPSXBLXXXXB" else (done or len(rank) or None)
        return {"BLXH": step,
                "SPSX": {k: plain("SPGL_XMSPSXBLXXB", k, spsx[k]) if k != "CLQD" else
                         (listed(spsx[k]) if listed(spsx[k]) is not None else spsx[k]) for k in SPSX}
                if spsx else None,
                "XM": {k: plain("SPGL_XMJBXXB", k, xm[k]) for k in XM} if xm else None,
                "JSDW": {k: dw[k] for k in JSDW} if dw else None}

    out = []
    for table in ORDER:
        for row in rows[table]:
            if row.get("SJYXBS") != 1:
                continue
            if table == "SPGL_XMJBXXB" and project_passes(row):
                continue
            if table == "SPGL_XMDWXXB" and (unit_passes(row) or not released(by_xmdm.get((row["XMDM"],)))):
                continue
            if table == "SPGL_XMSPSXBLXXB" and (case_passes(row) or not released(by_gcdm.get((row["GCDM"],)))):
                continue
            if table in ("SPGL_XMSPSXBLXXXXB", "SPGL_XMSPSXPFWJXXB"):
                if not released_case(row["SPSXSLBM"]):
                    continue
                out.append({**business(table, row), **context(table, row)})
                continue
            out.append(business(table, row))
    return out
