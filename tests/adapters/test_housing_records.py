"""The housing adapter's reading of single 前置库 values that SQLite keeps but the adapter's
types cannot take: text that is not UTF-8, dates and numbers that are not. No broker, no
simulator: values as the drivers hand them over, and a SQLite file written here."""
from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime
from decimal import Decimal

import pytest

from adapters.housing import make_engine
from adapters.housing.records import joined_not_utf8, not_utf8, precheck, typed, value_of
from adapters.housing.source import record
from adapters.housing.tables import COLUMNS

GB = "准予许可".encode("gb18030").decode("utf-8", "surrogateescape")   # as make_engine's text_factory reads it


def row(table: str, **values) -> dict:
    return {"DFSJZJ": "d-1", "XZQHDM": "330100", **dict.fromkeys(COLUMNS[table]), **values}


@pytest.mark.parametrize("column, value, expected", [
    ("BLSJ", "2026-03-02 08:00:00.000000", datetime(2026, 3, 2, 8)),   # as SQLAlchemy writes it on SQLite
    ("BLSJ", "2026-03-02T08:00:00", datetime(2026, 3, 2, 8)),
    ("BLSJ", datetime(2026, 3, 2, 8), datetime(2026, 3, 2, 8)),        # PostgreSQL, MariaDB: the driver's own
    ("PFRQ", "2026-03-02", date(2026, 3, 2)),
    ("PFRQ", None, None),
    ("ZTZE", 1234.5, Decimal("1234.5000")),                             # SQLite: a float, scaled as SQLAlchemy did
    ("ZTZE", 7, Decimal("7.0000")),
    ("ZTZE", "12.5", Decimal("12.5000")),                               # a TEXT column in the department's DDL
    ("ZTZE", Decimal("12.5"), Decimal("12.5")),
])
def test_values_convert_as_sqlalchemys_own_types_did(column, value, expected):
    assert typed(column, value) == expected


@pytest.mark.parametrize("column, value, what", [
    ("BLSJ", "2026-02-30 08:00:00", "a date and time"),
    ("PFRQ", "2026-13-01", "a date"),
    ("PFRQ", "0000-00-00", "a date"),             # MariaDB's zero date comes as text
    ("PFRQ", 20260302, "a date"),                 # an INTEGER in a DATE column
    ("ZTZE", "一千万", "a number"),
    ("ZTZE", "NaN", "a number"),
    ("ZTZE", float("inf"), "a number"),
])
def test_a_value_that_is_not_its_type_is_refused_naming_the_column_and_the_value(column, value, what):
    with pytest.raises(ValueError) as err:
        typed(column, value)
    assert str(err.value).startswith(f"{column}: {value!r} is not {what}")
    assert value_of(column, value) == value        # kept as read in the record its row is refused with


def test_a_long_value_is_cut_in_the_reason():
    with pytest.raises(ValueError) as err:
        typed("BLSJ", "x" * 5000)
    assert len(str(err.value)) < 120


def test_gb18030_bytes_are_named_by_column_and_offset_never_shown():
    reason = not_utf8("BLYJ", "同意:" + GB)
    # 同意: is 7 bytes of UTF-8; 准 in GB18030 (d7 bc) happens to be valid UTF-8 too; 予 (d3 e8) is not.
    assert reason.startswith("BLYJ: the text is not UTF-8 (byte 0xd3 at offset 9 of 15)")
    assert "GB18030" in reason and "准予许可" not in reason and "同意" not in reason
    assert not_utf8("BLYJ", "准予许可") is None
    assert "GB18030" not in not_utf8("BLYJ", b"\xff\xff".decode("utf-8", "surrogateescape"))   # no such claim


@pytest.mark.parametrize("table, values, column", [
    ("SPGL_XMSPSXBLXXXXB", {"BLYJ": GB}, "BLYJ"),                            # forwarded rows too
    ("SPGL_XMSPSXBLXXXXB", {"BLR": "准予".encode("gb18030")}, "BLR"),         # a BLOB where text belongs
    ("SPGL_XMSPSXBLXXXXB", {"BLSJ": "2026-02-30 08:00:00"}, "BLSJ"),
    ("SPGL_XMJBXXB", {"NKGSJ": "2026-04-31", "NJCSJ": "2026-01-01"}, "NKGSJ"),
    ("SPGL_XMJBXXB", {"XMMC": "工程", "DFSJZJ": GB}, "DFSJZJ"),
])
def test_precheck_refuses_the_row_naming_the_column(table, values, column):
    assert precheck(table, row(table, **values)).startswith(f"{column}: ")


def test_precheck_passes_a_good_row_and_still_compares_dates_read_as_text():
    assert precheck("SPGL_XMSPSXBLXXXXB", row("SPGL_XMSPSXBLXXXXB", BLSJ="2026-03-02 08:00:00.000000")) is None
    late = row("SPGL_XMJBXXB", NKGSJ="2026-05-01", NJCSJ="2026-01-01")
    assert precheck("SPGL_XMJBXXB", late).startswith("NKGSJ: 2026-05-01 is not before NJCSJ 2026-01-01")


def test_a_joined_context_row_that_is_not_utf8_refuses_the_record():
    assert joined_not_utf8({"XM": {"XMDM": "x", "XMMC": GB}}).startswith("XM.XMMC: the text is not UTF-8")
    assert joined_not_utf8({"XM": {"XMMC": "工程"}, "SPSX": None}) is None


def test_a_refused_record_keeps_the_bytes_escaped_and_no_surrogate_in_its_data():
    rec = record({"TABLE": "SPGL_XMSPSXBLXXXXB", "LSH": 7, "SPSXSLBM": GB, "BLYJ": "同意"}, "BLYJ: not UTF-8")
    rec.raw.encode("utf-8")                                        # storable as it is
    assert json.loads(rec.raw)["SPSXSLBM"] == GB                   # and what was read
    assert rec.key == "SPGL_XMSPSXBLXXXXB:7" and "SPSXSLBM" not in rec.data and rec.data["BLYJ"] == "同意"


def test_make_engine_reads_text_that_is_not_utf8_instead_of_failing_the_select(tmp_path):
    path = tmp_path / "pre.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (v TEXT)")
        db.execute("INSERT INTO t VALUES (CAST(? AS TEXT)), ('准予')", ("准予许可".encode("gb18030"),))
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT v FROM t").scalars().all() == [GB, "准予"]
    finally:
        engine.dispose()
