"""The 自然资源 land simulator: its batch files (formats, encodings, atomic writes), its
codes, its bad records, its inbox with receipts, its faults. Read with the standard
library only, independently of the hub's adapter."""
from __future__ import annotations

import csv
import io
import json
import re
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

import pytest
from stdnum.cn import ric, uscc

from sims.land import LandSim

PARCEL = re.compile(r"^\d{6}\d{3}\d{3}[GJZ][ABSXCDEFHGWY]\d{5}$")
ENC = {"GB18030": "gb18030", "GBK": "gb18030", "UTF-8": "utf-8", "UTF-8-BOM": "utf-8-sig", "UTF-8-NODECL": "utf-8"}


@pytest.fixture
def land():
    with LandSim(port=0, seed=1234) as sim:
        yield sim


def load(http, sim, **body):
    r = http.post(f"{sim.url}/_admin/load", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def resident_id_ok(number: str) -> bool:
    """Check digit and birth date (GB 11643), as the hub checks them."""
    try:
        ric.get_birth_date(number)
    except Exception:
        return False
    return len(number) == 18 and number[:-1].isdigit() and number[-1] == ric.calc_check_digit(number)


def read_file(path: Path, fmt: str, encoding: str) -> list[dict]:
    """A batch as an independent reader sees it."""
    data = path.read_bytes()
    if fmt == "csv":
        text = data.decode("utf-8-sig" if encoding == "UTF-8-BOM" else "gb18030")
        rows = list(csv.reader(io.StringIO(text, newline="")))
        # CLXX, the materials, is a JSON list in its cell (blank: none)
        return [{k: (json.loads(v) if v else []) if k == "CLXX" else v for k, v in zip(rows[0], row)}
                for row in rows[1:]]
    declared = re.match(rb'<\?xml[^>]*encoding="([^"]+)"', data.lstrip(b"\xef\xbb\xbf"))
    if encoding == "UTF-8-NODECL":
        assert declared is None
    else:
        assert declared and declared.group(1).decode() == encoding
    assert data.startswith(b"\xef\xbb\xbf") == (encoding == "UTF-8-BOM")
    root = ET.fromstring(data.decode(ENC[encoding]))
    assert int(root.findtext("Head/JLS")) == len(root.findall("Data/Record"))
    return [{c.tag: [{p.tag: p.text or "" for p in cl} for cl in c] if c.tag == "CLXX" else c.text or "" for c in rec}
            for rec in root.findall("Data/Record")]


def test_starts_empty_with_folders_of_its_own(http, land):
    assert http.get(f"{land.url}/_admin/events").json()["count"] == 0
    ends = land.endpoints()
    assert Path(ends["inbox"]).is_dir() and Path(ends["outbox"]).is_dir()
    with LandSim(port=0, seed=1) as other:
        assert other.endpoints()["outbox"] != ends["outbox"]


def test_fixed_folders_by_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("TONGBAN_SIM_LAND_DIR", str(tmp_path / "tdsp"))
    with LandSim(port=0, seed=1) as sim:
        assert sim.endpoints() == {"inbox": str(tmp_path / "tdsp" / "inbox"),
                                   "outbox": str(tmp_path / "tdsp" / "outbox")}
    assert (tmp_path / "tdsp" / "outbox").is_dir()   # a fixed folder outlives the simulator


def test_batches_hold_exactly_the_events_in_name_order(http, land):
    made = load(http, land, cases=120, bad=3)
    files = http.get(f"{land.url}/_admin/files").json()["items"]
    events = http.get(f"{land.url}/_admin/events").json()["items"]
    assert [f["name"] for f in files] == sorted(f["name"] for f in files) == made["files"]
    on_disk = sorted(p.name for p in land.outbox.iterdir())
    assert on_disk == made["files"], "temp files left behind, or files missing"
    seen = []
    for f in files:
        seen += read_file(land.outbox / f["name"], f["format"], f["encoding"])
    assert seen == events
    assert {f["format"] for f in files} == {"xml", "csv"}
    assert {"GB18030", "UTF-8"} <= {f["encoding"] for f in files}
    # Per case the steps come in order, across files too.
    last = defaultdict(int)
    for e in events:
        assert int(e["SXH"]) == last[e["SLBH"]] + 1
        last[e["SLBH"]] = int(e["SXH"])
    assert len(last) == 123


def test_codes_follow_the_reference(http, land):
    made = load(http, land, cases=150, bad=0)
    events = http.get(f"{land.url}/_admin/events").json()["items"]
    assert len({e["SHXXID"] for e in events}) == len(events)
    for e in events:
        zddm = e["ZDDM"]
        assert PARCEL.match(zddm), zddm
        assert e["ZDTZM"] == zddm[12:14] and e["BDCDYH"] == zddm + "W00000000"
        number = e["ZJH"].translate({c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}).upper()
        assert resident_id_ok(number) if e["ZJZL"] == "1" else uscc.is_valid(number)
        assert e["QLLX"] in {"3", "7"} and e["QLXZ"] in {"101", "102", "103", "104", "105", "204", "205"}
        assert e["SXBM"] in {"000116001000", "000116002000", "000116003000"}
        if e["JDDM"] == "401":
            assert re.match(r"^[地用]字第\d{6}\d{4}\d{5}号$", e["XKZH"])
        if e["JDDM"] == "402":
            assert re.match(r"^浙\(\d{4}\)杭州市不动产权第\d{7}号$", e["BDCQZH"])
    assert len({e["SLBH"] for e in events}) == len(made["cases"])


def test_bad_cases_carry_one_defect_each(http, land):
    made = load(http, land, cases=5, bad=3)
    kinds = {b["case"]: b["kind"] for b in made["bad"]}
    assert sorted(kinds.values()) == ["date", "id", "parcel"]
    events = http.get(f"{land.url}/_admin/events").json()["items"]
    for case, kind in kinds.items():
        rows = [e for e in events if e["SLBH"] == case]
        if kind == "parcel":
            assert all(e["ZDTZM"][1] == "Q" and e["ZDDM"][12:14] == e["ZDTZM"] for e in rows)
        elif kind == "id":
            assert all(not (resident_id_ok(e["ZJH"].upper()) or uscc.is_valid(e["ZJH"])) for e in rows)
        else:
            impossible = [e for e in rows if re.search(r"(-02-30|2月30日|-04-31)", e["QMSJ"])]
            assert len(impossible) == 1


def test_gb18030_files_carry_characters_outside_gbk(http, land):
    load(http, land, cases=30, format="xml", encoding="GB18030", rare=1.0, rare_chars="䶮𠮷")
    events = http.get(f"{land.url}/_admin/events").json()["items"]
    names = {e["QLRMC"].strip() for e in events}
    assert any("䶮" in n for n in names) and any("𠮷" in n for n in names)
    data = b"".join(p.read_bytes() for p in sorted(land.outbox.iterdir()))
    assert "䶮".encode("gb18030") in data and "𠮷".encode("gb18030") in data
    assert len("𠮷".encode("gb18030")) == 4
    with pytest.raises(UnicodeEncodeError):
        "䶮".encode("gbk")


def test_redeliver_drops_the_same_bytes_under_a_new_name(http, land):
    first = load(http, land, cases=3)["files"][-1]
    before = http.get(f"{land.url}/_admin/events").json()["count"]
    again = http.post(f"{land.url}/_admin/redeliver", json={}).json()
    assert again["duplicate_of"] == first and again["name"] > first
    assert (land.outbox / first).read_bytes() == (land.outbox / again["name"]).read_bytes()
    # The records are the same records: the event list does not grow.
    assert http.get(f"{land.url}/_admin/events").json()["count"] == before


def _application(no: str, name: str = "刘䶮") -> bytes:
    return (f'<?xml version="1.0" encoding="GB18030"?>\n<Message><Head><XXID>m-{no}</XXID></Head><Data>'
            f'<Application><WWSLBH>{no}</WWSLBH><SXBM>000116001000</SXBM><SXMC>建设用地规划许可证核发</SXMC>'
            f'<QLRMC>{name}</QLRMC><QLRLX>1</QLRLX><ZJZL>1</ZJZL><ZJH>33010619850712005X</ZJH>'
            f'<CLXX><CL><CLMC>申请书</CLMC><SFBX>1</SFBX></CL></CLXX><BDXX><BDX MC="用地面积">1200</BDX></BDXX>'
            f'</Application></Data></Message>').encode("gb18030")


def _wait(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_inbox_application_gets_a_receipt_and_a_repeat_is_refused(http, land):
    (land.inbox / "SQ_ZJWB1.xml").write_bytes(_application("ZJWB1"))
    _wait(lambda: http.get(f"{land.url}/_admin/applications").json()["count"] == 1)
    app = http.get(f"{land.url}/_admin/applications").json()["items"][0]
    assert app["application_no"] == "ZJWB1" and app["QLRMC"] == "刘䶮" and app["form"] == {"用地面积": "1200"}
    assert re.match(r"^T\d{8}\d{5}$", app["acceptance_no"])
    events = http.get(f"{land.url}/_admin/events").json()["items"]
    assert len(events) == 1
    receipt = events[0]
    assert receipt["JLLX"] == "HZ" and receipt["WWSLBH"] == "ZJWB1" and receipt["SLBH"] == app["acceptance_no"]
    assert receipt["QLRMC"] == "刘䶮" and receipt["SXH"] == "1"
    files = http.get(f"{land.url}/_admin/files").json()["items"]
    assert read_file(land.outbox / files[0]["name"], "xml", "GB18030") == events
    # The same application number again (a re-send): refused, no second receipt.
    (land.inbox / "SQ_ZJWB1.again.xml").write_bytes(_application("ZJWB1"))
    (land.inbox / "broken.xml").write_bytes(b"<Message><Data>")
    _wait(lambda: len(http.get(f"{land.url}/_admin/applications").json()["refused"]) == 2)
    body = http.get(f"{land.url}/_admin/applications").json()
    assert body["count"] == 1 and body["duplicates_refused"] == 1
    assert http.get(f"{land.url}/_admin/events").json()["count"] == 1
    assert list(land.inbox.iterdir()) == []
    assert (land.archive / "rejected" / "broken.xml.reason").exists()


def test_faults_pause_pickup_and_unmount_the_inbox(http, land):
    r = http.post(f"{land.url}/_admin/faults", json={"pickup_paused": True, "latency_ms": 0})
    assert r.json()["pickup_paused"] is True
    (land.inbox / "SQ_A.xml").write_bytes(_application("A"))
    time.sleep(0.3)
    assert (land.inbox / "SQ_A.xml").exists()
    http.post(f"{land.url}/_admin/faults", json={"pickup_paused": False, "inbox_unmounted": True})
    assert not land.inbox.exists()          # a share gone: whoever writes there fails
    http.post(f"{land.url}/_admin/faults", json={"inbox_unmounted": False})
    _wait(lambda: http.get(f"{land.url}/_admin/applications").json()["count"] == 1)
    assert http.post(f"{land.url}/_admin/faults", json={"duplicate_rate": 2}).status_code == 400
    assert http.post(f"{land.url}/_admin/faults", json={"inbox_unmounted": "yes"}).status_code == 400


def test_duplicate_rate_fault_drops_every_batch_twice(http, land):
    http.post(f"{land.url}/_admin/faults", json={"duplicate_rate": 1.0})
    made = load(http, land, cases=4, batch_records=5)
    files = http.get(f"{land.url}/_admin/files").json()["items"]
    assert len(files) == 2 * len(made["files"])
    assert all(f["duplicate_of"] for f in files if f["name"] not in made["files"])


def test_reset_forgets_everything_and_load_checks_its_input(http, land):
    load(http, land, cases=2)
    assert http.post(f"{land.url}/_admin/reset").status_code == 200
    assert http.get(f"{land.url}/_admin/events").json()["count"] == 0
    assert list(land.outbox.iterdir()) == []
    for bad in ({"cases": -1}, {"cases": 1, "format": "json"}, {"cases": 1, "format": "csv", "encoding": "GBK"},
                {"cases": 1, "batch_records": 0}, {"cases": 1, "rare": 3}):
        assert http.post(f"{land.url}/_admin/load", json=bad).status_code == 400, bad


# --- the new copy (dual-track): land_new -------------------------------------------------

from sims.land import LandNewSim  # noqa: E402

SAME = lambda e: {k: v for k, v in e.items() if k not in ("SHXXID", "GXSJ")}  # noqa: E731 - stamped per system
# What a record says, whatever batch it landed in: XML leaves out (or empties) what CSV writes as ""
# (and a CSV record without materials reads CLXX as the empty list).
SAYS = lambda e: {k: v for k, v in SAME(e).items() if v not in ("", [])}  # noqa: E731


@pytest.fixture
def land_new():
    with LandNewSim(port=0, seed=1234) as sim:
        yield sim


def _events(http, sim) -> list[dict]:
    return http.get(f"{sim.url}/_admin/events").json()["items"]


def test_land_new_is_registered_on_its_own_port_and_folders():
    from sims.cluster import REGISTRY
    spec = REGISTRY["land_new"]
    assert (spec.factory, spec.port_env, spec.default_port) == (LandNewSim, "TONGBAN_SIM_LAND_NEW_PORT", 18094)
    assert len({s.default_port for s in REGISTRY.values()}) == len(REGISTRY)


def test_land_new_serves_the_same_cases_in_folders_of_its_own(http, land, land_new):
    assert land_new.base != land.base and land_new.outbox != land.outbox and land_new.inbox != land.inbox
    assert land_new.endpoints() == {"inbox": str(land_new.inbox), "outbox": str(land_new.outbox), "work_dir": ""}
    old, new = load(http, land, cases=60, bad=3), load(http, land_new, cases=60, bad=3)
    assert new["cases"] == old["cases"] and new["bad"] == old["bad"] and new["files"] == old["files"]
    old_events, new_events = _events(http, land), _events(http, land_new)
    assert [SAME(e) for e in new_events] == [SAME(e) for e in old_events] and len(old_events) > 180
    files = {f["name"]: f for f in http.get(f"{land_new.url}/_admin/files").json()["items"]}
    seen = []
    for name in new["files"]:
        seen += read_file(land_new.outbox / name, files[name]["format"], files[name]["encoding"])
    assert seen == new_events
    assert sorted(p.name for p in land.outbox.iterdir()) == old["files"]   # nothing crossed over


def test_land_new_folders_follow_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("TONGBAN_SIM_LAND_DIR", str(tmp_path / "tdsp"))
    fixed = LandNewSim(port=18994, seed=1)          # never started: only its folders are looked at
    assert fixed.base == tmp_path / "tdsp" / "new"  # beside the old system's, on the same share
    with LandNewSim(port=0, seed=1) as ephemeral:   # tests: a folder of its own, not the old one's
        assert not str(ephemeral.base).startswith(str(tmp_path))
    monkeypatch.setenv("TONGBAN_SIM_LAND_NEW_DIR", str(tmp_path / "cloud"))
    with LandNewSim(port=0, seed=1) as sim:
        assert sim.endpoints()["outbox"] == str(tmp_path / "cloud" / "outbox")


def test_land_new_drift_changes_exactly_what_it_says(http, land, land_new):
    body = {"drop_field": ["SHYJ"], "rename_field": {"SHRYXM": "BLRXM"}, "utc_times": True,
            "status_code": {"field": "CZJG", "step": "201", "value": "审查中"}, "seed": 5}
    r = http.post(f"{land_new.url}/_admin/drift", json=body)
    assert r.status_code == 200 and r.json()["drift"] == body
    load(http, land, cases=40, format="csv")   # CSV: every column present, so a dropped one reads ""
    load(http, land_new, cases=40, format="csv")
    old_events, new_events = _events(http, land), _events(http, land_new)
    assert len(old_events) == len(new_events)
    for o, n in zip(old_events, new_events):
        assert (n["SHYJ"], n["SHRYXM"]) == ("", "")            # dropped; renamed to a column the export lacks
        assert n["CZJG"] == ("审查中" if o["JDDM"] == "201" else o["CZJG"])
        if re.search(r"\d:\d\d", o["QMSJ"]) and not re.search(r"(-02-30|-04-31)", o["QMSJ"]):
            assert n["QMSJ"] != o["QMSJ"] and re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$", n["QMSJ"])
        else:                                                  # a date alone: nothing to shift
            assert n["QMSJ"] == o["QMSJ"]
        same = {k: v for k, v in SAME(o).items() if k not in ("SHYJ", "SHRYXM", "CZJG", "QMSJ")}
        assert same == {k: v for k, v in SAME(n).items() if k in same}


def test_land_new_missing_and_extra_events(http, land, land_new):
    http.post(f"{land_new.url}/_admin/drift", json={"missing_rate": 0.15, "extra_rate": 1.0, "seed": 9})
    load(http, land, cases=40)
    load(http, land_new, cases=40)
    old = {(e["SLBH"], e["SXH"]): e for e in _events(http, land)}
    new = _events(http, land_new)
    last = defaultdict(int)
    for (case, seq) in old:
        last[case] = max(last[case], int(seq))
    extra = [e for e in new if int(e["SXH"]) > last[e["SLBH"]]]
    kept = [e for e in new if int(e["SXH"]) <= last[e["SLBH"]]]
    assert all(SAYS(e) == SAYS(old[(e["SLBH"], e["SXH"])]) for e in kept)
    assert 0 < len(old) - len(kept) < len(old) * 0.3           # some rows never produced
    # a decision (审批 301 / 登簿 302) recorded twice, as the case's next step number, as text
    assert extra and all(e["JDDM"] in ("301", "302") and e["SXH"] == str(last[e["SLBH"]] + 1) for e in extra)
    assert len({e["SLBH"] for e in extra}) == len(extra)
    decided = {e["SLBH"] for e in kept if e["JDDM"] in ("301", "302")}
    assert {e["SLBH"] for e in extra} == decided


def test_land_new_lag_holds_its_files_back_in_order(http, land_new):
    http.post(f"{land_new.url}/_admin/drift", json={"lag_seconds": 1.0})
    made = load(http, land_new, cases=30, batch_records=20)
    assert len(made["files"]) > 2
    assert _events(http, land_new)                                   # written, so listed ...
    assert [p for p in land_new.outbox.iterdir()] == []              # ... but not dropped yet
    _wait(lambda: sorted(p.name for p in land_new.outbox.iterdir()) == made["files"], timeout=5)
    http.post(f"{land_new.url}/_admin/drift", json={})
    assert load(http, land_new, cases=1)["files"][0] in {p.name for p in land_new.outbox.iterdir()}


def test_land_drift_is_checked_and_forgotten_on_reset(http, land_new):
    assert http.post(f"{land_new.url}/_admin/drift", json={"colour": "red"}).status_code == 400
    assert http.post(f"{land_new.url}/_admin/drift", json={"reorder_materials": 2}).status_code == 400
    http.post(f"{land_new.url}/_admin/drift", json={"missing_rate": 1.0})
    assert load(http, land_new, cases=3)["files"] == [] and _events(http, land_new) == []
    http.post(f"{land_new.url}/_admin/reset")
    assert land_new.drift == {} and len(load(http, land_new, cases=3)["files"]) == 1
