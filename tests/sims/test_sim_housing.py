"""The 住建 前置库 simulator on SQLite, PostgreSQL and MariaDB: the rows it writes (SPGL
names, codes, orders), its bad rows, the correction pattern, and its southbound job."""
from __future__ import annotations

import json
import re
import time
import unicodedata
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from stdnum.cn import uscc

from sims.housing import HousingNewSim, HousingSim
from sims.housing_schema import TABLES
from tests.housing_dbs import KINDS, spgl_database

XMDM = re.compile(r"^\d{4}-\d{6}-\d{2}-\d{2}-\d{6}$")   # REFERENCE.md §2
FLOWS = {(1, 3, 8, 11), (1, 6, 7, 3, 8, 11), (1, 3, 8, 12), (1, 3, 8, 13), (1, 5)}


@pytest.fixture(params=KINDS)
def housing(request):
    with spgl_database(request.param) as url:
        with HousingSim(port=0, seed=1234, db_url=url) as sim:
            yield sim


def rows(sim, table: str) -> list[dict]:
    with sim.engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(TABLES[table]).order_by(TABLES[table].c.LSH)).mappings()]


def load(http, sim, cases, bad=0) -> dict:
    r = http.post(f"{sim.url}/_admin/load", json={"cases": cases, "bad": bad})
    assert r.status_code == 200, r.text
    return r.json()


def test_starts_empty_and_reset_empties(http, housing):
    assert http.get(f"{housing.url}/_admin/events").json()["count"] == 0
    assert all(rows(housing, t) == [] for t in TABLES)
    load(http, housing, 3)
    assert http.post(f"{housing.url}/_admin/reset").status_code == 200
    assert all(rows(housing, t) == [] for t in TABLES)
    assert http.get(f"{housing.url}/_admin/events").json()["count"] == 0


def test_rows_follow_the_spgl_shape(http, housing):
    made = load(http, housing, 40)
    projects, units, cases = rows(housing, "SPGL_XMJBXXB"), rows(housing, "SPGL_XMDWXXB"), rows(housing, "SPGL_XMSPSXBLXXB")
    details, docs = rows(housing, "SPGL_XMSPSXBLXXXXB"), rows(housing, "SPGL_XMSPSXPFWJXXB")
    assert len(projects) == len(cases) == 40 and {c["SPSXSLBM"] for c in cases} == set(made["cases"])
    for table in TABLES.values():
        for row in rows(housing, table.name):   # new rows, nothing uploaded yet
            assert row["SJSCZT"] == 0 and row["SJYXBS"] == 1 and row["SBYY"] is None and re.match(r"^\d{6}$", row["XZQHDM"])
    for p in projects:
        assert XMDM.match(p["XMDM"]) and p["GCDM"].startswith(p["XMDM"] + "-")
        assert p["NKGSJ"] < p["NJCSJ"]                       # check 130
    owners = [u for u in units if u["DWLX"] == 1]
    assert len(owners) == 40
    for u in units:
        assert uscc.is_valid(unicodedata.normalize("NFKC", u["DWTYSHXYDM"]).strip())
    steps = defaultdict(list)
    for d in details:
        steps[d["SPSXSLBM"]].append(d)
    for case_no, ds in steps.items():
        assert tuple(d["BLZT"] for d in ds) in FLOWS
        assert [d["BLSJ"] for d in ds] == sorted(d["BLSJ"] for d in ds)
        assert all(d["BLSJ"].microsecond == 0 for d in ds)
    passed = {c for c, ds in steps.items() if ds[-1]["BLZT"] in (11, 12)}
    assert {d["SPSXSLBM"] for d in docs} == passed
    for doc in docs:
        done = steps[doc["SPSXSLBM"]][-1]
        assert doc["PFRQ"] == done["BLSJ"].date() and doc["PFWH"]
        assert doc["PFWJYXQX"].year == 9999 or doc["PFWJYXQX"] > doc["PFRQ"]


def test_events_are_what_the_source_reads(http, housing):
    load(http, housing, 10)
    items = http.get(f"{housing.url}/_admin/events").json()["items"]
    # Context rows that pass the checks are settled by the reader, not handed on.
    assert {i["TABLE"] for i in items} <= {"SPGL_XMSPSXBLXXXXB", "SPGL_XMSPSXPFWJXXB"}
    by_case = defaultdict(list)
    for i in items:
        if i["TABLE"] == "SPGL_XMSPSXBLXXXXB":
            by_case[i["SPSXSLBM"]].append(i)
            assert re.match(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$", i["BLSJ"])
        assert i["SPSX"]["SPSXBM"].startswith("000117") and i["JSDW"]["DWTYSHXYDM"] and i["XM"]["XMDM"]
    for steps in by_case.values():
        assert [s["BLXH"] for s in steps] == list(range(1, len(steps) + 1))
    for doc in (i for i in items if i["TABLE"] == "SPGL_XMSPSXPFWJXXB"):
        assert doc["BLXH"] == len(by_case[doc["SPSXSLBM"]])   # the step of 办结
        assert re.match(r"^\d{4}-\d{2}-\d{2}$", doc["PFRQ"])


def test_bad_rows_and_held_children(http, housing):
    made = load(http, housing, 4, bad=2)
    kinds = {v: k for k, v in made["bad_kinds"].items()}
    units = {u["XMDM"]: u for u in rows(housing, "SPGL_XMDWXXB") if u["DWLX"] == 1}
    projects = {p["GCDM"]: p for p in rows(housing, "SPGL_XMJBXXB")}
    cases = {c["SPSXSLBM"]: c for c in rows(housing, "SPGL_XMSPSXBLXXB")}
    bad_unit = units[projects[cases[kinds["credit_code"]]["GCDM"]]["XMDM"]]
    assert not uscc.is_valid(unicodedata.normalize("NFKC", bad_unit["DWTYSHXYDM"]).strip())
    late = projects[cases[kinds["schedule"]]["GCDM"]]
    assert late["NKGSJ"] > late["NJCSJ"]
    items = http.get(f"{housing.url}/_admin/events").json()["items"]
    # The refused project is handed on (to be dead-lettered); its children wait for it.
    assert [i["LSH"] for i in items if i["TABLE"] == "SPGL_XMJBXXB"] == [late["LSH"]]
    assert not [i for i in items if i.get("SPSXSLBM") == kinds["schedule"]]
    assert [i["LSH"] for i in items if i["TABLE"] == "SPGL_XMDWXXB"] == [bad_unit["LSH"]]
    assert [i for i in items if i.get("SPSXSLBM") == kinds["credit_code"]]


def test_correction_is_a_copy_and_a_new_row_never_an_update(http, housing):
    made = load(http, housing, 2, bad=2)
    late_case = next(k for k, v in made["bad_kinds"].items() if v == "schedule")
    gcdm = next(c["GCDM"] for c in rows(housing, "SPGL_XMSPSXBLXXB") if c["SPSXSLBM"] == late_case)
    before = next(p for p in rows(housing, "SPGL_XMJBXXB") if p["GCDM"] == gcdm)
    r = http.post(f"{housing.url}/_admin/correct", json={
        "table": "SPGL_XMJBXXB", "dfsjzj": before["DFSJZJ"], "set": {"NKGSJ": "2026-05-01", "NJCSJ": "2027-12-31"},
        "reason": "拟开工时间填报错误"})
    assert r.status_code == 200, r.text
    versions = [p for p in rows(housing, "SPGL_XMJBXXB") if p["DFSJZJ"] == before["DFSJZJ"]]
    assert [(v["SJYXBS"], v["SJWXYY"]) for v in versions] == [(1, None), (0, "拟开工时间填报错误"), (1, None)]
    assert versions[0] == before                                         # untouched
    assert versions[1]["NKGSJ"] == before["NKGSJ"]                       # the copy of what was wrong
    assert str(versions[2]["NKGSJ"]) == "2026-05-01" and versions[2]["LSH"] > versions[1]["LSH"]
    items = http.get(f"{housing.url}/_admin/events").json()["items"]
    assert [i for i in items if i.get("SPSXSLBM") == late_case]          # released
    bad = http.post(f"{housing.url}/_admin/correct", json={"table": "SPGL_XMJBXXB", "dfsjzj": "nope", "set": {}})
    assert bad.status_code == 404


def _apply(sim, sqbh: str, item: str = "000117001000") -> None:
    t = TABLES["TB_SQXXB"]
    with sim.engine.begin() as conn:   # what the hub's sink does: one INSERT, SJSCZT=0
        conn.execute(sa.insert(t).values(DFSJZJ=f"m-{sqbh}", XZQHDM="330100", SQBH=sqbh, SPSXBM=item,
                                         SQRMC="杭州滨鑫开发建设有限公司", SQRZJLX="A05300",
                                         SQRZJHM="91330106MA27LLJ18W", SJSCZT=0))


def _wait(predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_applications_get_an_acceptance_number_and_a_receipt(http, housing):
    _apply(housing, "WB2026000001")
    _apply(housing, "WB2026000002", item="000201001000")   # a commerce item: not ours
    with pytest.raises(sa.exc.IntegrityError):
        _apply(housing, "WB2026000001")                   # the same application twice
    assert _wait(lambda: all(a["SJSCZT"] != 0 for a in rows(housing, "TB_SQXXB")))
    apps = {a["SQBH"]: a for a in http.get(f"{housing.url}/_admin/applications").json()["items"]}
    assert len(apps) == 2 and apps["WB2026000001"]["application_no"] == "WB2026000001"
    ok, refused = apps["WB2026000001"], apps["WB2026000002"]
    assert ok["SJSCZT"] == 3 and re.match(r"^SPSX-330100-\d{8}-\d{5}$", ok["SPSXSLBM"])
    assert refused["SJSCZT"] == 2 and "SPSXBM" in refused["SBYY"] and refused["SPSXSLBM"] is None
    receipts = [i for i in http.get(f"{housing.url}/_admin/events").json()["items"] if i["TABLE"] == "TB_SQHZXXB"]
    assert [(r["SQBH"], r["SPSXSLBM"]) for r in receipts] == [("WB2026000001", ok["SPSXSLBM"])]


def test_inbox_fault_holds_applications_until_resumed(http, housing):
    r = http.post(f"{housing.url}/_admin/faults", json={"inbox_paused": True, "latency_ms": 0})
    assert r.status_code == 200 and r.json()["inbox_paused"] is True
    _apply(housing, "WB2026000003")
    time.sleep(0.6)
    assert rows(housing, "TB_SQXXB")[0]["SJSCZT"] == 0 and rows(housing, "TB_SQHZXXB") == []
    http.post(f"{housing.url}/_admin/faults", json={"inbox_paused": False})
    assert _wait(lambda: len(rows(housing, "TB_SQHZXXB")) == 1)
    assert http.post(f"{housing.url}/_admin/faults", json={"inbox_paused": "yes"}).status_code == 400


def test_endpoints_and_temp_file():
    sim = HousingSim(port=0, seed=1).start()
    url = sim.endpoints()["db_url"]
    path = Path(url[len("sqlite:///"):])
    assert url.startswith("sqlite:///") and path.exists()
    sim.stop()
    assert not path.exists()


# --- the cloud copy (housing_new) and its drift ------------------------------------------
# The new copy is made with the old one's seed, so it writes the same rows; drift changes them
# in its own database only, as sims/housing_drift.py says.

DETAIL, DOCUMENT = "SPGL_XMSPSXBLXXXXB", "SPGL_XMSPSXPFWJXXB"
CONTEXT = ("SPGL_XMJBXXB", "SPGL_XMDWXXB", "SPGL_XMSPSXBLXXB")


@pytest.fixture(params=KINDS)
def pair(request):
    """(old, new) on databases of their own, of the same kind."""
    with spgl_database(request.param) as old_url, spgl_database(request.param) as new_url:
        with HousingSim(port=0, seed=1234, db_url=old_url) as old, \
                HousingNewSim(port=0, seed=1234, db_url=new_url) as new:
            assert old.db_url != new.db_url
            yield old, new


def drift(http, sim, body) -> dict:
    r = http.post(f"{sim.url}/_admin/drift", json=body)
    assert r.status_code == 200, r.text
    assert r.json()["drift"] == body
    return r.json()


def rows_of(http, sim, table: str) -> list[dict]:
    """The rows as GET /_admin/rows shows them (columns a rename added included)."""
    r = http.get(f"{sim.url}/_admin/rows", params={"table": table})
    assert r.status_code == 200, r.text
    return r.json()["items"]


def columns_of(sim, table: str) -> set[str]:
    return {c["name"].upper() for c in sa.inspect(sim.engine).get_columns(table)}


def shifted(text: str, hours: int = -8) -> str:
    return (datetime.strptime(text, "%Y-%m-%d %H:%M:%S") + timedelta(hours=hours)).strftime("%Y-%m-%d %H:%M:%S")


def test_without_drift_the_new_copy_writes_what_the_old_one_writes(http, pair):
    old, new = pair
    drift(http, new, {"seed": 3})
    assert load(http, old, 12, bad=2) == load(http, new, 12, bad=2)
    for table in TABLES:
        assert rows_of(http, new, table) == rows_of(http, old, table), table
    assert http.get(f"{new.url}/_admin/events").json() == http.get(f"{old.url}/_admin/events").json()


def test_reorder_materials_changes_only_the_order_of_each_cases_materials(http, pair):
    old, new = pair
    drift(http, new, {"reorder_materials": True, "seed": 3})
    load(http, old, 12)
    load(http, new, 12)
    for table in TABLES:
        if table != "SPGL_XMSPSXBLXXB":
            assert rows_of(http, new, table) == rows_of(http, old, table), table
    moved = 0
    for a, b in zip(rows_of(http, old, "SPGL_XMSPSXBLXXB"), rows_of(http, new, "SPGL_XMSPSXBLXXB")):
        assert {**a, "CLQD": None} == {**b, "CLQD": None}
        listed_a, listed_b = json.loads(a["CLQD"]), json.loads(b["CLQD"])
        key = lambda m: m["CLMC"]   # noqa: E731
        assert sorted(listed_a, key=key) == sorted(listed_b, key=key)
        moved += listed_a != listed_b
    assert moved == 12   # every housing item lists four or more materials


def test_each_drift_changes_exactly_its_column(http, pair):
    old, new = pair
    body = {"drop_field": ["BLYJ", "FJMC"], "rename_field": {"BLR": "BLRXM"}, "utc_times": True,
            "status_code": {"field": "BLZT", "step": "8", "value": "10"}, "seed": 5}
    drift(http, new, body)
    load(http, old, 30)
    load(http, new, 30)
    assert "BLRXM" in columns_of(new, DETAIL) and "BLRXM" not in columns_of(old, DETAIL)   # ALTER TABLE
    old_steps, new_steps = rows_of(http, old, DETAIL), rows_of(http, new, DETAIL)
    assert len(old_steps) == len(new_steps) > 90
    assert {o["BLZT"] for o in old_steps} >= {1, 3, 8, 11}
    for o, n in zip(old_steps, new_steps):
        assert (n["BLR"], n["BLRXM"], n["BLYJ"]) == (None, o["BLR"], None)   # renamed: the old column NULL
        assert n["BLZT"] == (10 if o["BLZT"] == 8 else o["BLZT"])
        assert n["BLSJ"] == shifted(o["BLSJ"])                                 # UTC, 8 hours behind
        untouched = {k: v for k, v in o.items() if k not in ("BLR", "BLYJ", "BLZT", "BLSJ")}
        assert untouched == {k: v for k, v in n.items() if k in untouched} and set(n) == set(o) | {"BLRXM"}
    old_docs, new_docs = rows_of(http, old, DOCUMENT), rows_of(http, new, DOCUMENT)
    assert len(old_docs) == len(new_docs) > 10
    for o, n in zip(old_docs, new_docs):
        assert n["FJMC"] is None and o["FJMC"]
        # the rest as it was: PFRQ is a date, utc_times has no time of day to shift
        assert {k: v for k, v in o.items() if k != "FJMC"} == {k: v for k, v in n.items() if k != "FJMC"}
    for table in CONTEXT:
        assert rows_of(http, new, table) == rows_of(http, old, table), table
    # what the hub's reader hands on: no handler, no opinion, the other code
    events = [i for i in http.get(f"{new.url}/_admin/events").json()["items"] if i["TABLE"] == DETAIL]
    assert events and all(i["BLR"] is None and i["BLYJ"] is None and i["BLZT"] != 8 for i in events)


def test_missing_and_extra_rows(http, pair):
    old, new = pair
    drift(http, new, {"missing_rate": 0.15, "extra_rate": 1.0, "seed": 9})
    load(http, old, 40)
    load(http, new, 40)
    for table in CONTEXT:   # never lost: a lost project would hold all its rows back
        assert rows_of(http, new, table) == rows_of(http, old, table), table
    same = lambda r: {k: v for k, v in r.items() if k != "LSH"}  # noqa: E731
    old_steps = {r["DFSJZJ"]: r for r in rows_of(http, old, DETAIL)}
    new_steps = rows_of(http, new, DETAIL)
    kept = [r for r in new_steps if r["DFSJZJ"] in old_steps]
    extra = [r for r in new_steps if r["DFSJZJ"] not in old_steps]
    assert all(same(r) == same(old_steps[r["DFSJZJ"]]) for r in kept)
    assert 0 < len(old_steps) - len(kept) < len(old_steps) * 0.3              # some rows never written
    assert [r["DFSJZJ"] for r in kept] == [k for k in old_steps if k in {r["DFSJZJ"] for r in kept}]  # in order
    # a decision (办结 11/12/13) written twice: a row of its own right after the first, once a case
    by_lsh = {r["LSH"]: r for r in new_steps}
    decided = {r["SPSXSLBM"] for r in kept if r["BLZT"] in (11, 12, 13)}
    assert extra and {r["SPSXSLBM"] for r in extra} == decided and len(extra) == len(decided)
    for r in extra:
        first = by_lsh[r["LSH"] - 1]
        assert first["DFSJZJ"] in old_steps and same(r) == {**same(first), "DFSJZJ": r["DFSJZJ"]}
    # ... and the reader numbers it as the case's next step
    events = [i for i in http.get(f"{new.url}/_admin/events").json()["items"] if i["TABLE"] == DETAIL]
    steps = defaultdict(list)
    for i in events:
        steps[i["SPSXSLBM"]].append(i)
    for r in extra:
        assert steps[r["SPSXSLBM"]][-1]["DFSJZJ"] == r["DFSJZJ"]
        assert steps[r["SPSXSLBM"]][-1]["BLXH"] == len(steps[r["SPSXSLBM"]])
    old_docs = {r["DFSJZJ"]: r for r in rows_of(http, old, DOCUMENT)}
    new_docs = rows_of(http, new, DOCUMENT)
    assert all(same(r) == same(old_docs[r["DFSJZJ"]]) for r in new_docs)
    assert 0 < len(old_docs) - len(new_docs) < len(old_docs) * 0.4


def test_lag_holds_the_rows_back_then_inserts_them_in_order(http, pair):
    old, new = pair
    drift(http, new, {"lag_seconds": 1.5})
    started = time.monotonic()
    first = load(http, new, 6)
    drift(http, new, {})                   # no lag any more: the next load still waits behind the first
    second = load(http, new, 4)
    assert first["cases"] and second["cases"]
    assert http.get(f"{new.url}/_admin/cases").json()["count"] == 10    # written, so listed ...
    assert all(rows(new, t) == [] for t in TABLES)                     # ... but not in the 前置库 yet
    assert http.get(f"{new.url}/_admin/events").json()["count"] == 0
    assert _wait(lambda: len(rows(new, DETAIL)) > 0, timeout=10)
    assert time.monotonic() - started >= 1.4
    assert _wait(lambda: not new.held)
    load(http, old, 6)
    load(http, old, 4)
    for table in TABLES:                    # the same rows, in the same LSH order, as without the lag
        keys = lambda sim: [(r["LSH"], r["DFSJZJ"]) for r in rows(sim, table)]  # noqa: E731
        assert keys(new) == keys(old), table
    load(http, new, 1)                      # nothing held, no lag: written at once
    assert len(rows(new, "SPGL_XMSPSXBLXXB")) == 11


@pytest.mark.parametrize("body, words", [
    ({"colour": "red"}, "unknown drift keys"),
    ({"reorder_materials": 2}, "reorder_materials"),
    ({"missing_rate": 1.5}, "missing_rate"),
    ({"extra_rate": "often"}, "extra_rate"),
    ({"lag_seconds": -1}, "lag_seconds"),
    ({"utc_times": "yes"}, "utc_times"),
    ({"drop_field": "BLYJ"}, "drop_field"),
    ({"drop_field": ["BLZT"]}, "NOT NULL"),                        # the 前置库 would refuse the row
    ({"drop_field": ["SJSCZT"]}, "SJSCZT"),                        # exchange state never drifts
    ({"drop_field": ["XMMC"]}, "XMMC"),                            # a project column: not a row the hub reads
    ({"rename_field": {"BLSJ": "BLSJ2"}}, "NOT NULL"),
    ({"rename_field": {"BLR": "BLYJ"}}, "column already"),
    ({"rename_field": {"BLR": "BL R"}}, "not a column name"),
    ({"rename_field": ["BLR"]}, "rename_field"),
    ({"status_code": {"field": "BLZT", "step": "eight", "value": 3}}, "status_code.step"),
    ({"status_code": {"field": "BLZT", "step": 8, "value": None}}, "status_code.value"),
    ({"status_code": {"field": "XMMC", "step": 8, "value": "x"}}, "status_code.field"),
    ({"status_code": {"field": "BLZT", "step": 8}}, "status_code"),
    ([{"missing_rate": 1}], "JSON object"),
])
def test_bad_drift_is_refused_and_changes_nothing(http, body, words):
    with HousingNewSim(port=0, seed=1) as new:
        drift(http, new, {"missing_rate": 0.5})
        r = http.post(f"{new.url}/_admin/drift", json=body)
        assert r.status_code == 400 and words in r.json()["error"], r.text
        assert new.drift == {"missing_rate": 0.5}


def test_drift_is_forgotten_on_reset(http):
    with HousingNewSim(port=0, seed=1) as new:
        drift(http, new, {"missing_rate": 1.0, "rename_field": {"BLR": "BLRXM"}})
        load(http, new, 3)
        assert rows(new, DETAIL) == [] and rows(new, DOCUMENT) == [] and len(rows(new, "SPGL_XMSPSXBLXXB")) == 3
        assert "BLRXM" in columns_of(new, DETAIL)
        drift(http, new, {"lag_seconds": 30})
        load(http, new, 1)
        assert new.held
        assert http.post(f"{new.url}/_admin/reset").status_code == 200
        assert new.drift == {} and new.held == [] and new.wide == {}
        assert "BLRXM" not in columns_of(new, DETAIL)          # the tables made again, as the standard has them
        load(http, new, 3)
        steps = rows_of(http, new, DETAIL)
        assert steps and all(r["BLR"] for r in steps) and "BLRXM" not in steps[0]

