"""From 前置库 rows to the records the mappings read, and the checks the reader of a 前置库
makes before it takes a row (REFERENCE.md §1: the province validates rows and writes
back SJSCZT=2 with SBYY).

A record is the row's business columns (exchange state left out) plus "TABLE". A
办理详细 or 批复文件 record also carries what the mapping needs from elsewhere, joined at
read time from the latest valid rows: SPSX (its 事项办理 row), XM (its project) and JSDW
(the project's 建设单位, DWLX 1), and BLXH, the per-case step number. BLXH is invented
(the standard has no step column): the case's distinct DFSJZJ ranked by their first LSH,
so a corrected row keeps its step; a 批复文件 takes the step of the latest 办结(通过)."""
from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa

from hub.model import ids

from .tables import COLUMNS, TABLES

SPSX = ("SPSXBM", "SPSXBBH", "SPBMBM", "SPBMMC", "SLFS")
XM = ("XMDM", "XMMC", "JSDD")
JSDW = ("DWMC", "DWTYSHXYDM")
PASSED = (11, 12)           # BLZT 办结(通过) / 办结(容缺通过): the ones a 批复文件 belongs to
_REGION = re.compile(r"^\d{6}$")


def plain(value):
    """Column values as JSON-able text the way such systems print them."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


def business(table: str, row) -> dict:
    return {"TABLE": table, "LSH": row["LSH"], "DFSJZJ": row["DFSJZJ"], "XZQHDM": row["XZQHDM"],
            **{c: plain(row[c]) for c in COLUMNS[table]}}


def precheck(table: str, row) -> str | None:
    """Why the exchange refuses a context row (project, unit, 事项办理) before anything is built
    on it, or None. Rows that are mapped are left to the mappings and the canonical model."""
    if table not in ("SPGL_XMJBXXB", "SPGL_XMDWXXB", "SPGL_XMSPSXBLXXB"):
        return None
    region = row["XZQHDM"]
    if not _REGION.match(str(region or "")):
        return f"XZQHDM: {region!r} is not a 6-digit region code"
    if table == "SPGL_XMJBXXB":
        start, end = row["NKGSJ"], row["NJCSJ"]
        if start is not None and end is not None and not start < end:
            return (f"NKGSJ: {plain(start)} is not before NJCSJ {plain(end)} "
                    f"(SPGL check 130: NKGSJ时间要早于NJCSJ时间)")
    if table == "SPGL_XMDWXXB" and row["DWTYSHXYDM"] is not None:
        try:
            # As the mapping will read it: full-width typing and padding are not errors.
            ids.credit_code(unicodedata.normalize("NFKC", str(row["DWTYSHXYDM"])).strip().upper())
        except ValueError as exc:
            return f"DWTYSHXYDM: {exc}"
    return None


def _latest(conn, name: str, key: str, values: set, *extra) -> dict:
    """{key value: the latest valid row} (highest LSH with SJYXBS=1)."""
    if not values:
        return {}
    t = TABLES[name]
    q = sa.select(t).where(t.c[key].in_(sorted(values)), t.c.SJYXBS == 1, *extra).order_by(t.c.LSH)
    return {row[key]: row for row in conn.execute(q).mappings()}


def _steps(conn, case_nos: set) -> dict[str, tuple[dict[str, int], int | None]]:
    """{SPSXSLBM: ({DFSJZJ: step}, step of the latest 办结(通过))}."""
    t = TABLES["SPGL_XMSPSXBLXXXXB"]
    q = (sa.select(t.c.SPSXSLBM, t.c.DFSJZJ, t.c.BLZT, t.c.SJYXBS)
         .where(t.c.SPSXSLBM.in_(sorted(case_nos))).order_by(t.c.LSH))
    ranks: dict[str, dict[str, int]] = {}
    state: dict[str, dict[str, int]] = {}
    for case_no, key, blzt, valid in conn.execute(q) if case_nos else ():
        rank = ranks.setdefault(case_no, {})
        rank.setdefault(key, len(rank) + 1)
        if valid == 1:
            state.setdefault(case_no, {})[key] = blzt
    out = {}
    for case_no, rank in ranks.items():
        done = [rank[k] for k, blzt in state.get(case_no, {}).items() if blzt in PASSED]
        out[case_no] = (rank, max(done) if done else None)
    return out


def add_context(conn, records: list[dict]) -> None:
    """Join SPSX / XM / JSDW and set BLXH on 办理详细 and 批复文件 records, in a few queries per page."""
    wanted = [r for r in records if r["TABLE"] in ("SPGL_XMSPSXBLXXXXB", "SPGL_XMSPSXPFWJXXB")]
    if not wanted:
        return
    case_nos = {r["SPSXSLBM"] for r in wanted}
    cases = _latest(conn, "SPGL_XMSPSXBLXXB", "SPSXSLBM", case_nos)
    projects = _latest(conn, "SPGL_XMJBXXB", "GCDM", {r["GCDM"] for r in wanted})
    units = TABLES["SPGL_XMDWXXB"]
    owners = _latest(conn, "SPGL_XMDWXXB", "XMDM", {p["XMDM"] for p in projects.values()}, units.c.DWLX == 1)
    steps = _steps(conn, case_nos)
    for rec in wanted:
        spsx, xm = cases.get(rec["SPSXSLBM"]), projects.get(rec["GCDM"])
        dw = owners.get(xm["XMDM"]) if xm else None
        rank, done = steps.get(rec["SPSXSLBM"], ({}, None))
        if rec["TABLE"] == "SPGL_XMSPSXBLXXXXB":
            rec["BLXH"] = rank.get(rec["DFSJZJ"])
        else:
            rec["BLXH"] = done or len(rank) or None
        rec["SPSX"] = {k: plain(spsx[k]) for k in SPSX} if spsx else None
        rec["XM"] = {k: plain(xm[k]) for k in XM} if xm else None
        rec["JSDW"] = {k: plain(dw[k]) for k in JSDW} if dw else None
