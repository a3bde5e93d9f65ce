"""自然资源 用地审批 (file drops) through the real broker and real folders: generated cases
reach the platform and the province exactly once and in order with the fields the batch
files hold; GB18030 names outside GBK arrive intact; one bad record in a batch is
dead-lettered and the rest flow; a file dropped twice is read once; applications go down
as inbox files once and their receipts come back to the platform."""
from __future__ import annotations

import json
import re
import time
import unicodedata
import uuid
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
import requests

from hub.model import SHANGHAI, Applicant, Application, Envelope, Source, message_id
from hub.model.envelope import now
from hub.ops.verify import verify
from hub.runtime.runner import Hub
from hub.store import Store
from tests.conftest import publish_applications, wait_until, empty_queues

STEPS = {"101": "submitted", "102": "accepted", "103": "rejected", "104": "supplement_requested",
         "105": "supplemented", "201": "in_review", "301": "decided", "302": "decided",
         "401": "certificate_issued", "402": "certificate_issued", "501": "completed"}


@pytest.fixture
def land_settings(settings):
    settings["adapters"]["land"].update(enabled=True, poll_interval=0.1)
    empty_queues(settings)  # the land queue joins the topology now: empty it of any earlier test's messages
    return settings


def _get(url: str) -> list[dict]:
    return requests.get(url, timeout=10).json()["items"]


def _clean(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def _legacy_time(text: str) -> datetime:
    """QMSJ as the desks print it, read without the hub's transforms."""
    m = re.match(r"^(\d{4})[-/年](\d{1,2})[-/月](\d{1,2})日?(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$", text.strip())
    y, mo, d, h, mi, s = (int(x) if x else 0 for x in m.groups())
    return datetime(y, mo, d, h, mi, s)


def _until_delivered(settings, store, hub, extra=lambda r: True):
    return lambda: (r := verify(settings, store, hub.mappings))["ok"] and all(
        d["missing"] == 0 for d in r["destinations"].values()) and extra(r) and r


def _run(settings, store, until, what: str, timeout: float = 150):
    hub = Hub(settings, store=store).start()
    try:
        return wait_until(until(hub), timeout=timeout, interval=1, what=what)
    finally:
        hub.shutdown()


def _work(settings) -> dict[str, list[str]]:
    out = Path(settings["adapters"]["land"]["outbox"])
    return {d: sorted(p.name for p in (out / d).iterdir()) for d in ("processing", "done", "failed", "duplicates")}


def test_100_cases_arrive_once_in_order_with_the_files_fields(land_settings, sims):
    requests.post(sims.urls["land"] + "/_admin/load", json={"cases": 100}, timeout=60).raise_for_status()
    store = Store.open(land_settings["db_url"])
    if "catalogue" in sims.servers:   # the land items must be in the provincial catalogue, or they die
        from hub.ops.catalog import sync
        assert not sync(land_settings, store)["refused"]
    report = _run(land_settings, store, lambda hub: _until_delivered(land_settings, store, hub), "every record")

    legacy = _get(sims.urls["land"] + "/_admin/events")
    by_step = {(r["SLBH"], int(r["SXH"])): r for r in legacy}
    land = report["departments"]["land"]
    assert land["platform"]["expected"] == land["platform"]["delivered"] == len(legacy)
    certs = [r for r in legacy if r["JDDM"] in ("401", "402")]
    decided = [r for r in legacy if r["JDDM"] in ("301", "302")]
    assert land["province"]["expected"] == land["province"]["delivered"] == len(certs) + len(decided)
    for d in land.values():
        assert d["duplicates"] == d["out_of_order"] == d["unexpected"] == d["altered"] == 0

    last = defaultdict(int)
    arrived = [i for i in _get(sims.urls["platform"] + "/_admin/received") if i["body"]["source"]["department"] == "land"]
    assert len(arrived) == len(legacy)
    for item in arrived:
        env, p = item["body"], item["body"]["payload"]
        row = by_step[(p["case_no"], p["sequence"])]
        assert p["sequence"] > last[p["case_no"]], "steps of a case arrived out of order"
        last[p["case_no"]] = p["sequence"]
        assert env["record_key"] == row["SHXXID"] and item["idempotency_key"] == env["message_id"]
        assert p["type"] == STEPS[row["JDDM"]] and p["item_code"] == row["SXBM"]
        assert datetime.fromisoformat(p["occurred_at"]).replace(tzinfo=None) == _legacy_time(row["QMSJ"])
        assert p["applicant"]["name"] == _clean(row["QLRMC"])
        assert p["applicant"]["id_number"] == _clean(row["ZJH"]).upper()
        assert p["applicant"]["kind"] == ("person" if row["QLRLX"] == "1" else "organisation")
        a = p["attributes"]
        assert a["parcel_code"] == row["ZDDM"] and a["unit_code"] == row["ZDDM"] + "W00000000"
        assert Decimal(a["area"]) == Decimal(row["ZDMJ"].replace(",", ""))
        assert a["land_use_code"] == row["YT"] and a["location"] == row["ZL"]
        assert p["handler"] == row["SHRYXM"] and p["opinion"] == (row.get("SHYJ") or None)
    assert len(last) == 100

    issued = [json.loads(i["payload"]) for i in _get(sims.urls["province"] + "/_admin/received")
              if i["kind"] == "certificate"]
    assert len(issued) == len(certs)
    for env in issued:
        row = by_step[(env["case_no"], env["sequence"])]
        assert env["payload"]["number"] == (row.get("XKZH") or row.get("BDCQZH"))
        assert env["payload"]["holder"]["name"] == _clean(row["QLRMC"])
    work = _work(land_settings)
    files = [f["name"] for f in _get(sims.urls["land"] + "/_admin/files")]
    assert work == {"processing": [], "done": files, "failed": [], "duplicates": []}
    store.close()


def test_gb18030_names_outside_gbk_arrive_intact_at_both_destinations(land_settings, sims):
    requests.post(sims.urls["land"] + "/_admin/load", json={"cases": 20, "format": "xml", "encoding": "GB18030",
                                                             "rare": 1.0, "rare_chars": "䶮"}, timeout=60)
    requests.post(sims.urls["land"] + "/_admin/load", json={"cases": 20, "format": "csv", "encoding": "GB18030",
                                                             "rare": 1.0, "rare_chars": "𠮷"}, timeout=60)
    sent = Path(land_settings["adapters"]["land"]["outbox"]).parent / "sim" / "sent"
    raw = b"".join(p.read_bytes() for p in sent.iterdir())
    assert b"\xfe\x9f" in raw and "𠮷".encode("gb18030") in raw       # 䶮 and 𠮷 as GB18030 bytes on disk
    store = Store.open(land_settings["db_url"])
    _run(land_settings, store, lambda hub: _until_delivered(land_settings, store, hub), "every record")
    legacy_names = {_clean(r["QLRMC"]) for r in _get(sims.urls["land"] + "/_admin/events")}
    rare = {n for n in legacy_names if "䶮" in n or "𠮷" in n}
    assert any("䶮" in n for n in rare) and any("𠮷" in n for n in rare)
    at_platform = {i["body"]["payload"]["applicant"]["name"] for i in _get(sims.urls["platform"] + "/_admin/received")}
    at_province = {json.loads(i["payload"])["payload"].get("holder", {}).get("name")
                   for i in _get(sims.urls["province"] + "/_admin/received")}
    assert rare <= at_platform
    assert {n for n in at_province if n and ("䶮" in n or "𠮷" in n)}, "no certificate holder with a rare name"
    assert at_province - {None} <= legacy_names
    store.close()


def test_one_bad_record_in_a_batch_is_dead_lettered_and_the_rest_flow(land_settings, sims):
    made = requests.post(sims.urls["land"] + "/_admin/load", json={"cases": 12, "bad": 3}, timeout=60).json()
    outbox = Path(land_settings["adapters"]["land"]["outbox"])
    (outbox / "TDSP_29991231_99999999.xml").write_bytes(          # a file cut off: unreadable as a whole
        '<?xml version="1.0" encoding="GB18030"?><Message><Data><Record><JLLX>BL'.encode("gb18030"))
    legacy = _get(sims.urls["land"] + "/_admin/events")
    bad = {b["case"]: b["kind"] for b in made["bad"]}
    doomed = [r for r in legacy if bad.get(r["SLBH"]) in ("parcel", "id")]
    doomed += [r for r in legacy if bad.get(r["SLBH"]) == "date" and re.search(r"-02-30|2月30日|-04-31", r["QMSJ"])]
    store = Store.open(land_settings["db_url"])
    _run(land_settings, store, lambda hub: _until_delivered(
        land_settings, store, hub, lambda r: len(store.list_dead_letters()) == len(doomed) + 1), "dead letters")

    dead = {d["record_key"]: d for d in store.list_dead_letters()}
    by_key = {r["SHXXID"]: r for r in legacy}
    for row in doomed:
        d = dead[row["SHXXID"]]
        assert d["department"] == "land" and json.loads(d["payload"]) == row   # kept as read, for replay
        kind = bad[row["SLBH"]]
        if kind == "parcel":
                assert d["stage"] == "map" and "ZDDM" in d["reason"] and row["ZDDM"] in d["reason"]
        elif kind == "id":
            assert d["stage"] == "validate" and "applicant.id_number" in d["reason"]
            assert _clean(row["ZJH"]).upper() not in d["reason"]                # masked
        else:
            assert d["stage"] == "map" and "QMSJ" in d["reason"] and "impossible date" in d["reason"]
        assert f"record {row['SHXXID']}" in d["reason"]
    whole = dead["TDSP_29991231_99999999.xml"]
    assert whole["stage"] == "decode" and "could not be read" in whole["reason"]
    work = _work(land_settings)
    assert work["failed"] == ["TDSP_29991231_99999999.xml", "TDSP_29991231_99999999.xml.reason"]
    # The good steps of the date-broken case before its dead step flowed, those after it wait for it
    # (per-case order: held at the destination, not lost); nothing of the other two cases flowed.
    arrived = {(i["case_no"], i["sequence"]) for i in _get(sims.urls["platform"] + "/_admin/received")}
    first_dead: dict[str, int] = {}
    for r in doomed:
        first_dead[r["SLBH"]] = min(int(r["SXH"]), first_dead.get(r["SLBH"], 10 ** 6))
    good = [(r["SLBH"], int(r["SXH"])) for r in legacy if r["SHXXID"] not in {x["SHXXID"] for x in doomed}]
    flowed = {(case, seq) for case, seq in good if seq < first_dead.get(case, 10 ** 6)}
    waiting = set(good) - flowed
    assert flowed <= arrived and not {(r["SLBH"], int(r["SXH"])) for r in doomed} & arrived
    assert not waiting & arrived, "a step overtook its case's dead step"
    held = {h["case_no"] for h in store.list_holds("platform")}
    assert {case for case, _ in waiting} <= held
    assert all(k in by_key or k.endswith(".xml") for k in dead)
    store.close()


def test_a_file_dropped_twice_is_processed_once(land_settings, sims):
    requests.post(sims.urls["land"] + "/_admin/load", json={"cases": 15, "bad": 1, "batch_records": 1000},
                  timeout=60)
    store = Store.open(land_settings["db_url"])
    hub = Hub(land_settings, store=store).start()
    try:
        first = wait_until(_until_delivered(land_settings, store, hub), timeout=120, what="first drop delivered")
        dead_before = len(store.list_dead_letters())
        again = requests.post(sims.urls["land"] + "/_admin/redeliver", json={}, timeout=10).json()
        wait_until(lambda: again["name"] in _work(land_settings)["duplicates"], timeout=30, what="the re-sent file")
        second = verify(land_settings, store, hub.mappings)
    finally:
        hub.shutdown()
    assert second["departments"]["land"] == first["departments"]["land"]
    assert len(store.list_dead_letters()) == dead_before >= 1      # its bad records are not dead-lettered twice
    reason = (Path(land_settings["adapters"]["land"]["outbox"]) / "duplicates" / f"{again['name']}.reason")
    assert again["duplicate_of"] in reason.read_text(encoding="utf-8")
    stats = requests.get(sims.urls["platform"] + "/_admin/stats", timeout=10).json()
    assert stats["duplicates_refused"] == 0                         # not even sent again to be refused
    store.close()


def _application(no: str, applicant: dict, item: str = "000116001000", **form) -> tuple[bytes, str]:
    app = Application(application_no=no, item_code=item, department="land", applicant=Applicant(**applicant),
                      submitted_at=datetime.now(SHANGHAI), form={"item_name": "建设用地规划许可证核发", **form})
    mid = message_id("platform-applications", "platform.application", no, "1")
    env = Envelope(message_id=mid, schema_name="tongban.application", kind="application",
                   source=Source(department="platform", system="platform-applications"), case_no=no,
                   mapping="platform.application@1", record_key=no, occurred_at=app.submitted_at,
                   produced_at=now(), trace_id=uuid.uuid4().hex, payload=app)
    return env.model_dump_json().encode(), str(mid)


PERSON = {"kind": "person", "name": "刘䶮", "id_type": "resident_id", "id_number": "33010619850712005X",
          "phone": "13912345678"}
COMPANY = {"kind": "organisation", "name": "杭州恒达置业有限公司", "id_type": "uscc", "id_number": "91330106MA2H7K3P2R"}


def _publish_twice(settings, envelopes) -> None:
    publish_applications(settings, "land", envelopes, times=2)   # the same twice: applied once


def _check_receipts(sims, receipts: dict, apps: dict) -> None:
    for no, bodies in receipts.items():
        assert len(bodies) == 1
        env, p = bodies[0], bodies[0]["payload"]
        assert (env["source"]["department"], env["mapping"]) == ("land", "land.receipt@1")
        assert (p["case_no"], p["sequence"], p["type"], p["department"]) == (no, 1, "accepted", "land")
        assert p["attributes"]["acceptance_no"] == apps[no]["acceptance_no"]
        assert p["item_code"] == apps[no]["SXBM"]


def test_applications_go_down_once_and_receipts_reach_the_platform(land_settings, sims):
    land = sims.urls["land"]
    good = {"ZJWB20261126000301": PERSON, "ZJWB20261126000302": COMPANY}
    requests.post(land + "/_admin/faults", json={"inbox_unmounted": True}, timeout=5)   # the share is down at first
    _publish_twice(land_settings, [_application(no, who, 用地面积="1200.5") for no, who in good.items()])
    store = Store.open(land_settings["db_url"])
    hub = Hub(land_settings, store=store).start()
    try:
        time.sleep(1.5)                         # the sink meets the missing share and backs off
        assert requests.get(land + "/_admin/applications", timeout=10).json()["count"] == 0
        requests.post(land + "/_admin/faults", json={"inbox_unmounted": False}, timeout=5)
        receipts = wait_until(lambda: len(r := _receipts(sims, set(good))) == len(good) and r, timeout=120,
                              interval=0.5, what="a receipt per application at the platform")
        wait_until(_until_delivered(land_settings, store, hub), timeout=60, what="verify")
    finally:
        hub.shutdown()
    body = requests.get(land + "/_admin/applications", timeout=10).json()
    apps = {a["application_no"]: a for a in body["items"]}
    assert set(apps) == set(good) and body["refused"] == []
    assert apps["ZJWB20261126000301"]["QLRMC"] == "刘䶮" and apps["ZJWB20261126000301"]["form"] == {"用地面积": "1200.5"}
    _check_receipts(sims, receipts, apps)
    assert receipts["ZJWB20261126000301"][0]["payload"]["applicant"]["name"] == "刘䶮"   # GB18030 both ways
    accepted = Path(land_settings["adapters"]["land"]["inbox"]).parent / "sim" / "accepted"
    assert "刘䶮".encode("gb18030") in (accepted / "SQ_ZJWB20261126000301.xml").read_bytes()
    assert store.counts()["deliveries"].get("land") == len(good)
    # A re-send after the land system took the file (the ledger lost, say): it refuses the repeat.
    sink = hub.destinations["land"]
    body_again, _ = _application("ZJWB20261126000301", PERSON)
    assert sink.send(body_again, None) == "accepted"
    wait_until(lambda: requests.get(land + "/_admin/applications", timeout=10).json()["duplicates_refused"] == 1,
               timeout=10, what="the land system refusing the repeat")
    assert len(_receipts(sims, set(good))["ZJWB20261126000301"]) == 1
    store.close()


def test_platform_submissions_reach_the_land_inbox_and_come_back_accepted(land_settings, sims):
    desk = requests.post(sims.urls["platform"] + "/_admin/submit", json={"count": 3, "departments": ["land"]},
                         timeout=10).json()["applyNos"]
    store = Store.open(land_settings["db_url"])
    hub = Hub(land_settings, store=store).start()
    try:
        receipts = wait_until(lambda: len(r := _receipts(sims, set(desk))) == len(desk) and r, timeout=120,
                              interval=0.5, what="a receipt per platform application")
        report = wait_until(_until_delivered(land_settings, store, hub), timeout=60, what="verify")
    finally:
        hub.shutdown()
    apps = {a["application_no"]: a for a in _get(sims.urls["land"] + "/_admin/applications")}
    assert set(apps) == set(desk)
    _check_receipts(sims, receipts, apps)
    sb = report["southbound"]
    assert sb["missing"] == sb["duplicates"] == 0 and sb["delivered"] == sb["receipts"] == len(desk)
    store.close()


def _receipts(sims, numbers) -> dict[str, list]:
    out = defaultdict(list)
    for item in _get(sims.urls["platform"] + "/_admin/received"):
        if item["case_no"] in numbers:
            out[item["case_no"]].append(item["body"])
    return out
