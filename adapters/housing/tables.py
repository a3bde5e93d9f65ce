"""The 前置库 tables as this adapter reads and writes them: names and columns only (the
department owns the DDL). Declared as lightweight table clauses so SQLAlchemy quotes the
upper-case names the same way on SQLite, PostgreSQL and MariaDB.

SPGL_* follow REFERENCE.md §1; TB_SQXXB and TB_SQHZXXB are invented for the southbound
exchange (the standard has no table for applications coming down), and so are the columns the
monthly report needs that the standard does not name: SFYCSL and CLQD of 事项办理, XCCS of
办理详细 (sims/housing_schema.py)."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

STATE = ("SJYXBS", "SJWXYY", "SJSCZT", "SBYY", "SCSJ", "GXSJ")
_KEYS = ("LSH", "DFSJZJ", "XZQHDM")

COLUMNS = {
    "SPGL_XMJBXXB": ("XMDM", "XMMC", "GCDM", "GCFW", "SPLCLX", "NKGSJ", "NJCSJ", "ZTZE", "JSDDXZQH", "JSDD",
                     "JSGMJNR", "YDMJ", "JZMJ", "SBSJ"),
    "SPGL_XMDWXXB": ("XMDM", "DWTYSHXYDM", "DWMC", "DWLX"),
    "SPGL_XMSPSXBLXXB": ("GCDM", "SPSXBM", "SPSXBBH", "SPLCBM", "SPLCBBH", "SPSXSLBM", "SPBMBM", "SPBMMC",
                         "SLFS", "GKFS", "SXBLSX", "SFYCSL", "CLQD"),
    "SPGL_XMSPSXBLXXXXB": ("GCDM", "SPSXSLBM", "BLCS", "BLR", "BLZT", "BLYJ", "BLSJ", "XCCS"),
    "SPGL_XMSPSXPFWJXXB": ("GCDM", "SPSXSLBM", "PFRQ", "PFWH", "PFWJBT", "PFWJYXQX", "FJMC", "FJLX", "FJID"),
    "TB_SQHZXXB": ("SQBH", "SPSXSLBM", "SPSXBM", "SPBMMC", "SLR", "SLSJ", "SLYJ"),
    "TB_SQXXB": ("SQBH", "SPSXBM", "SQRLX", "SQRMC", "SQRZJLX", "SQRZJHM", "LXDH", "SQFS", "SQSJ", "SQNR", "CLQD",
                 "SPSXSLBM", "SLSJ"),
}


# Types the adapter relies on, so that each database hands back the same Python values
# (SQLite keeps dates as text and decimals as floats unless told).
TYPES = {
    **dict.fromkeys(("NKGSJ", "NJCSJ", "SBSJ", "PFRQ", "PFWJYXQX"), sa.Date()),
    **dict.fromkeys(("BLSJ", "SLSJ", "SQSJ", "SCSJ", "GXSJ"), sa.DateTime()),
    "ZTZE": sa.Numeric(18, 4), "YDMJ": sa.Numeric(18, 2), "JZMJ": sa.Numeric(18, 2),
    "SPSXBBH": sa.Numeric(6, 1), "SPLCBBH": sa.Numeric(6, 1),
    **dict.fromkeys(("LSH", "SPLCLX", "DWLX", "SLFS", "GKFS", "SXBLSX", "BLZT", "SJYXBS", "SJSCZT", "SQRLX",
                     "SQFS", "SFYCSL", "XCCS"), sa.Integer()),
}


# Read as stored and converted row by row (records.typed): SQLite keeps any text in a DATE or
# NUMERIC column, and SQLAlchemy's own conversion would raise (ValueError, TypeError) in the
# middle of a fetch, failing the whole page on every poll instead of refusing that row.
CONVERTED = frozenset(c for c, t in TYPES.items() if isinstance(t, (sa.Date, sa.DateTime, sa.Numeric)))


def table(name: str) -> sa.TableClause:
    return sa.table(name, *(sa.column(c, TYPES.get(c, sa.String())) for c in _KEYS + COLUMNS[name] + STATE))


def readable(t: sa.TableClause) -> list:
    """The columns to SELECT from `t`, CONVERTED ones as the driver hands them over: text on
    SQLite; on PostgreSQL and MariaDB date and Decimal objects (those refuse a bad value when
    it is written; MariaDB's zero date comes as text)."""
    return [sa.type_coerce(c, sa.String()).label(c.name) if c.name in CONVERTED else c for c in t.c]


@dataclass(frozen=True)
class Feed:
    """One table the source reads, and the parent a row waits for (REFERENCE.md §1: child rows
    are sent only after their parent reached SJSCZT=3). A table that is not `forwarded` holds
    context only (project, unit, 事项办理): its rows are checked and settled, never mapped."""
    name: str
    parent: str | None = None
    link: str | None = None      # column shared with the parent
    forwarded: bool = True


# Parents first, so one page never holds a child before the parent it waits for.
FEEDS = (
    Feed("SPGL_XMJBXXB", forwarded=False),
    Feed("SPGL_XMDWXXB", "SPGL_XMJBXXB", "XMDM", forwarded=False),
    Feed("SPGL_XMSPSXBLXXB", "SPGL_XMJBXXB", "GCDM", forwarded=False),
    Feed("SPGL_XMSPSXBLXXXXB", "SPGL_XMSPSXBLXXB", "SPSXSLBM"),
    Feed("SPGL_XMSPSXPFWJXXB", "SPGL_XMSPSXBLXXB", "SPSXSLBM"),
    Feed("TB_SQHZXXB"),
)
TABLES = {name: table(name) for name in COLUMNS}
