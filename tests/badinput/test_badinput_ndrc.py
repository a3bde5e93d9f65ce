"""发改 投资项目审批 (SOAP via zeep): bad change records and bad responses through the real
NdrcSource (zeep parsing the response against the served WSDL, projectInfo JSON decoding,
the record guard), the mappings and a real SourceWorker on the test broker. The WSDL and
the responses are served in-process (fakes.Wire).

A response that is not well-formed XML (a NUL, bytes invalid in its declared encoding, a
cut) cannot be split into records: it is refused whole (SourceUnavailable), the cursor
stays and the page is asked for again, in smaller pages down to one; a page of one that stays
unreadable is dead-lettered at stage fetch and stepped past when the answer still names its
position (below, and test_badinput_pages.py); bad JSON inside projectInfo is one record's fault."""
from __future__ import annotations

import re

import pytest
from hypothesis import given, strategies as st

from adapters.ndrc import NdrcAdapter
from tests.badinput.fakes import NDRC_WSDL, ndrc_pool, ndrc_response, wire
from tests.badinput.harness import BI, check, check_sandwich
from tests.badinput.mutations import Mutation, Raw, mutations

POOL = ndrc_pool()
LIMIT = 16384
XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")   # what XML 1.0 cannot hold


def xml_illegal(m: Mutation) -> bool:
    """A value no XML writer can put in a document (NUL, controls; garbage may hold them too)."""
    return isinstance(m.value, str) and bool(XML_CHARS.search(m.value))
# ChangeRecord's elements without minOccurs="0": zeep reads the response strictly against the
# schema, so a change that lacks one spoils the whole response (see the module docstring).
REQUIRED = {"changeId", "updateTime", "changeType", "caseNo", "itemCode", "itemName", "stepSeq", "stepCode",
            "stepName", "eventTime", "deptName", "projectInfo"}


@pytest.fixture(scope="module")
def ndrc():
    adapter = NdrcAdapter({"url": "http://ndrc.test", "attempts": 1, "max_record_bytes": LIMIT})
    source = adapter.source()
    return source, wire(source.client.session, "http://ndrc.test/", get_body=NDRC_WSDL.encode("utf-8"),
                        content_type="text/xml; charset=utf-8")


def names_of(rec):
    return {rec.key, str(rec.data.get("changeId", ""))}


def run(pipeline, ndrc, body: bytes):
    source, w = ndrc
    w.body = body
    return pipeline.poll(source, system="ndrc-tzxm", department="ndrc", name="bi-ndrc")


def response(records: list[dict], m: Mutation | None = None) -> bytes:
    """The SOAP answer; the mutated value goes in as bytes where XML or JSON cannot carry it."""
    marker = f"@@MUTATED-{m.kind}@@" if m else None
    rows = []
    for r in records:
        r = dict(r)
        for k, v in list(r.items()):
            if k not in ("project", "materials") and v is not None and not isinstance(v, str):
                r[k] = str(v)
            if m and k != "project" and isinstance(v, str) and k == m.path and xml_illegal(m):
                r[k] = marker
        rows.append(r)
    body = ndrc_response(rows)
    if m and isinstance(m.value, Raw):
        body = body.replace(b'"' + marker.encode() + b'"', m.value.json).replace(marker.encode(), m.value.json)
    elif m and xml_illegal(m) and "." not in m.path:
        body = body.replace(marker.encode(), m.value.encode("utf-8"))
    return body


@BI
@given(m=mutations("ndrc", POOL, limit=LIMIT), data=st.data())
def test_one_bad_field_is_processed_or_dead_lettered_naming_it_and_the_page_flows(m, data, ndrc, pipeline, logs):
    rest = [r for r in POOL if r["changeId"] != m.base["changeId"]]
    before, after = data.draw(st.sampled_from(rest)), data.draw(st.sampled_from(rest))
    logs.start()
    out = run(pipeline, ndrc, response([before, m.record, after], m))
    top = "." not in m.path
    if out.refused:
        # Only what XML cannot hold spoils the response as a whole: controls, bytes that are not
        # UTF-8 (the lying kind), or a change without an element the schema requires.
        assert ((top and xml_illegal(m)) or m.kind == "lying"
                or (m.path in REQUIRED and (m.kind == "missing" or m.value is None))), (m, out.refused)
        assert not out.envelopes and not out.dead
        return
    check(out, names_of=names_of, log_text=logs.text())
    check_sandwich(out, m, must_fail=m.must_fail and not (top and m.kind in ("surrogate",)),
                   fields=m.fields | ({"projectInfo", "project"} if m.path.startswith("project.") else set()))


GOOD = ndrc_response(POOL[:3])


@BI
@given(body=st.one_of(
    st.integers(1, len(GOOD) - 1).map(lambda cut: GOOD[:cut]),                               # cut off
    st.integers(0, len(GOOD) - 1).map(lambda at: GOOD[:at] + b"\x00" + GOOD[at:]),           # a NUL anywhere
    st.integers(60, len(GOOD) - 1).map(lambda at: GOOD[:at] + "张".encode("gb18030") + GOOD[at:]),
    st.binary(max_size=300),
    st.sampled_from([b"", b"<html><body>502 Bad Gateway</body></html>", GOOD.replace(b"utf-8", b"gb18030", 1),
                     GOOD.replace(b"soap:Envelope", b"soap:Envelop"),
                     GOOD.replace(b"<tns:hasMore>false", b"<tns:hasMore>perhaps")])))
def test_a_response_that_is_not_well_formed_soap_is_refused_whole_or_read_record_by_record(body, ndrc, pipeline,
                                                                                           bi_store, logs):
    bi_store.save_checkpoint("bi-ndrc", {"updatedSince": "20260305080000", "afterId": 3})
    logs.start()
    out = run(pipeline, ndrc, body)
    check(out, names_of=names_of, log_text=logs.text())
    if out.refused:
        assert not out.envelopes and not out.dead
        assert bi_store.get_checkpoint("bi-ndrc")["afterId"] == 3


@pytest.mark.parametrize("info, why", [
    ("{", "not valid JSON"), ("[1, 2]", "not a JSON object"), ("[" * 5000 + "]" * 5000, "nested deeper"),
    ('{"projectCode": 1' + "0" * 5000 + "}", None), ('{"projectName": "\\ud800"}', "lone surrogate"),
    ("", "projectInfo is missing"),
])
def test_bad_project_json_is_one_records_fault(info, why, ndrc, pipeline):
    broken = {k: v for k, v in POOL[1].items() if k != "project"}
    broken["projectInfo"] = info
    out = run(pipeline, ndrc, response([POOL[0], broken, POOL[2]]))
    assert [out.processed(r) for r in out.records] == [True, False, True]
    row = out.row_of(out.records[1])
    assert "project" in row["reason"] and (why is None or why in row["reason"]), row["reason"]


def test_a_value_zeep_cannot_read_as_its_type_is_logged_without_the_value(ndrc, pipeline, logs):
    """stepSeq is an xs:int; zeep logs the failed conversion with a traceback whose last line
    echoes the value. The adapter's log filter keeps the message and drops the value."""
    resident_id = "33010619900307123X"
    bad = dict(POOL[1], stepSeq="@@ID@@")
    logs.start()
    out = run(pipeline, ndrc, response([POOL[0], bad, POOL[2]]).replace(b"@@ID@@", resident_id.encode()))
    assert [out.processed(r) for r in out.records] == [True, False, True]
    assert "stepSeq" in out.row_of(out.records[1])["reason"]
    assert "Error during xml -> python translation" in logs.text() and resident_id not in logs.text()


def test_an_empty_change_id_is_dead_lettered_by_position_and_a_missing_one_refuses_the_response(ndrc, pipeline):
    out = run(pipeline, ndrc, response([POOL[0], dict(POOL[1], changeId=""), POOL[2]]))
    assert [out.processed(r) for r in out.records] == [True, False, True]
    assert "item 2 of the page" in out.records[1].key and out.row_of(out.records[1])["stage"] == "decode"
    # Without the element the response breaks the schema: zeep refuses it whole (a known
    # limit of reading strictly; the page is asked for again, nothing is lost or skipped).
    out = run(pipeline, ndrc, response([POOL[0], {k: v for k, v in POOL[1].items() if k != "changeId"}, POOL[2]]))
    assert out.refused and "Unexpected element" in out.refused and not out.envelopes


def test_a_decision_step_whose_change_type_is_spoiled_is_refused_not_half_made(ndrc, pipeline):
    """As land's certificates: mappings/ndrc/certificate.yaml needs changeType=PROCESS and stepCode 40."""
    decided = next(r for r in POOL if r.get("stepCode") == "40")
    source, w = ndrc
    w.body = response([dict(decided, changeType="PR0CESS")])
    out = pipeline.poll(source, system="ndrc-tzxm", department="ndrc", name="bi-ndrc")
    assert not out.processed(out.records[0]), [e.kind for e in out.envelopes]


# --- an answer for a page of one that zeep cannot read (hub/runtime/unreadable.py) ----------------
ONE = dict(POOL[4], changeId=987654)
ONE_BODY = response([ONE])
AFTER = {"updatedSince": POOL[3]["updateTime"], "afterId": 987653}
ITS = {"updatedSince": ONE["updateTime"], "afterId": ONE["changeId"]}


def _pair(cursor: dict) -> tuple:
    return cursor["updatedSince"], cursor["afterId"]


@BI
@given(data=st.data(), how=st.sampled_from(["cut", "insert", "overwrite"]),
       junk=st.sampled_from([b"\x00", b"\x0b", b"<", b"&", b"]]>", "张".encode("gb18030"), b"\xff\xfe"]))
def test_a_broken_answer_for_one_change_never_names_a_position_past_that_change(data, how, junk):
    """records.position_in is what lets the feed step past a change the system cannot write out.
    However the answer is spoiled, it names nothing, or a position after the cursor and no
    further than that change's own (updateTime, changeId): stepping there can read the change
    again, never skip a good one."""
    from lxml import etree
    from hypothesis import assume
    from adapters.ndrc.records import position_in
    at = data.draw(st.integers(0, len(ONE_BODY)))
    if how == "cut":
        body = ONE_BODY[:at]
    elif how == "insert":
        body = ONE_BODY[:at] + junk + ONE_BODY[at:]
    else:
        body = ONE_BODY[:at] + junk + ONE_BODY[at + len(junk):]
    try:
        etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True))
        assume(False)   # still well-formed: zeep reads it, position_in is never asked
    except etree.XMLSyntaxError:
        pass
    got = position_in(body, AFTER)
    assert got is None or _pair(AFTER) < _pair(got) <= _pair(ITS), got
    assert position_in(body, ITS) is None                      # never a position at or before the cursor


def test_a_broken_answer_keeps_the_position_when_the_fault_comes_after_it():
    from adapters.ndrc.records import position_in
    cut = ONE_BODY.index(b"<tns:changeType>")
    assert position_in(ONE_BODY[:cut], AFTER) == ITS                                # cut off after updateTime
    assert position_in(ONE_BODY.replace(b"</tns:opinion>", b"\x0b</tns:opinion>"), AFTER) == ITS
    assert position_in(ONE_BODY[:ONE_BODY.index(b"<tns:updateTime>")], AFTER) is None   # lost with the cut
    assert position_in(response([POOL[4], POOL[5]])[:-40], AFTER) is None              # two changes: whose?
    doctype = b'<!DOCTYPE x [<!ENTITY e "1">]>'
    assert position_in(ONE_BODY.replace(b"?>", b"?>" + doctype, 1), AFTER) is None   # not looked into
