"""住建 前置库 (SPGL tables in a real SQLite database, read through SQLAlchemy): one bad
column value per example, written into a freshly loaded case the way a department's own
system would write it, then read by the real SpglSource (precheck, context joins, write-back
of SJSCZT/SBYY), mapped and published by a real SourceWorker on the test broker.

A context row (project, unit, 事项办理) that fails the exchange's checks is dead-lettered and
written back SJSCZT=2, and its children wait for a corrected row (by design); everything of
the other case flows. So does a value SQLite keeps but the adapter cannot read (bytes that are
not UTF-8, a date or number that is not one): that row is refused, the rest read on."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from hypothesis import given, strategies as st

from adapters.housing import HousingAdapter
from sims.housing import HousingSim
from sims.housing_schema import TABLES
from tests.badinput.harness import BI, check, names_reason, pii_in
from tests.badinput.mutations import MISSING, VALUES, bad_credit_codes, facts

# (table, column, how the records the mappings read carry it)
TARGETS = [
    ("SPGL_XMSPSXBLXXXXB", "BLR", "BLR"), ("SPGL_XMSPSXBLXXXXB", "BLYJ", "BLYJ"),
    ("SPGL_XMSPSXBLXXXXB", "BLCS", "BLCS"), ("SPGL_XMSPSXBLXXXXB", "DFSJZJ", "DFSJZJ"),
    ("SPGL_XMSPSXBLXXXXB", "SPSXSLBM", "SPSXSLBM"), ("SPGL_XMSPSXPFWJXXB", "PFWH", "PFWH"),
    ("SPGL_XMSPSXPFWJXXB", "PFWJBT", "PFWJBT"), ("SPGL_XMDWXXB", "DWTYSHXYDM", "JSDW.DWTYSHXYDM"),
    ("SPGL_XMDWXXB", "DWMC", "JSDW.DWMC"), ("SPGL_XMJBXXB", "XMMC", "XM.XMMC"),
    ("SPGL_XMJBXXB", "XZQHDM", "XZQHDM"), ("SPGL_XMSPSXBLXXB", "SPBMMC", "SPSX.SPBMMC"),
    ("SPGL_XMSPSXBLXXB", "SPSXBM", "SPSX.SPSXBM"),
]
NOT_NULL = {"DFSJZJ", "XZQHDM", "XMMC", "SPSXSLBM", "SPSXBM", "GCDM", "XMDM"}
KINDS = ("nul", "control", "huge", "bad_id", "garbage", "missing", "pii")
LINK = {"SPGL_XMJBXXB": "XMDM", "SPGL_XMDWXXB": "XMDM"}   # the rest link by SPSXSLBM


@pytest.fixture(scope="module")
def housing():
    sim = HousingSim(port=0, seed=21)     # its database only; the HTTP side is not started
    yield sim, HousingAdapter({"db_url": sim.db_url}).source()
    sim.stop()


def names_of(rec):
    return {rec.key, str(rec.data.get("DFSJZJ", ""))}


def case_rows(sim, case_no: str) -> dict[str, list[dict]]:
    """The rows of one generated case, by table (the project and unit through its XMDM)."""
    with sim.engine.connect() as conn:
        t = TABLES["SPGL_XMSPSXBLXXB"]
        spsx = conn.execute(sa.select(t).where(t.c.SPSXSLBM == case_no)).mappings().first()
        xmdm = conn.execute(sa.select(TABLES["SPGL_XMJBXXB"].c.XMDM).where(
            TABLES["SPGL_XMJBXXB"].c.GCDM == spsx["GCDM"])).scalar_one()
        out = {}
        for name in ("SPGL_XMJBXXB", "SPGL_XMDWXXB", "SPGL_XMSPSXBLXXB", "SPGL_XMSPSXBLXXXXB", "SPGL_XMSPSXPFWJXXB"):
            t = TABLES[name]
            col, val = (t.c.XMDM, xmdm) if name in LINK else (t.c.SPSXSLBM, case_no)
            out[name] = [dict(r) for r in conn.execute(sa.select(t).where(col == val)).mappings()]
    return out


def write(sim, table: str, column: str, lsh: int, value) -> None:
    with sim.engine.begin() as conn:   # raw SQL: the department's system, not our types, writes it
        conn.exec_driver_sql(f'UPDATE "{table}" SET "{column}" = ? WHERE "LSH" = ?',
                             (None if value is MISSING else value, lsh))


def sbyy(sim) -> list[str]:
    with sim.engine.connect() as conn:
        return [r for t in TABLES.values() if "SBYY" in t.c
                for r in conn.execute(sa.select(t.c.SBYY).where(t.c.SJSCZT == 2)).scalars()]


@st.composite
def housing_mutation(draw):
    table, column, path = draw(st.sampled_from(TARGETS))
    kind = draw(st.sampled_from(KINDS))
    value = draw(bad_credit_codes() if kind == "bad_id" and column == "DWTYSHXYDM" else VALUES[kind])
    if value is MISSING and column in NOT_NULL:
        value = ""
    return table, column, path, kind, value


@BI
@given(mut=housing_mutation())
def test_one_bad_column_is_processed_or_dead_lettered_naming_it_and_the_other_case_flows(mut, housing, pipeline,
                                                                                        logs):
    table, column, path, kind, value = mut
    sim, source = housing
    bad_case, good_case = sim.load(2)["cases"]
    target = case_rows(sim, bad_case)[table]
    if not target:
        return   # e.g. a case without a 批复文件 (not passed): nothing to spoil in that table
    write(sim, table, column, target[0]["LSH"], value)
    logs.start()
    out = pipeline.poll(source, system="housing-spgl", department="housing", name="bi-housing")
    written_back = sbyy(sim)
    check(out, names_of=names_of, log_text=logs.text() + "\n".join(written_back),
          extra_pii=pii_in(str(value)))
    mine = {r.key for r in out.records if r.data.get("SPSXSLBM") in (bad_case, value) or
            f"{table}:{target[0]['LSH']}" == r.key}
    others = [r for r in out.records if r.key not in mine and r.data.get("SPSXSLBM") == good_case]
    assert others and all(out.processed(r) for r in others), out.failures
    fields = {column, path}
    for rec in out.records:
        fields |= facts("housing", rec.data, path)["targets"] | facts("housing", rec.data, column)["targets"]
    for rec in out.records:
        if not out.processed(rec):
            reason = out.row_of(rec)["reason"]
            assert names_reason(reason, fields), f"{mut}: the reason names none of {fields}: {reason}"
    if column == "SPSXSLBM" and value != target[0]["SPSXSLBM"]:
        # The row now names no 事项办理: like a child written before its parent, it waits (SJSCZT=0,
        # unread) for a parent that never comes. Not lost, but nobody is told (see the report).
        assert f"{table}:{target[0]['LSH']}" not in {r.key for r in out.records}
        return
    mapped = any(facts("housing", r.data, path)["mapped"] for r in out.records if r.key in mine)
    if (kind in ("nul", "control") and mapped) or (kind == "bad_id" and column == "DWTYSHXYDM"):
        assert any(not out.processed(r) for r in out.records if r.key in mine), f"{mut} was let through"
        assert written_back, "the refusal was not written back to the 前置库 (SJSCZT=2, SBYY)"


# --- values SQLite keeps but the adapter's types cannot read: that row refused, the rest flows ---
def refused_row(sim, table: str, lsh: int) -> dict:
    with sim.engine.connect() as conn:
        return dict(conn.exec_driver_sql(f'SELECT "SJSCZT", "SBYY" FROM "{table}" WHERE "LSH" = ?', (lsh,))
                    .mappings().one())


def test_gb18030_bytes_in_a_utf8_text_column_dead_letter_that_row_only(housing, pipeline):
    # sqlite3 used to fail the whole SELECT on them: the feed stalled and the row was never refused.
    sim, source = housing
    bad_case, good_case = sim.load(2)["cases"]
    row = case_rows(sim, bad_case)["SPGL_XMSPSXBLXXXXB"][0]
    key = f"SPGL_XMSPSXBLXXXXB:{row['LSH']}"
    with sim.engine.begin() as conn:
        conn.exec_driver_sql('UPDATE "SPGL_XMSPSXBLXXXXB" SET "BLYJ" = CAST(? AS TEXT) WHERE "LSH" = ?',
                             ("准予许可".encode("gb18030"), row["LSH"]))
    out = pipeline.poll(source, system="housing-spgl", department="housing", name="bi-housing", tally=False)
    try:
        assert out.refused is None, out.refused
        assert any(r.data.get("SPSXSLBM") == good_case and out.processed(r) for r in out.records)
        bad = next(r for r in out.records if r.key == key)
        reason = out.row_of(bad)["reason"]
        assert not out.processed(bad) and key in reason and "BLYJ" in reason, reason
        assert "not UTF-8" in reason and "GB18030" in reason and "准予许可" not in reason, reason
        back = refused_row(sim, "SPGL_XMSPSXBLXXXXB", row["LSH"])
        assert back["SJSCZT"] == 2 and back["SBYY"].startswith("[BLYJ] ") and "GB18030" in back["SBYY"], back
    finally:
        write(sim, "SPGL_XMSPSXBLXXXXB", "BLYJ", row["LSH"], "fixed")   # let the next tests read on


def refuses_only_that_row(sim, source, pipeline, table: str, column: str, value) -> str:
    """Writes `value` into one row of a fresh case, polls, restores it; asserts that row alone was
    refused and written back naming the column. Returns the dead letter's reason."""
    bad_case, good_case = sim.load(2)["cases"]
    lsh = case_rows(sim, bad_case)[table][0]["LSH"]
    with sim.engine.connect() as conn:   # as stored: the simulator's own types would not read it back
        original = conn.exec_driver_sql(f'SELECT "{column}" FROM "{table}" WHERE "LSH" = ?', (lsh,)).scalar_one()
    write(sim, table, column, lsh, value)
    try:
        out = pipeline.poll(source, system="housing-spgl", department="housing", name="bi-housing", tally=False)
        back = refused_row(sim, table, lsh)
    finally:
        write(sim, table, column, lsh, original)
    assert out.refused is None, out.refused
    bad = next(r for r in out.records if r.key == f"{table}:{lsh}")
    reason = out.row_of(bad)["reason"]
    assert not out.processed(bad) and f"{column}: {value!r} is not" in reason, reason
    assert back["SJSCZT"] == 2 and back["SBYY"].startswith(f"[{column}] "), back
    assert any(r.data.get("SPSXSLBM") == good_case and out.processed(r) for r in out.records)
    return reason


@pytest.mark.parametrize("table, column, value", [
    ("SPGL_XMSPSXBLXXXXB", "BLSJ", "2026-02-30 08:00:00"),   # DATETIME, in a forwarded row
    ("SPGL_XMJBXXB", "NKGSJ", "2026-13-01"),                 # DATE, in a context row
])
def test_an_impossible_date_in_a_date_column_is_dead_lettered_not_a_crash(housing, pipeline, table, column, value):
    # SQLAlchemy's result processor used to raise ValueError inside fetch, on every poll.
    sim, source = housing
    assert "is not a date" in refuses_only_that_row(sim, source, pipeline, table, column, value)


def test_text_in_a_numeric_column_is_dead_lettered_not_a_crash(housing, pipeline):
    # SQLAlchemy's Decimal conversion used to raise TypeError inside fetch, on every poll.
    sim, source = housing
    assert "is not a number" in refuses_only_that_row(sim, source, pipeline, "SPGL_XMJBXXB", "ZTZE", "一千万元")


@pytest.mark.parametrize("value, why", [
    ('[{"CLMC": "施工合同", "SFTJ": 1}', "not valid JSON"),
    ('{"CLMC": "施工合同"}', "not a JSON list of materials"),
    ('[{"CLMC": "施工合同", "CLMC": "监理合同"}]', "duplicate key"),
])
def test_a_materials_list_that_is_no_list_refuses_its_case_row_naming_clqd(housing, pipeline, value, why):
    """CLQD (材料清单, JSON text in the 事项办理 row): a row whose list cannot be read is refused
    as the exchange refuses a context row, SBYY naming CLQD; its steps wait, the other case flows."""
    sim, source = housing
    bad_case, good_case = sim.load(2)["cases"]
    rows = case_rows(sim, bad_case)
    lsh = rows["SPGL_XMSPSXBLXXB"][0]["LSH"]
    original = rows["SPGL_XMSPSXBLXXB"][0]["CLQD"]
    write(sim, "SPGL_XMSPSXBLXXB", "CLQD", lsh, value)
    try:
        out = pipeline.poll(source, system="housing-spgl", department="housing", name="bi-housing", tally=False)
        back = refused_row(sim, "SPGL_XMSPSXBLXXB", lsh)
    finally:
        write(sim, "SPGL_XMSPSXBLXXB", "CLQD", lsh, original)
    assert out.refused is None, out.refused
    bad = next(r for r in out.records if r.key == f"SPGL_XMSPSXBLXXB:{lsh}")
    reason = out.row_of(bad)["reason"]
    assert not out.processed(bad) and "CLQD" in reason and why in reason, reason
    assert back["SJSCZT"] == 2 and back["SBYY"].startswith("[CLQD] "), back
    assert not any(r.data.get("SPSXSLBM") == bad_case and r.data.get("TABLE") == "SPGL_XMSPSXBLXXXXB"
                   for r in out.records)   # the steps wait for a corrected row
    assert any(r.data.get("SPSXSLBM") == good_case and out.processed(r) for r in out.records)


def test_a_material_without_its_name_dead_letters_the_steps_naming_it(housing, pipeline):
    sim, source = housing
    bad_case, good_case = sim.load(2)["cases"]
    rows = case_rows(sim, bad_case)
    lsh = rows["SPGL_XMSPSXBLXXB"][0]["LSH"]
    write(sim, "SPGL_XMSPSXBLXXB", "CLQD", lsh, '[{"CLMC": "施工许可申请表"}, {"SFTJ": 0, "FYLX": "1"}]')
    out = pipeline.poll(source, system="housing-spgl", department="housing", name="bi-housing", tally=False)
    steps = [r for r in out.records if r.data.get("SPSXSLBM") == bad_case and r.data["TABLE"] == "SPGL_XMSPSXBLXXXXB"]
    assert steps and not any(out.processed(r) for r in steps)
    reason = out.row_of(steps[0])["reason"]
    assert "SPSX.CLQD.1.CLMC" in reason and "required" in reason, reason
    back = refused_row(sim, "SPGL_XMSPSXBLXXXXB", int(steps[0].key.rsplit(":", 1)[1]))
    assert back["SJSCZT"] == 2 and back["SBYY"].startswith("[CLQD] "), back
    assert any(r.data.get("SPSXSLBM") == good_case and out.processed(r) for r in out.records)
