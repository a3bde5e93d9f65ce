"""住建 前置库 end to end on the real broker, with the 前置库 on SQLite, PostgreSQL and
MariaDB: cases to the platform and the province once and in order, the upload state and
failure reason written back on every row (rejected ones included), the correction
pattern, and applications sent down with their receipts coming back."""
from __future__ import annotations

import json
import unicodedata
import uuid
from collections import defaultdict
from datetime import datetime

import pytest
import requests
import sqlalchemy as sa

from hub.model import Applicant, Application, Envelope, SHANGHAI, Source, message_id
from hub.model.envelope import now
from hub.ops.verify import verify
from hub.runtime.runner import Hub
from hub.store import Store
from sims.housing_schema import SPGL_TABLES, TABLES
from tests.conftest import publish_applications, wait_until
from tests.housing_dbs import KINDS, spgl_database

# The department's own code table, written out here rather than read from the mapping.
BLZT_TYPE = {1: "submitted", 3: "accepted", 5: "rejected", 6: "supplement_requested", 7: "supplemented",
             8: "in_review", 11: "completed", 12: "completed", 13: "completed"}


@pytest.fixture(params=KINDS)
def sims(request, monkeypatch):
    """The cluster, with the housing simulator's 前置库 on the database of this run."""
    from sims.cluster import start_all
    with spgl_database(request.param) as url:
        if url:
            monkeypatch.setenv("TONGBAN_SIM_HOUSING_DB_URL", url)
        cluster = start_all(host="127.0.0.1", ports=0, seed=7)
        yield cluster
        cluster.stop()


@pytest.fixture
def hs(settings):
    """Settings with the housing adapter on, polling fast."""
    settings["adapters"]["housing"].update(enabled=True, poll_interval=0.1)
    return settings


def table(sims, name: str) -> list[dict]:
    with sims["housing"].engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(TABLES[name]).order_by(TABLES[name].c.LSH)).mappings()]


def received(sims, dest: str) -> list[dict]:
    return requests.get(sims.urls[dest] + "/_admin/received", timeout=10).json()["items"]


def housing_only(items: list[dict]) -> list[dict]:
    return [i for i in items if i["body"]["source"]["department"] == "housing"]


def clean(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def run(settings, until, timeout=180, what="condition"):
    store = Store.open(settings["db_url"])
    hub = Hub(settings, store=store).start()
    try:
        return store, wait_until(lambda: until(store, hub), timeout=timeout, interval=0.5, what=what)
    finally:
        hub.shutdown()


def test_100_cases_arrive_once_in_order_with_the_rows_fields(hs, sims):
    requests.post(sims.urls["housing"] + "/_admin/load", json={"cases": 100}, timeout=120).raise_for_status()
    details, docs = table(sims, "SPGL_XMSPSXBLXXXXB"), table(sims, "SPGL_XMSPSXPFWJXXB")
    store, report = run(hs, lambda store, hub: (r := verify(hs, store, hub.mappings))["ok"] and all(
        d["missing"] == 0 for d in r["destinations"].values()) and r, what="every expected message delivered")
    dept = report["departments"]["housing"]
    assert dept["platform"]["expected"] == dept["platform"]["delivered"] == len(details)
    assert dept["province"]["expected"] == dept["province"]["delivered"] == len(docs)   # the 批复文件
    assert report["unmappable_records"] == 0 and report["dead_letters"] == 0

    # Independently of the mappings: what arrived against the 前置库 rows themselves.
    cases = {c["SPSXSLBM"]: c for c in table(sims, "SPGL_XMSPSXBLXXB")}
    projects = {p["GCDM"]: p for p in table(sims, "SPGL_XMJBXXB")}
    owners = {u["XMDM"]: u for u in table(sims, "SPGL_XMDWXXB") if u["DWLX"] == 1}
    steps = defaultdict(list)
    for d in details:
        steps[d["SPSXSLBM"]].append(d)
    arrived = housing_only(received(sims, "platform"))
    assert len(arrived) == len(details) and len({i["message_id"] for i in arrived}) == len(details)
    last = defaultdict(int)
    for item in arrived:
        env, p = item["body"], item["body"]["payload"]
        row = steps[p["case_no"]][p["sequence"] - 1]
        assert p["sequence"] > last[p["case_no"]], "steps of a case arrived out of order"
        last[p["case_no"]] = p["sequence"]
        owner = owners[projects[row["GCDM"]]["XMDM"]]
        assert p["type"] == BLZT_TYPE[row["BLZT"]] and p["attributes"]["status_code"] == row["BLZT"]
        assert datetime.fromisoformat(p["occurred_at"]) == row["BLSJ"].replace(tzinfo=SHANGHAI)
        assert p["handler"] == clean(row["BLR"]) and p["opinion"] == row["BLYJ"]
        assert p["item_code"] == cases[row["SPSXSLBM"]]["SPSXBM"]
        assert p["applicant"]["id_number"] == clean(owner["DWTYSHXYDM"]).upper()
        assert p["applicant"]["name"] == clean(owner["DWMC"])
        assert env["record_key"] == row["DFSJZJ"] and item["idempotency_key"] == env["message_id"]
    assert sum(len(s) for s in steps.values()) == len(arrived)

    permits = [json.loads(i["payload"]) for i in received(sims, "province") if i["kind"] == "certificate"]
    permits = [c for c in permits if c["source"]["department"] == "housing"]
    by_case = {d["SPSXSLBM"]: d for d in docs}
    assert len(permits) == len(docs)
    for c in permits:
        doc = by_case[c["case_no"]]
        assert c["payload"]["number"] == clean(doc["PFWH"])
        assert (c["payload"]["valid_to"] is None) == (doc["PFWJYXQX"].year == 9999)
        assert c["sequence"] == len(steps[c["case_no"]])      # the 办结 step

    # Upload state written back on every row the source read: SJSCZT=3, SCSJ set, no SBYY.
    for t in SPGL_TABLES:
        for row in table(sims, t.name):
            assert row["SJSCZT"] == 3 and row["SCSJ"] is not None and row["SBYY"] is None, (t.name, row["LSH"])
    store.close()


def test_rejected_rows_get_state_2_and_a_reason_naming_the_field(hs, sims):
    hs["adapters"]["housing"]["sbyy_length"] = 160
    made = requests.post(sims.urls["housing"] + "/_admin/load", json={"cases": 20, "bad": 2}, timeout=60).json()
    kinds = {kind: case for case, kind in made["bad_kinds"].items()}
    cases = {c["SPSXSLBM"]: c for c in table(sims, "SPGL_XMSPSXBLXXB")}
    projects = {p["GCDM"]: p for p in table(sims, "SPGL_XMJBXXB")}
    late = projects[cases[kinds["schedule"]]["GCDM"]]
    bad_unit = next(u for u in table(sims, "SPGL_XMDWXXB")
                    if u["XMDM"] == projects[cases[kinds["credit_code"]]["GCDM"]]["XMDM"] and u["DWLX"] == 1)
    bad_rows = [("SPGL_XMSPSXBLXXXXB", r) for r in table(sims, "SPGL_XMSPSXBLXXXXB")
                if r["SPSXSLBM"] == kinds["credit_code"]]
    bad_rows += [("SPGL_XMSPSXPFWJXXB", r) for r in table(sims, "SPGL_XMSPSXPFWJXXB")
                 if r["SPSXSLBM"] == kinds["credit_code"]]
    expected_dead = len(bad_rows) + 2          # + the 建设单位 row and the late project

    store, report = run(hs, lambda store, hub: len(store.list_dead_letters()) == expected_dead and (
        r := verify(hs, store, hub.mappings))["ok"] and r["destinations"]["platform"]["missing"] == 0 and r,
        what="bad rows dead-lettered, the rest delivered")
    assert report["unmappable_records"] == expected_dead
    dead = {d["record_key"]: d for d in store.list_dead_letters()}
    code = clean(bad_unit["DWTYSHXYDM"]).upper()
    project_dl = dead[f"SPGL_XMJBXXB:{late['LSH']}"]
    assert project_dl["stage"] == "decode" and "NKGSJ" in project_dl["reason"] and str(late["NKGSJ"]) in project_dl["reason"]
    unit_dl = dead[f"SPGL_XMDWXXB:{bad_unit['LSH']}"]
    assert unit_dl["stage"] == "decode" and "DWTYSHXYDM" in unit_dl["reason"] and code not in unit_dl["reason"]
    for _, row in bad_rows:
        dl = dead[row["DFSJZJ"]]
        assert dl["stage"] == "validate" and dl["case_no"] == kinds["credit_code"]
        assert "id_number" in dl["reason"] and code not in dl["reason"] and code[:6] in dl["reason"]

    # Written back: SJSCZT=2 with SBYY (column named first, masked, cut to size) on each refused row.
    state = {(t.name, r["LSH"]): r for t in SPGL_TABLES for r in table(sims, t.name)}
    refused = {("SPGL_XMJBXXB", late["LSH"]): "[NKGSJ]", ("SPGL_XMDWXXB", bad_unit["LSH"]): "[DWTYSHXYDM]",
               **{(t, r["LSH"]): "[DWTYSHXYDM]" for t, r in bad_rows}}
    for key, prefix in refused.items():
        row = state[key]
        assert row["SJSCZT"] == 2 and row["SBYY"].startswith(prefix) and len(row["SBYY"]) <= 160, key
        assert code not in row["SBYY"] and row["SCSJ"] is not None
    assert any(state[k]["SBYY"].endswith("…") for k in refused)          # long reasons cut to the column
    held = {k for k, r in state.items() if r["SJSCZT"] == 0}
    late_children = {k for k, r in state.items() if r.get("GCDM") == late["GCDM"] and k[0] != "SPGL_XMJBXXB"}
    late_children |= {("SPGL_XMDWXXB", u["LSH"]) for u in table(sims, "SPGL_XMDWXXB") if u["XMDM"] == late["XMDM"]}
    assert held == late_children                                          # waiting for their project
    assert all(r["SJSCZT"] == 3 for k, r in state.items() if k not in refused and k not in held)

    # The department corrects the project (SJYXBS=0 copy + new valid row): its children flow.
    fixed = requests.post(sims.urls["housing"] + "/_admin/correct", json={
        "table": "SPGL_XMJBXXB", "dfsjzj": late["DFSJZJ"], "set": {"NKGSJ": "2026-06-01", "NJCSJ": "2028-06-30"},
        "reason": "拟开工、拟建成时间填反"}, timeout=10).json()
    late_steps = sum(1 for k in late_children if k[0] == "SPGL_XMSPSXBLXXXXB")
    store.close()
    store, _ = run(hs, lambda store, hub: len([i for i in received(sims, "platform")
                                              if i["case_no"] == kinds["schedule"]]) == late_steps,
                   what="the corrected project's steps delivered")
    state = {(t.name, r["LSH"]): r for t in SPGL_TABLES for r in table(sims, t.name)}
    assert state[("SPGL_XMJBXXB", fixed["invalidated"])]["SJSCZT"] == 3   # the copy: read, no event
    assert state[("SPGL_XMJBXXB", fixed["valid"])]["SJSCZT"] == 3
    assert state[("SPGL_XMJBXXB", late["LSH"])]["SJSCZT"] == 2            # history stays as it was
    assert all(state[k]["SJSCZT"] == 3 for k in late_children)
    store.close()


def test_corrected_step_is_sent_again_and_the_invalid_copy_is_not(hs, sims):
    made = requests.post(sims.urls["housing"] + "/_admin/load", json={"cases": 3}, timeout=60).json()
    case_no = made["cases"][0]
    first = [r for r in table(sims, "SPGL_XMSPSXBLXXXXB") if r["SPSXSLBM"] == case_no]
    run(hs, lambda store, hub: len(housing_only(received(sims, "platform"))) == len(
        table(sims, "SPGL_XMSPSXBLXXXXB")), what="the first delivery")
    step = first[1]
    fixed = requests.post(sims.urls["housing"] + "/_admin/correct", json={
        "table": "SPGL_XMSPSXBLXXXXB", "dfsjzj": step["DFSJZJ"], "set": {"BLYJ": "材料齐全，予以受理（更正）"},
        "reason": "办理意见填写有误"}, timeout=10).json()
    store, items = run(hs, lambda store, hub: (
        i := [x for x in received(sims, "platform") if x["case_no"] == case_no]) and len(i) == len(first) + 1 and i,
        what="the corrected step delivered")
    again = [i["body"] for i in items if i["sequence"] == 2]
    assert [e["payload"]["opinion"] for e in again] == [step["BLYJ"], "材料齐全，予以受理（更正）"]
    assert again[0]["record_key"] == again[1]["record_key"] == step["DFSJZJ"]   # same step, a new version
    assert again[0]["message_id"] != again[1]["message_id"]
    # an update, and the platform is told which message it replaces (hub/runtime/conflicts.py)
    updates = [i for i in items if i["sequence"] == 2 and i.get("supersedes")]
    assert [u["supersedes"] for u in updates] == [again[0]["message_id"]]
    rows = {r["LSH"]: r for r in table(sims, "SPGL_XMSPSXBLXXXXB")}
    assert rows[fixed["invalidated"]]["SJSCZT"] == 3 and rows[fixed["valid"]]["SJSCZT"] == 3
    store.close()


def _application(no: str, mid: uuid.UUID) -> bytes:
    app = Application(application_no=no, item_code="000117001000", department="housing",
                      applicant=Applicant(kind="organisation", name="杭州滨鑫开发建设有限公司", id_type="uscc",
                                          id_number="91330106MA27LLJ18W", phone="13867123490"),
                      submitted_at=datetime.now(SHANGHAI), form={"project_name": "滨鑫学校新建工程"})
    env = Envelope(message_id=mid, schema_name="tongban.application", kind="application",
                   source=Source(department="platform", system="platform-applications"), case_no=no,
                   mapping="platform.application@1", record_key=no, occurred_at=app.submitted_at,
                   produced_at=now(), trace_id=uuid.uuid4().hex, payload=app)
    return env.model_dump_json().encode("utf-8")


def test_application_inserted_once_and_its_receipt_reaches_the_platform(hs, sims):
    no = f"WB{uuid.uuid4().hex[:12].upper()}"
    mid = message_id("platform-applications", "platform.application", no, "1")
    # The same message twice (the ledger skips it), and a re-submission under a new message
    # id (the 前置库's unique SQBH refuses it: the sink reports "duplicate").
    publish_applications(hs, "housing", [(_application(no, m), str(m)) for m in (mid, mid, uuid.uuid4())])
    store, receipt = run(hs, lambda store, hub: next((i for i in received(sims, "platform") if i["case_no"] == no),
                                                     None), what="the receipt at the platform")
    apps = requests.get(sims.urls["housing"] + "/_admin/applications", timeout=10).json()["items"]
    assert [(a["SQBH"], a["SQRZJLX"], a["SQFS"]) for a in apps] == [(no, "A05300", 4)]
    assert apps[0]["SJSCZT"] == 3 and apps[0]["DFSJZJ"] == str(mid)
    p = receipt["body"]["payload"]
    assert (p["type"], p["sequence"], p["department"], p["item_code"]) == ("accepted", 1, "housing", "000117001000")
    assert p["attributes"]["acceptance_no"] == apps[0]["SPSXSLBM"]
    ledger = sa.create_engine(hs["db_url"])   # the hub's own store: what the sink reported
    with ledger.connect() as c:
        outcomes = sorted(r[0] for r in c.exec_driver_sql(
            "SELECT outcome FROM deliveries WHERE destination = 'housing'"))
    ledger.dispose()
    assert outcomes == ["accepted", "duplicate"]
    assert [i for i in received(sims, "platform") if i["case_no"] == no] == [receipt]
    store.close()
