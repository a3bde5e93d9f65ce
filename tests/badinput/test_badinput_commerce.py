"""市场监管 企业登记 (REST/JSON change feed): bad records and bad pages through the real
CommerceSource (its page decoding and record guard), the mappings and a real SourceWorker
publishing on the test broker. The HTTP answer is made in-process (fakes.Wire)."""
from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import given, settings as examples, strategies as st

from adapters.commerce import CommerceAdapter
from tests.badinput.fakes import commerce_feed, commerce_pool, dumps, item_bytes, json_page, mount, no_retry, wire
from tests.badinput.harness import BI, check, check_sandwich
from tests.badinput.mutations import Mutation, mutations

POOL = commerce_pool()
LIMIT = 16384
URL = "http://commerce.test"
_RUNS = itertools.count()


@pytest.fixture(scope="module")
def commerce():
    source = no_retry(CommerceAdapter({"url": URL, "max_record_bytes": LIMIT}).source())
    return source, wire(source.session, URL + "/")


def names_of(rec):
    return {rec.key, str(rec.data.get("eventId", ""))}


def run(pipeline, commerce, body: bytes, content_type: str = "application/json; charset=utf-8"):
    source, w = commerce
    w.body, w.content_type = body, content_type
    return pipeline.poll(source, system="commerce-registry", department="commerce", name="bi-commerce")


def others(data, m: Mutation) -> tuple[dict, dict]:
    rest = [r for r in POOL if r["eventId"] != m.base["eventId"]]
    return data.draw(st.sampled_from(rest)), data.draw(st.sampled_from(rest))


@BI
@given(m=mutations("commerce", POOL, limit=LIMIT), data=st.data())
def test_one_bad_field_is_processed_or_dead_lettered_naming_it_and_the_page_flows(m, data, commerce, pipeline,
                                                                                   logs):
    before, after = others(data, m)
    logs.start()
    out = run(pipeline, commerce, json_page([dumps(before), item_bytes(m), dumps(after)]))
    if out.refused:   # only nesting past the JSON parser's depth may spoil the page as a whole
        assert m.kind == "deep", out.refused
        return
    check(out, names_of=names_of, log_text=logs.text())
    check_sandwich(out, m)


PAGES = st.one_of(
    st.builds(lambda cut: json_page([dumps(r) for r in POOL[:3]])[:cut], st.integers(0, 600)),   # truncated
    st.binary(max_size=200),                                                                      # noise
    st.sampled_from([b"[]", b'"items"', b'{"items": 3}', b'{"items": {}}', b"null", b"{}", b'{"items": [',
                     b'{"items": [' + b"[" * 50_000 + b"]" * 50_000 + b"]}",                      # nested past any parser
                     b'{"items": [{"eventId": 1' + b"0" * 5000 + b"}]}",                          # 5000-digit number
                     b"\xef\xbb\xbf" + json_page([dumps(POOL[0])]),                               # BOM
                     json_page([dumps(POOL[0])]).replace(b"}", b"}\x00", 1)]),                    # NUL between tokens
)


@BI
@given(body=PAGES)
def test_a_page_that_is_not_a_json_feed_page_is_refused_whole_and_nothing_moves(body, commerce, pipeline, logs,
                                                                                bi_store):
    bi_store.save_checkpoint("bi-commerce", {"updatedSince": "2026-03-05T08:00:00", "afterId": 7})
    logs.start()
    out = run(pipeline, commerce, body)
    check(out, names_of=names_of, log_text=logs.text())
    if out.refused:
        assert not out.envelopes and not out.dead
        assert bi_store.get_checkpoint("bi-commerce")["afterId"] == 7   # read again later, nothing lost


def test_items_that_are_not_objects_are_dead_lettered_not_skipped(commerce, pipeline):
    body = json_page([dumps(POOL[0]), b"5", b'"text"', b"null", b"[1, 2]", b"true", dumps(POOL[1])])
    out = run(pipeline, commerce, body)
    assert len(out.records) == 7 and not out.refused
    assert [out.processed(r) for r in out.records] == [True, False, False, False, False, False, True]
    for i, rec in enumerate(out.records[1:6], 2):
        reason = out.row_of(rec)["reason"]
        assert out.row_of(rec)["stage"] == "decode" and f"item {i} of the page" in reason, reason


def test_a_page_that_says_utf8_but_holds_gb18030_dead_letters_the_records_naming_field_and_bytes(commerce, pipeline):
    """A lying page: the system's charset header says UTF-8, one record's name was written by a
    GB18030 encoder. Not silently turned into U+FFFD: that record is refused, the others flow."""
    liar = dict(POOL[1], registration=dict(POOL[1]["registration"], entname="@@X@@"))
    body = json_page([dumps(POOL[0]), dumps(liar).replace(b"@@X@@", "杭州瑞博网络科技有限公司".encode("gb18030")),
                      dumps(POOL[2])])
    out = run(pipeline, commerce, body)
    assert [out.processed(r) for r in out.records] == [True, False, True]
    row = out.row_of(out.records[1])
    assert row["stage"] == "decode" and "registration.entname" in row["reason"]
    assert "bytes ba bc d6 dd" in row["reason"] and "not valid utf-8" in row["reason"]   # 杭州 in GB18030
    assert all("\ufffd" not in json.dumps(e.payload.model_dump(mode="json"), ensure_ascii=False)
               for e in out.envelopes)


@pytest.mark.parametrize("declared", ["gbk", "GB18030", "gb2312"])
def test_a_page_that_honestly_declares_a_gb_charset_is_read_in_it(declared, commerce, pipeline):
    text = json.dumps({"items": POOL[:3], "hasMore": False}, ensure_ascii=False)
    out = run(pipeline, commerce, text.encode("gb18030"), f"application/json; charset={declared}")
    assert len(out.records) == 3 and not out.failures
    names = {e.payload.applicant.name for e in out.envelopes if e.kind == "case_event"}
    assert names <= {r["registration"]["entname"] for r in POOL[:3]} and names


def test_a_page_declaring_utf8_wholly_in_gb18030_refuses_each_non_ascii_record_not_the_feed(commerce, pipeline):
    text = json.dumps({"items": POOL[:4], "hasMore": False}, ensure_ascii=False)
    out = run(pipeline, commerce, text.encode("gb18030"))
    assert len(out.records) == 4 and len(out.failures) == 4
    assert all(out.row_of(r)["stage"] == "decode" for r in out.records)


# --- a record the system cannot write out spoils every page holding it (hub/runtime/unreadable.py) --
@examples(BI, max_examples=min(BI.max_examples, 25))
@given(where=st.integers(0, 11), page_size=st.integers(1, 20), poison=st.sampled_from([b'a"b', b"\x1f", b"\\x"]))
def test_wherever_a_poisoned_record_is_the_ones_before_it_flow_once_and_the_feed_holds_at_it(where, page_size,
                                                                                          poison, pipeline, bi_store):
    records = POOL[:12]
    feed = commerce_feed(records, {records[where]["eventId"]: poison})
    name = f"bi-commerce-poisoned-{next(_RUNS)}"
    taken, dead = [], []
    for _ in range(60):
        source = no_retry(CommerceAdapter({"url": URL}).source())   # built afresh, as the supervisor does
        mount(source.session, URL + "/", feed)
        out = pipeline.poll(source, system="commerce-registry", department="commerce", name=name,
                            page_size=page_size)
        check(out, names_of=names_of)
        taken += [r.data["eventId"] for r in out.records if out.processed(r)]
        dead += [row for row in out.dead if row["stage"] == "fetch"]
        if out.refused and "held after" in out.refused:
            break
    assert taken == [r["eventId"] for r in records[:where]]
    [row] = dead
    assert row["record_key"] == ("after the start of the feed" if where == 0 else
                                 f"after updatedSince={records[where - 1]['updatedAt']}, "
                                 f"afterId={records[where - 1]['eventId']}")
    assert "commerce-registry" in row["reason"] and "held here" in row["reason"]
