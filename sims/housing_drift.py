"""Drift of the 住建 前置库's cloud copy (housing_new) for the dual-track period: the drift of
sims/drift.py, applied to the rows the new system writes into its 前置库, in SPGL terms.

It applies to the rows the hub hands on: 办理详细 (SPGL_XMSPSXBLXXXXB) and 批复文件
(SPGL_XMSPSXPFWJXXB). Project, unit and 事项办理 rows are written as the old system writes
them (a lost one would only hold all its children back), but for reorder_materials below. The SPGL names drift.apply is told:
  step  BLZT (办理状态)       time  BLSJ (办理时间)      case  SPSXSLBM (审批事项实例编码)
  seq   the step number: the standard has no column for it; it is the rank of the row in
        its case (what the hub's reader computes, BLXH), given to drift.apply and not written
  extra_step  BLZT 11, 12, 13 (办结): the decision recorded twice, as a row of its own (a new
        DFSJZJ), right after the first
What each kind means for a database:
  status_code  {"field": "BLZT", "step": 8, "value": 3}: another value in a 办理详细 column at
               one BLZT (given as number or text, written as the column's type)
  utc_times    BLSJ written in UTC, naive (8 hours off); dates (PFRQ) have no time to shift
  drop_field   the column is no longer filled: NULL. Only a column that may be NULL can be
               dropped: a NOT NULL one (BLZT, BLSJ, SPSXSLBM ...) would refuse the row.
  rename_field {"BLR": "BLRXM"}: the new system's table has the new column (added with
               ALTER TABLE, typed as the old one) and fills it; the old column stays, NULL
  missing_rate the row is never inserted; extra_rate: see extra_step
  lag_seconds  rows are inserted this much later than they are written (HousingSim holds them)
  reorder_materials  the 事项办理 row's CLQD (材料清单, JSON text) lists the same materials in
               another order (the one change made to a 事项办理 row; its case's 办理详细 records
               carry that list, SPSX.CLQD)
Exchange columns (LSH, DFSJZJ, XZQHDM, SJYXBS, SJWXYY, SJSCZT, SBYY, SCSJ, GXSJ) never drift."""
from __future__ import annotations

import hashlib
import re
import uuid
from datetime import date, datetime

import sqlalchemy as sa

from . import drift as sim_drift
from .housing_data import Row
from .housing_schema import TABLES

DETAIL, DOCUMENT, CASE = "SPGL_XMSPSXBLXXXXB", "SPGL_XMSPSXPFWJXXB", "SPGL_XMSPSXBLXXB"
DRIFTED = (DETAIL, DOCUMENT)
SEQ = "BLXH"
KEYS = {"step": "BLZT", "time": "BLSJ", "case": "SPSXSLBM", "seq": SEQ, "extra_step": (11, 12, 13)}
EXCHANGE = frozenset({"LSH", "DFSJZJ", "XZQHDM", "SJYXBS", "SJWXYY", "SJSCZT", "SBYY", "SCSJ", "GXSJ"})
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,29}$")
_ORIGIN = "_origin"


def _business(table: str) -> list[sa.Column]:
    return [c for c in TABLES[table].c if c.name not in EXCHANGE]


def _number(drift: dict, key: str, high: float | None) -> None:
    if key not in drift:
        return
    value = drift[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or (high and value > high):
        raise ValueError(f"{key} must be a number " + (f"between 0 and {high:g}" if high else "of 0 or more"))


def _typed(column: sa.Column, value, what: str):
    """A JSON value as the column holds it; ValueError naming `what` if it cannot."""
    kind = column.type
    try:
        if value is None:
            if not column.nullable:
                raise ValueError
            return None
        if isinstance(kind, sa.Integer):
            if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).strip().isdigit():
                raise ValueError
            return int(value)
        if isinstance(kind, sa.DateTime):
            return datetime.fromisoformat(value)
        if isinstance(kind, sa.Date):
            return date.fromisoformat(value)
        if not isinstance(value, str) or (kind.length and len(value) > kind.length):
            raise ValueError
        return value
    except (TypeError, ValueError):
        raise ValueError(f"{what}: {value!r} cannot be written into {column.table.name}.{column.name} "
                         f"({kind}{'' if column.nullable else ', NOT NULL'})") from None


def _droppable(name, key: str) -> list[str]:
    """The drifted tables that have `name` as a column the new system may leave empty."""
    if not isinstance(name, str):
        raise ValueError(f"{key}: column names are text, not {name!r}")
    tables = [t for t in DRIFTED if name in TABLES[t].c]
    if not tables or name in EXCHANGE:
        known = sorted({c.name for t in DRIFTED for c in _business(t)})
        raise ValueError(f"{key}: {name!r} is not a column of {' or '.join(DRIFTED)} the system fills "
                         f"(one of {known})")
    strict = [t for t in tables if not TABLES[t].c[name].nullable]
    if strict:
        raise ValueError(f"{key}: {name} is NOT NULL in {strict[0]}: the 前置库 refuses a row without it")
    return tables


def prepare(drift: dict) -> dict:
    """The drift checked (ValueError says what is wrong) and made ready for the database:
    status_code's step and value typed as BLZT and its column hold them."""
    if not isinstance(drift, dict):
        raise ValueError("drift must be a JSON object")
    out = dict(sim_drift.validate(dict(drift)))
    for key, high in (("missing_rate", 1), ("extra_rate", 1), ("lag_seconds", None)):
        _number(out, key, high)
    if not isinstance(out.get("utc_times", False), bool):
        raise ValueError("utc_times must be true or false")
    if "seed" in out and (isinstance(out["seed"], bool) or not isinstance(out["seed"], (int, str))):
        raise ValueError("seed must be an integer or text")
    sc = out.get("status_code")
    if sc is not None:
        if not isinstance(sc, dict) or set(sc) != {"field", "step", "value"}:
            raise ValueError('status_code must be {"field": <column of SPGL_XMSPSXBLXXXXB>, "step": <BLZT>, '
                             '"value": ...}')
        columns = TABLES[DETAIL].c
        if not isinstance(sc["field"], str) or sc["field"] not in columns or sc["field"] in EXCHANGE:
            raise ValueError(f"status_code.field must be a column of {DETAIL}: one of "
                             f"{[c.name for c in _business(DETAIL)]}")
        out["status_code"] = {"field": sc["field"], "step": _typed(columns["BLZT"], sc["step"], "status_code.step"),
                              "value": _typed(columns[sc["field"]], sc["value"], "status_code.value")}
    drops = out.get("drop_field") or []
    if not isinstance(drops, list):
        raise ValueError('drop_field must be a list of column names, e.g. ["BLYJ"]')
    for name in drops:
        _droppable(name, "drop_field")
    renames = out.get("rename_field") or {}
    if not isinstance(renames, dict):
        raise ValueError('rename_field must be {"old column": "new column"}, e.g. {"BLR": "BLRXM"}')
    taken = {c.name.upper() for t in DRIFTED for c in TABLES[t].c}
    for old, new in renames.items():
        _droppable(old, "rename_field")
        if not isinstance(new, str) or not _NAME.match(new):
            raise ValueError(f"rename_field: {new!r} is not a column name (a letter, then letters, digits or _, "
                             f"30 at most)")
        if new.upper() in taken:
            raise ValueError(f"rename_field: {new} is a column already (or another rename's target)")
        taken.add(new.upper())
    return out


def added_columns(drift: dict) -> dict[str, list[sa.Column]]:
    """{table: the columns a rename adds to it}, each typed as the column it replaces."""
    out: dict[str, list[sa.Column]] = {}
    for old, new in (drift.get("rename_field") or {}).items():
        for table in DRIFTED:
            if old in TABLES[table].c:
                out.setdefault(table, []).append(sa.Column(new, TABLES[table].c[old].type.copy(), nullable=True,
                                                           comment=f"renamed from {old} (drift)"))
    return out


def _again(drift: dict, row: dict) -> str:
    """The DFSJZJ of a decision written a second time: its own key, the same every run."""
    seed = drift.get("seed", 7)
    digest = hashlib.sha256(f"{seed}:{row['SPSXSLBM']}:{row['DFSJZJ']}:again".encode()).digest()
    return uuid.UUID(bytes=digest[:16]).hex


def _reordered(row: Row, drift: dict) -> Row:
    if row.table != CASE or not drift.get("reorder_materials"):
        return row
    values = dict(row.values)
    sim_drift.reorder_materials(values, "CLQD", values["SPSXSLBM"], drift)
    return Row(row.table, values, row.at)


def apply(rows: list[Row], drift: dict) -> list[Row]:
    """The rows of one load as the new system writes them, in write order. `drift` comes from
    prepare(); `rows` are left as they are."""
    if not drift:
        return rows
    forwarded, rank = [], {}
    rows = [_reordered(row, drift) for row in rows]
    for i, row in enumerate(rows):
        if row.table not in DRIFTED:
            continue
        values = {**row.values, _ORIGIN: i}
        if row.table == DETAIL:
            case = values["SPSXSLBM"]
            rank[case] = values[SEQ] = rank.get(case, 0) + 1
            if isinstance(values.get("BLSJ"), datetime):
                values["BLSJ"] = values["BLSJ"].strftime(TIME_FORMAT)
        forwarded.append(values)
    written: dict[int, list[dict]] = {}
    for values in sim_drift.apply(forwarded, drift, KEYS):
        written.setdefault(values.pop(_ORIGIN), []).append(values)
    out = []
    for i, row in enumerate(rows):
        if row.table not in DRIFTED:
            out.append(row)
            continue
        for n, values in enumerate(written.get(i, ())):
            values.pop(SEQ, None)
            if isinstance(values.get("BLSJ"), str):
                values["BLSJ"] = datetime.strptime(values["BLSJ"], TIME_FORMAT)
            if n:   # the same decision once more: a row of its own
                values["DFSJZJ"] = _again(drift, values)
            out.append(Row(row.table, values, row.at))
    return out
