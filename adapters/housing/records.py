"""From 前置库 rows to the records the mappings read, and the checks the reader of a 前置库
makes before it takes a row (REFERENCE.md §1: the province validates rows and writes
back SJSCZT=2 with SBYY).

A record is the row's business columns (exchange state left out) plus "TABLE". A
办理详细 or 批复文件 record also carries what the mapping needs from elsewhere, joined at
read time from the latest valid rows: SPSX (its 事项办理 row), XM (its project) and JSDW
(the project's 建设单位, DWLX 1), and BLXH, the per-case step number. BLXH is invented
(the standard has no step column): the case's distinct DFSJZJ ranked by their first LSH,
so a corrected row keeps its step; a 批复文件 takes the step of the latest 办结(通过).
SPSX.CLQD, the 事项办理 row's 材料清单 (invented: JSON text in the 前置库), is handed on as the
list it holds, for the mapping's `each:`; a row whose CLQD is not a JSON list of objects is
refused by precheck, as the exchange would refuse it."""
from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa

from hub import exactjson
from hub.model import ids

from .tables import COLUMNS, CONVERTED, TABLES, TYPES, readable

SPSX = ("SPSXBM", "SPSXBBH", "SPBMBM", "SPBMMC", "SLFS", "SXBLSX", "SFYCSL", "CLQD")
XM = ("XMDM", "XMMC", "JSDD")
JSDW = ("DWMC", "DWTYSHXYDM")
PASSED = (11, 12)           # BLZT 办结(通过) / 办结(容缺通过): the ones a 批复文件 belongs to
_REGION = re.compile(r"^\d{6}$")
_ESCAPED = re.compile("[\udc80-\udcff]")   # bytes that were not UTF-8, as surrogateescape keeps them


def plain(value):
    """Column values as JSON-able text the way such systems print them."""
    if isinstance(value, bytes):   # a BLOB where text belongs: judged as text (not_utf8)
        return value.decode("utf-8", "surrogateescape")
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


def typed(column: str, value):
    """A CONVERTED column's value as read (tables.readable) made what SQLAlchemy's own type
    makes of it: date, datetime or Decimal. ValueError naming the column and the value if it
    is none of them."""
    kind = TYPES[column]
    if value is None or isinstance(value, (date, Decimal)):
        return value   # the driver's own (a datetime is a date)
    out = None
    try:
        if isinstance(kind, sa.Numeric):
            number = Decimal(value) if isinstance(value, str) else value
            if isinstance(number, (int, float, Decimal)) and not isinstance(number, bool):
                out = Decimal(f"{number:.{kind.scale}f}")   # as SQLAlchemy rounds on SQLite
                out = out if out.is_finite() else None
        elif isinstance(value, str):
            out = (datetime if isinstance(kind, sa.DateTime) else date).fromisoformat(value)
    except (ValueError, ArithmeticError):
        pass
    if out is not None:
        return out
    what = ("a number" if isinstance(kind, sa.Numeric) else
            "a date and time (YYYY-MM-DD HH:MM:SS)" if isinstance(kind, sa.DateTime) else "a date (YYYY-MM-DD)")
    shown = plain(value)
    shown = shown[:40] + "…" if isinstance(shown, str) and len(shown) > 40 else shown
    raise ValueError(f"{column}: {shown!r} is not {what}")


def not_utf8(column: str, text: str) -> str | None:
    """Why a text read with surrogateescape (make_engine) is refused, or None. The text itself is
    not shown (a name, an ID number): where its bytes stop being UTF-8, and whether they read as
    GB18030, the usual cause (a system writing its own encoding into the 前置库)."""
    bad = _ESCAPED.search(text)
    if bad is None:
        return None
    raw = text.encode("utf-8", "surrogateescape")
    at = len(text[:bad.start()].encode("utf-8", "surrogateescape"))
    try:
        raw.decode("gb18030")
        cause = "; the bytes decode as GB18030: written in GB18030, not UTF-8"
    except UnicodeDecodeError:
        cause = ""
    return (f"{column}: the text is not UTF-8 (byte 0x{raw[at]:02x} at offset {at} of {len(raw)}){cause}; "
            f"not shown, as it may be personal data")


def value_of(column: str, value):
    """A column's value as records carry it; a converted one that does not convert is kept as
    read (precheck refuses its row)."""
    if column in CONVERTED:
        try:
            value = typed(column, value)
        except ValueError:
            pass
    return plain(value)


def materials_list(text) -> tuple[list | None, str | None]:
    """CLQD read as the list of materials it holds: (list, None), or (None, why not). NULL is no list."""
    if text is None:
        return None, None
    if not isinstance(text, str) or _ESCAPED.search(text):
        return None, "CLQD: not text"   # not_utf8 names the bytes
    try:
        value = exactjson.loads(text)
    except exactjson.DuplicateKey as exc:
        return None, f"CLQD: {exc}"
    except (ValueError, RecursionError) as exc:
        return None, f"CLQD: not valid JSON ({type(exc).__name__}, {len(text)} characters)"
    if not isinstance(value, list) or not all(isinstance(m, dict) for m in value):
        return None, "CLQD: not a JSON list of materials (objects with CLMC, SFBX, SFTJ, FYLX)"
    return value, None


def business(table: str, row) -> dict:
    return {"TABLE": table, "LSH": row["LSH"], "DFSJZJ": plain(row["DFSJZJ"]), "XZQHDM": plain(row["XZQHDM"]),
            **{c: value_of(c, row[c]) for c in COLUMNS[table]}}


def precheck(table: str, row) -> str | None:
    """Why the exchange refuses a row before anything is built on it, or None: in any table,
    text that is not UTF-8 and dates or numbers that are not; in the context tables (project,
    unit, 事项办理) the exchange's own checks. The rest is left to the mappings and the model."""
    for column in ("DFSJZJ", "XZQHDM", *COLUMNS[table]):
        text = plain(row[column])
        if isinstance(text, str) and (why := not_utf8(column, text)):
            return why
        if column in CONVERTED:
            try:
                typed(column, row[column])
            except ValueError as exc:
                return str(exc)
    if table not in ("SPGL_XMJBXXB", "SPGL_XMDWXXB", "SPGL_XMSPSXBLXXB"):
        return None
    if table == "SPGL_XMSPSXBLXXB" and (why := materials_list(plain(row["CLQD"]))[1]):
        return why
    region = row["XZQHDM"]
    if not _REGION.match(str(region or "")):
        return f"XZQHDM: {region!r} is not a 6-digit region code"
    if table == "SPGL_XMJBXXB":
        start, end = typed("NKGSJ", row["NKGSJ"]), typed("NJCSJ", row["NJCSJ"])
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
    q = sa.select(*readable(t)).where(t.c[key].in_(sorted(values)), t.c.SJYXBS == 1, *extra).order_by(t.c.LSH)
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
        rec["SPSX"] = {k: value_of(k, spsx[k]) for k in SPSX} if spsx else None
        if spsx:
            # a CLQD that is no list (changed after it was settled) stays text: the mapping refuses it
            listed, _ = materials_list(rec["SPSX"]["CLQD"])
            rec["SPSX"]["CLQD"] = listed if listed is not None else rec["SPSX"]["CLQD"]
        rec["XM"] = {k: value_of(k, xm[k]) for k in XM} if xm else None
        rec["JSDW"] = {k: value_of(k, dw[k]) for k in JSDW} if dw else None


def joined_not_utf8(rec: dict) -> str | None:
    """A joined context row that is not UTF-8 (changed after it was settled, or a correction not
    read yet): the record is refused rather than built on it."""
    for part in ("SPSX", "XM", "JSDW"):
        for column, value in (rec.get(part) or {}).items():
            if isinstance(value, str) and (why := not_utf8(f"{part}.{column}", value)):
                return why
    return None
