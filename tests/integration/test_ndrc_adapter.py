"""The ndrc adapter alone against the real SOAP simulator: paging after a cursor, faults
turned into SourceUnavailable and resumed from the same cursor, undecodable records
flagged, the sink's answers, and the connection test."""
from __future__ import annotations

import json
import socket

import pytest
import requests

from adapters.ndrc import NdrcAdapter
from hub import exactjson
from hub.adapter import SourceUnavailable
from hub.delivery import ACCEPTED, DUPLICATE, DeliveryError, MessageMeta
from sims.ndrc import NdrcSim

GOOD_USCC = "91330106MA2KQ8R391"


@pytest.fixture
def sim():
    with NdrcSim(port=0, seed=4321) as server:
        yield server


@pytest.fixture
def http():
    with requests.Session() as session:
        session.trust_env = False
        yield session


def adapter(url: str, **extra) -> NdrcAdapter:
    return NdrcAdapter({"url": url, "timeout": 2, **extra})


def faults(http, sim, **settings):
    assert http.post(f"{sim.url}/_admin/faults", json=settings).status_code == 200


def drain(source, cursor=None, limit=9):
    out = []
    while True:
        page = source.fetch(cursor, limit)
        out += page.records
        cursor = page.cursor
        if not page.has_more:
            return out, cursor


def application(no="ZJWB20261126000101", id_type="uscc", id_number=GOOD_USCC, **form) -> bytes:
    app = {"kind": "application", "application_no": no, "item_code": "000115002000", "department": "ndrc",
           "applicant": {"kind": "organisation", "name": "杭州瑞博智能装备有限公司", "id_type": id_type,
                         "id_number": id_number, "phone": None},
           "channel": "online", "submitted_at": "2026-11-26T10:00:00+08:00", "materials": [], "form": form}
    return json.dumps({"message_id": "m-" + no, "kind": "application", "payload": app}).encode()


META = MessageMeta("m", "application", None, None, "platform")


def test_pages_through_the_feed_after_a_cursor(http, sim):
    http.post(f"{sim.url}/_admin/load", json={"cases": 10})
    source = adapter(sim.url).source()
    records, cursor = drain(source)
    legacy = exactjson.loads(http.get(f"{sim.url}/_admin/events").text)["items"]   # numbers exact, as the hub reads
    assert [r.data for r in records] == legacy and all(r.error is None for r in records)
    assert cursor == {"updatedSince": legacy[-1]["updateTime"], "afterId": legacy[-1]["changeId"]}
    assert exactjson.loads(records[0].raw) == legacy[0]   # raw is what a dead letter keeps and replay maps
    # Nothing new: an empty page keeps the cursor where it was.
    empty = source.fetch(cursor, 9)
    assert empty.records == [] and empty.cursor == cursor and not empty.has_more
    http.post(f"{sim.url}/_admin/load", json={"cases": 2})
    more, _ = drain(source, cursor)
    assert [r.data["changeId"] for r in more] == list(range(51, 61))
    source.close()


@pytest.mark.parametrize("fault", [{"error_rate": 1.0}, {"malformed_rate": 1.0}, {"gateway_rate": 1.0},
                                   {"latency_ms": 2500}, {"down": True}])
def test_a_failing_system_is_unavailable_and_the_cursor_resumes(http, sim, fault):
    http.post(f"{sim.url}/_admin/load", json={"cases": 4})
    source = adapter(sim.url, attempts=2, timeout=1).source()
    first = source.fetch(None, 7)
    faults(http, sim, **fault)
    with pytest.raises(SourceUnavailable) as caught:
        source.fetch(first.cursor, 7)
    assert "ndrc" in str(caught.value)
    faults(http, sim, **{k: False if k == "down" else 0 for k in fault})
    rest, _ = drain(source, first.cursor, 7)
    assert [r.data["changeId"] for r in first.records + rest] == list(range(1, 21))
    source.close()


def test_blips_are_retried_within_one_fetch(http, sim):
    http.post(f"{sim.url}/_admin/load", json={"cases": 20})
    faults(http, sim, error_rate=0.3, malformed_rate=0.2, seed=5)
    source = adapter(sim.url, attempts=8).source()
    records, _ = drain(source, None, 10)
    assert [r.data["changeId"] for r in records] == list(range(1, 101))


def test_an_undecodable_record_is_flagged_and_the_page_flows(http, sim):
    loaded = http.post(f"{sim.url}/_admin/load", json={"cases": 3, "bad": 1, "bad_kinds": ["garbled"]}).json()
    records, _ = drain(adapter(sim.url).source())
    broken = [r for r in records if r.error]
    assert len(broken) == 1 and "projectInfo is not valid JSON" in broken[0].error
    assert broken[0].data["caseNo"] == loaded["bad"][0] and "project" not in broken[0].data
    assert len(records) == 20 and all("project" in r.data for r in records if not r.error)


def test_sink_accepts_once_then_answers_duplicate(http, sim):
    sink = adapter(sim.url).sink()
    assert sink.name == "ndrc"
    assert sink.send(application(), META) == ACCEPTED
    assert sink.send(application(), META) == DUPLICATE
    assert sink.send(application("ZJWB20261126000102", project_code="2026-330106-24-01-318402"), META) == ACCEPTED
    apps = {a["applicationNo"]: a for a in http.get(f"{sim.url}/_admin/applications").json()["items"]}
    assert apps["ZJWB20261126000102"]["projectCode"] == "2026-330106-24-01-318402"
    assert json.loads(apps["ZJWB20261126000101"]["payload"])["application_no"] == "ZJWB20261126000101"
    sink.close()


def test_sink_reply_lost_then_retried_counts_once(http, sim):
    faults(http, sim, malformed_rate=1.0)
    sink = adapter(sim.url).sink()
    with pytest.raises(DeliveryError) as caught:
        sink.send(application(), META)
    assert caught.value.transient
    faults(http, sim, malformed_rate=0)
    assert sink.send(application(), META) == DUPLICATE
    receipts = [e for e in http.get(f"{sim.url}/_admin/events").json()["items"] if e["changeType"] == "RECEIPT"]
    assert len(receipts) == 1


@pytest.mark.parametrize("body, words", [
    (application(project_code="2026-3301-24-01-318402"), "projectCode"),
    (application(id_number="91330106MA2KQ8R392"), "applicantIdNumber"),
    (application(id_type="passport", id_number="E12345678"), "passport"),
    (b"{not json", "not a canonical application"),
])
def test_sink_refusals_are_permanent(sim, body, words):
    with pytest.raises(DeliveryError) as caught:
        adapter(sim.url).sink().send(body, META)
    assert not caught.value.transient and words in caught.value.reason


def test_sink_server_fault_is_transient(http, sim):
    faults(http, sim, error_rate=1.0)
    with pytest.raises(DeliveryError) as caught:
        adapter(sim.url).sink().send(application(), META)
    assert caught.value.transient and "soap:Server" in caught.value.reason


def test_check_loads_the_wsdl_and_queries_one_record(http, sim):
    http.post(f"{sim.url}/_admin/load", json={"cases": 1})
    result = adapter(sim.url).check()
    assert result.ok and result.facts == {"sample_items": 1, "has_more": True}
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    down = adapter(closed).check()
    assert not down.ok and "WSDL not usable" in down.detail
    wrong = adapter(sim.url, wsdl=f"{sim.url}/_admin/health").check()
    assert not wrong.ok


def test_config_spec_names_what_is_missing():
    with pytest.raises(ValueError, match="url is required"):
        NdrcAdapter({})
    with pytest.raises(ValueError, match="unknown setting"):
        NdrcAdapter({"url": "http://x", "endpoint": "y"})
    assert NdrcAdapter({"url": "http://h:1/"}).wsdl == "http://h:1/services/ProjectApprovalService?wsdl"
