"""The 投资项目审批 simulator, called the way the hub calls it: through zeep, against the
WSDL it serves; plus the raw XML a hostile or broken caller sends."""
from __future__ import annotations

import json
import re
import time
from datetime import datetime, timedelta

import pytest
import requests
import zeep
from lxml import etree
from stdnum.cn import uscc
from zeep.exceptions import Fault, TransportError
from zeep.transports import Transport

from adapters.ndrc.records import decode
from hub import exactjson
from sims.catalogue_data import codes_for
from sims.ndrc import ENDPOINT, NdrcNewSim, NdrcSim
from sims.ndrc_data import COMPACT_SHARE

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
TNS = "urn:tongban:ndrc:tzxmsp:1"
PROJECT_CODE = re.compile(r"^\d{4}-\d{6}-\d{2}-\d{2}-\d{6}$")
DOC_NO = re.compile(r"^杭发改(审批|备案|投资)〔\d{4}〕\d+号$")
GOOD_USCC = "91330106MA2KQ8R391"


@pytest.fixture
def ndrc():
    with NdrcSim(port=0, seed=1234) as sim:
        yield sim


@pytest.fixture
def client(ndrc):
    session = requests.Session()
    session.trust_env = False
    yield zeep.Client(f"{ndrc.url}{ENDPOINT}?wsdl", transport=Transport(session=session, operation_timeout=5))
    session.close()


def legacy_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y%m%d%H%M%S") if text.isdigit() else datetime.fromisoformat(text)


def load(http, sim, **body):
    r = http.post(f"{sim.url}/_admin/load", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def events(http, sim) -> list[dict]:
    # numbers exact, as the hub reads every JSON it is given (hub/exactjson.py)
    return exactjson.loads(http.get(f"{sim.url}/_admin/events").text)["items"]


def read_all(client, page_size=7) -> list:
    since, after, out = None, 0, []
    while True:
        page = client.service.QueryProjectChanges(updatedSince=since, afterId=after, pageSize=page_size)
        out += page.change
        if page.change:
            since, after = page.change[-1].updateTime, page.change[-1].changeId
        if not page.hasMore:
            return out


def submit(client, no="ZJWB20261126000001", **over):
    params = dict(applicationNo=no, itemCode="000115001000", applicantName="杭州瑞博智能装备有限公司",
                  applicantIdType="A05300", applicantIdNumber=GOOD_USCC, projectCode=None,
                  payload=json.dumps({"form": {"project_name": "瑞博智能装备生产线项目"}}, ensure_ascii=False))
    return client.service.SubmitApplication(**{**params, **over})


def raw(http, sim, body: str, prolog: str = ""):
    xml = f'{prolog}<soap:Envelope xmlns:soap="{SOAP}" xmlns:n="{TNS}"><soap:Body>{body}</soap:Body></soap:Envelope>'
    return http.post(f"{sim.url}{ENDPOINT}", data=xml.encode(), headers={"Content-Type": "text/xml; charset=utf-8"})


def fault_of(response) -> tuple[str, str]:
    fault = etree.fromstring(response.content).find(f"{{{SOAP}}}Body/{{{SOAP}}}Fault")
    return fault.findtext("faultcode"), fault.findtext("faultstring")


def test_starts_empty_and_wsdl_points_at_the_running_server(http, ndrc, client):
    assert events(http, ndrc) == []
    assert client.service._binding_options["address"] == f"{ndrc.url}{ENDPOINT}"
    hostile = http.get(f"{ndrc.url}{ENDPOINT}?wsdl", headers={"Host": 'x"><evil'})
    assert f"http://127.0.0.1:{ndrc.port}{ENDPOINT}".encode() in hostile.content


def test_feed_pages_in_order_and_is_what_the_adapter_reads(http, ndrc, client):
    loaded = load(http, ndrc, cases=12)
    assert len(loaded["caseNos"]) == 12
    changes = read_all(client)
    assert [c.changeId for c in changes] == list(range(1, 61))   # 5 steps a case, none skipped or repeated
    # /_admin/events holds exactly the records the adapter hands to the mapping.
    assert [decode(c).data for c in changes] == events(http, ndrc)
    keys = [(c.updateTime, c.changeId) for c in changes]
    assert keys == sorted(keys) and all(re.match(r"^\d{14}$", c.updateTime) for c in changes)


def test_records_carry_the_real_systems_fields(http, ndrc):
    load(http, ndrc, cases=40)
    items = events(http, ndrc)
    items_by_case: dict[str, list] = {}
    for e in items:
        items_by_case.setdefault(e["caseNo"], []).append(e)
    catalogue = {code for code, _ in codes_for("ndrc")}
    formats = set()
    for case in items_by_case.values():
        assert [e["stepCode"] for e in case] == ["10", "20", "30", "40", "50"]
        assert [e["stepSeq"] for e in case] == [1, 2, 3, 4, 5]
        for e in case:
            p = e["project"]
            assert PROJECT_CODE.match(p["projectCode"]) and p["projectCode"][5:11] == p["placeCode"]
            lerep = p["lerepList"][0]
            assert lerep["lerepCerttype"] == "A05300"
            assert uscc.is_valid(lerep["lerepCertno"].translate({c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}))
            assert e["itemCode"] in catalogue and e["changeType"] == "PROCESS"
            assert re.match(r"^\d{8}$", p["applyDate"])
            formats.add("T" if "T" in e["eventTime"] else " " if " " in e["eventTime"] else "compact")
        decision = case[3]
        assert DOC_NO.match(decision["PFWH"]) and decision["PFRQ"] == legacy_time(decision["eventTime"]).date().isoformat()
        assert (decision["PFWJYXQX"] == "9999-01-01") == (decision["itemCode"] != "000115001000")
        assert all("PFWH" not in e for e in case if e is not decision)
    assert formats == {"T", " "} | ({"compact"} if COMPACT_SHARE else set())


def test_bad_records_of_each_kind(http, ndrc):
    loaded = load(http, ndrc, cases=1, bad=5)
    kinds = loaded["badKinds"]
    assert sorted(kinds.values()) == ["credit_code", "date", "garbled", "project_code", "step_code"]
    by_case: dict[str, list] = {}
    for e in events(http, ndrc):
        by_case.setdefault(e["caseNo"], []).append(e)
    for case_no, kind in kinds.items():
        case = by_case[case_no]
        if kind == "credit_code":
            assert all(not uscc.is_valid(e["project"]["lerepList"][0]["lerepCertno"]) for e in case)
        elif kind == "project_code":
            assert all(not PROJECT_CODE.match(e["project"]["projectCode"]) for e in case)
        elif kind == "date":
            assert sum("-02-30T" in e["eventTime"] for e in case) == 1
        elif kind == "step_code":
            assert [e["stepCode"] for e in case].count("99") == 1
        else:
            broken = [e for e in case if "project" not in e]
            assert len(broken) == 1 and decode_fails(broken[0]["projectInfo"])


def decode_fails(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return True
    return False


def test_submit_accepts_once_and_writes_one_receipt(http, ndrc, client):
    first = submit(client)
    assert first.code == "0" and re.match(r"^SL330100\d{13}$", first.acceptNo)
    assert PROJECT_CODE.match(first.projectCode)   # none given: the system assigned one (赋码)
    again = submit(client)
    assert again.code == "1" and again.acceptNo == first.acceptNo
    apps = http.get(f"{ndrc.url}/_admin/applications").json()["items"]
    assert len(apps) == 1 and apps[0]["repeats"] == 1 and apps[0]["acceptNo"] == first.acceptNo
    receipts = [e for e in events(http, ndrc) if e["changeType"] == "RECEIPT"]
    assert len(receipts) == 1
    r = receipts[0]
    assert (r["applicationNo"], r["acceptNo"], r["stepSeq"], r["stepCode"]) == (
        "ZJWB20261126000001", first.acceptNo, 1, "20")
    assert r["project"]["projectCode"] == first.projectCode
    assert r["project"]["projectName"] == "瑞博智能装备生产线项目"
    assert r["project"]["lerepList"][0]["lerepCertno"] == GOOD_USCC
    given = submit(client, "ZJWB20261126000002", projectCode="2026-330106-24-01-318402")
    assert given.code == "0" and given.projectCode == "2026-330106-24-01-318402"


@pytest.mark.parametrize("over, words", [
    ({"projectCode": "2026-330106-24-01-31840"}, "projectCode"),
    ({"itemCode": "000201001000"}, "itemCode"),
    ({"applicantIdNumber": "91330106MA2KQ8R392"}, "applicantIdNumber"),
    ({"applicantIdType": "A09999"}, "applicantIdType"),
    ({"payload": "{not json"}, "payload"),
])
def test_bad_applications_are_client_faults_and_change_nothing(http, ndrc, client, over, words):
    with pytest.raises(Fault) as caught:
        submit(client, **over)
    assert caught.value.code == "soap:Client" and words in caught.value.message
    assert http.get(f"{ndrc.url}/_admin/applications").json()["count"] == 0
    assert events(http, ndrc) == []


def test_a_person_applicant_is_taken_with_a_resident_id(client):
    assert submit(client, applicantName="王建华", applicantIdType="A05100",
                  applicantIdNumber="330106199306120357").code == "0"


def test_injected_faults(http, ndrc, client):
    load(http, ndrc, cases=3)
    http.post(f"{ndrc.url}/_admin/faults", json={"error_rate": 1.0})
    with pytest.raises(Fault) as caught:
        client.service.QueryProjectChanges(afterId=0, pageSize=5)
    assert caught.value.code == "soap:Server"
    assert http.get(f"{ndrc.url}{ENDPOINT}?wsdl").status_code == 200   # the contract is never faulty
    http.post(f"{ndrc.url}/_admin/faults", json={"error_rate": 0, "malformed_rate": 1.0})
    cut = raw(http, ndrc, "<n:QueryProjectChanges><n:pageSize>5</n:pageSize></n:QueryProjectChanges>")
    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(cut.content)
    with pytest.raises(TransportError):
        client.service.QueryProjectChanges(afterId=0, pageSize=5)
    assert http.post(f"{ndrc.url}/_admin/faults", json={"malformed_rate": 0, "gateway_rate": 1.0}).json()[
        "gateway_rate"] == 1.0
    page = raw(http, ndrc, "<n:QueryProjectChanges><n:pageSize>5</n:pageSize></n:QueryProjectChanges>")
    assert page.status_code == 502 and b"nginx" in page.content
    http.post(f"{ndrc.url}/_admin/faults", json={"gateway_rate": 0, "latency_ms": 300})
    started = time.monotonic()
    assert len(client.service.QueryProjectChanges(afterId=0, pageSize=5).change) == 5
    assert time.monotonic() - started >= 0.3
    assert http.post(f"{ndrc.url}/_admin/faults", json={"gateway_rate": 2}).status_code == 400
    http.post(f"{ndrc.url}/_admin/reset")
    assert events(http, ndrc) == [] and http.get(f"{ndrc.url}/_admin/health").json()["faults"]["latency_ms"] == 0


def test_a_reply_lost_after_the_work_is_done_is_answered_as_duplicate(http, ndrc, client):
    http.post(f"{ndrc.url}/_admin/faults", json={"malformed_rate": 1.0})
    with pytest.raises(TransportError):
        submit(client)
    http.post(f"{ndrc.url}/_admin/faults", json={"malformed_rate": 0})
    assert submit(client).code == "1"
    assert len([e for e in events(http, ndrc) if e["changeType"] == "RECEIPT"]) == 1


def test_doctype_and_xxe_are_refused(http, ndrc, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    prolog = f'<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file://{secret}">]>'
    r = raw(http, ndrc, "<n:QueryProjectChanges><n:updatedSince>&xxe;</n:updatedSince>"
                        "<n:pageSize>5</n:pageSize></n:QueryProjectChanges>", prolog)
    assert r.status_code == 500 and b"TOP-SECRET" not in r.content
    assert fault_of(r)[0] == "soap:Client" and "DOCTYPE" in fault_of(r)[1]


@pytest.mark.parametrize("fields, words", [
    ("<n:updatedSince>2026-03-05</n:updatedSince><n:pageSize>5</n:pageSize>", "updatedSince"),
    ("<n:afterId>-1</n:afterId><n:pageSize>5</n:pageSize>", "afterId"),
    ("<n:pageSize>0</n:pageSize>", "pageSize"),
])
def test_bad_queries_are_client_faults_naming_the_element(http, ndrc, fields, words):
    r = raw(http, ndrc, f"<n:QueryProjectChanges>{fields}</n:QueryProjectChanges>")
    assert r.status_code == 500 and fault_of(r)[0] == "soap:Client" and words in fault_of(r)[1]


def test_same_seed_same_cases(http):
    def run():
        with NdrcSim(port=0, seed=99) as sim:
            load(http, sim, cases=5, bad=2)
            return [{k: v for k, v in e.items() if k != "updateTime"} for e in events(http, sim)]
    assert run() == run()


# --- the cloud copy (ndrc_new) and its drift ---------------------------------------------
# Read through zeep and the adapter's decode, as the hub reads the feed: what the new copy
# sends differs from the old one's exactly by the drift.

@pytest.fixture
def ndrc_new():
    with NdrcNewSim(port=0, seed=1234) as sim:
        yield sim


def client_of(sim):
    session = requests.Session()
    session.trust_env = False
    return zeep.Client(f"{sim.url}{ENDPOINT}?wsdl", transport=Transport(session=session, operation_timeout=5))


def feed(sim, page_size=7) -> list[dict]:
    """Every record the feed shows now, as the adapter hands them to the mapping."""
    return [decode(c).data for c in read_all(client_of(sim), page_size)]


def set_drift(http, sim, body):
    r = http.post(f"{sim.url}/_admin/drift", json=body)
    assert r.status_code == 200, r.text
    assert r.json()["drift"] == body


SAME = lambda r: {k: v for k, v in r.items() if k not in ("changeId", "updateTime")}  # noqa: E731


def utc(text: str) -> str:
    return (legacy_time(text) - timedelta(hours=8)).strftime("%Y-%m-%d %H:%M:%S")


def test_ndrc_new_without_drift_is_the_old_feed(http, ndrc, ndrc_new):
    set_drift(http, ndrc_new, {"seed": 2})
    assert load(http, ndrc, cases=15, bad=5) == load(http, ndrc_new, cases=15, bad=5)
    assert [SAME(e) for e in events(http, ndrc_new)] == [SAME(e) for e in events(http, ndrc)]


def test_ndrc_new_reorders_only_the_materials_checked_at_acceptance(http, ndrc, ndrc_new):
    set_drift(http, ndrc_new, {"reorder_materials": True, "seed": 2})
    load(http, ndrc, cases=15)
    load(http, ndrc_new, cases=15)
    old, new = events(http, ndrc), events(http, ndrc_new)
    moved = 0
    for a, b in zip(old, new):
        listed = lambda e: (e.get("materials") or {}).get("material")   # noqa: E731
        assert {**SAME(a), "materials": None} == {**SAME(b), "materials": None}
        if listed(a) is not None:
            key = lambda m: m["materialName"]   # noqa: E731
            assert sorted(listed(a), key=key) == sorted(listed(b), key=key)
            moved += listed(a) != listed(b)
    assert moved == 15   # every case's 受理 step lists three or more materials


def test_ndrc_new_drift_changes_exactly_what_it_says(http, ndrc, ndrc_new):
    body = {"drop_field": ["opinion"], "rename_field": {"handler": "handlerName"}, "utc_times": True,
            "status_code": {"field": "stepCode", "step": "30", "value": "35"}, "seed": 5}
    set_drift(http, ndrc_new, body)
    load(http, ndrc, cases=30)
    load(http, ndrc_new, cases=30)
    old, new = feed(ndrc), feed(ndrc_new)
    assert len(old) == len(new) == 150
    handled = 0
    for o, n in zip(old, new):
        assert "opinion" not in n                                  # no longer sent
        assert "handler" not in n and "handlerName" not in n       # renamed out of the contract: absent
        handled += "handler" in o
        assert n["stepCode"] == ("35" if o["stepCode"] == "30" else o["stepCode"])
        assert n["eventTime"] == utc(o["eventTime"])               # UTC, naive: 8 hours behind
        same = {k: v for k, v in SAME(o).items() if k not in ("opinion", "handler", "stepCode", "eventTime")}
        assert same == {k: v for k, v in SAME(n).items() if k in same} and set(same) | {
            "stepCode", "eventTime"} == set(SAME(n))
    assert handled > 100
    # the system's own record has the field under its new name
    stored = events(http, ndrc_new)
    assert [e.get("handlerName") for e in stored] == [o.get("handler") for o in old]


def test_ndrc_new_missing_and_extra_records(http, ndrc, ndrc_new):
    set_drift(http, ndrc_new, {"missing_rate": 0.15, "extra_rate": 1.0, "seed": 9})
    load(http, ndrc, cases=40)
    load(http, ndrc_new, cases=40)
    old = {(e["caseNo"], e["stepSeq"]): e for e in feed(ndrc)}
    new = feed(ndrc_new)
    assert [e["changeId"] for e in new] == list(range(1, len(new) + 1))
    kept = [e for e in new if e["stepSeq"] <= 5]
    extra = [e for e in new if e["stepSeq"] > 5]
    assert all(SAME(e) == SAME(old[(e["caseNo"], e["stepSeq"])]) for e in kept)
    assert 0 < len(old) - len(kept) < len(old) * 0.3              # some records never written
    # the decision (批复, 40) recorded twice, as the case's step 6, right after the first
    decided = {e["caseNo"] for e in kept if e["stepCode"] == "40"}
    assert extra and {e["caseNo"] for e in extra} == decided and len(extra) == len(decided)
    by_id = {e["changeId"]: e for e in new}
    for e in extra:
        first = by_id[e["changeId"] - 1]
        assert (first["stepCode"], first["stepSeq"], e["stepSeq"]) == ("40", 4, 6)
        assert SAME(e) == {**SAME(first), "stepSeq": 6}


def test_ndrc_new_lag_holds_records_back_then_shows_them_in_order(http, ndrc_new):
    set_drift(http, ndrc_new, {"lag_seconds": 2.0})
    client = client_of(ndrc_new)
    started = time.monotonic()
    load(http, ndrc_new, cases=4)
    set_drift(http, ndrc_new, {})                 # the lag is off, but what was written first shows first
    load(http, ndrc_new, cases=2)
    assert submit(client).code == "0"             # the receipt is written now, and waits its turn too
    assert len(events(http, ndrc_new)) == 31      # written, so listed ...
    page = client.service.QueryProjectChanges(afterId=0, pageSize=50)
    assert page.change == [] and page.hasMore is False   # ... but not in the feed yet
    seen = []
    while time.monotonic() - started < 10 and len(seen) < 31:
        seen = read_all(client)
        time.sleep(0.05)
    assert time.monotonic() - started >= 1.9
    assert [c.changeId for c in seen] == list(range(1, 32)) and seen[-1].changeType == "RECEIPT"
    assert [decode(c).data for c in seen] == events(http, ndrc_new)
    load(http, ndrc_new, cases=1)                 # nothing held, no lag: shows at once
    assert len(read_all(client)) == 36


def test_ndrc_lag_cuts_a_page_at_the_first_record_not_showing(http, ndrc_new):
    load(http, ndrc_new, cases=2)                 # 1-10: showing
    set_drift(http, ndrc_new, {"lag_seconds": 30})
    load(http, ndrc_new, cases=2)                 # 11-20: held
    set_drift(http, ndrc_new, {})
    load(http, ndrc_new, cases=4)                 # 21-40: written without a lag, still behind 11-20
    client = client_of(ndrc_new)
    page = client.service.QueryProjectChanges(afterId=0, pageSize=50)
    assert [c.changeId for c in page.change] == list(range(1, 11)) and page.hasMore is False
    page = client.service.QueryProjectChanges(afterId=0, pageSize=7)
    assert [c.changeId for c in page.change] == list(range(1, 8)) and page.hasMore is True
    page = client.service.QueryProjectChanges(updatedSince=page.change[-1].updateTime, afterId=7, pageSize=7)
    assert [c.changeId for c in page.change] == [8, 9, 10] and page.hasMore is False
    page = client.service.QueryProjectChanges(updatedSince=page.change[-1].updateTime, afterId=10, pageSize=7)
    assert page.change == [] and page.hasMore is False


@pytest.mark.parametrize("body", [{"colour": "red"}, {"reorder_materials": 2}, {"lag_seconds": -1},
                                  {"lag_seconds": "soon"}, {"missing_rate": 2}, {"extra_rate": True}, ["x"]])
def test_ndrc_bad_drift_is_refused_and_changes_nothing(http, ndrc_new, body):
    set_drift(http, ndrc_new, {"missing_rate": 0.5})
    assert http.post(f"{ndrc_new.url}/_admin/drift", json=body).status_code == 400
    assert ndrc_new.drift == {"missing_rate": 0.5}


def test_ndrc_drift_is_forgotten_on_reset(http, ndrc_new):
    set_drift(http, ndrc_new, {"missing_rate": 1.0, "lag_seconds": 30})
    load(http, ndrc_new, cases=3)
    assert events(http, ndrc_new) == []
    http.post(f"{ndrc_new.url}/_admin/reset")
    assert ndrc_new.drift == {} and ndrc_new.visible_at == []
    load(http, ndrc_new, cases=3)
    assert len(feed(ndrc_new)) == 15
