"""The 住建 前置库 simulator on SQLite, PostgreSQL and MariaDB: the rows it writes (SPGL
names, codes, orders), its bad rows, the correction pattern, and its southbound job."""
from __future__ import annotations

import re
import time
import unicodedata
from collections import defaultdict
from pathlib import Path

import pytest
import sqlalchemy as sa
from stdnum.cn import uscc

from sims.housing import HousingSim
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
