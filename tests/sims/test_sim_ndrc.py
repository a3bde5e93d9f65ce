"""The 投资项目审批 simulator, called the way the hub calls it: through zeep, against the
WSDL it serves; plus the raw XML a hostile or broken caller sends."""
from __future__ import annotations

import json
import re
import time
from datetime import datetime

import pytest
import requests
import zeep
from lxml import etree
from stdnum.cn import uscc
from zeep.exceptions import Fault, TransportError
from zeep.transports import Transport

from adapters.ndrc.records import decode
from sims.catalogue_data import codes_for
from sims.ndrc import ENDPOINT, NdrcSim
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
    return http.get(f"{sim.url}/_admin/events").json()["items"]


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
