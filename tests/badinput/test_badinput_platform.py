"""The unified platform's application feed (一网通办 申办, REST/JSON), the southbound source:
bad applications and bad pages through the real PlatformApplicationSource, the mapping and a
real SourceWorker publishing on the test broker (applications go to tongban.commands)."""
from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from adapters.platform import PlatformAdapter
from tests.badinput.fakes import dumps, item_bytes, json_page, no_retry, platform_pool, wire
from tests.badinput.harness import BI, check, check_sandwich
from tests.badinput.mutations import mutations

POOL = platform_pool()
LIMIT = 16384
URL = "http://platform.test"


@pytest.fixture(scope="module")
def platform():
    source = no_retry(PlatformAdapter({"url": URL, "max_record_bytes": LIMIT}).source())
    return source, wire(source.session, URL + "/")


def names_of(rec):
    return {rec.key, str(rec.data.get("applyNo", ""))}


def run(pipeline, platform, body: bytes, content_type: str = "application/json; charset=utf-8"):
    source, w = platform
    w.body, w.content_type = body, content_type
    return pipeline.poll(source, system="platform-applications", department="platform", name="bi-platform")


@BI
@given(m=mutations("platform", POOL, limit=LIMIT), data=st.data())
def test_one_bad_field_is_processed_or_dead_lettered_naming_it_and_the_page_flows(m, data, platform, pipeline,
                                                                                   logs):
    rest = [r for r in POOL if r["applyNo"] != m.base["applyNo"]]
    before, after = data.draw(st.sampled_from(rest)), data.draw(st.sampled_from(rest))
    logs.start()
    out = run(pipeline, platform, json_page([dumps(before), item_bytes(m), dumps(after)]))
    assert out.refused is None or m.kind == "deep", out.refused
    if out.refused:
        return
    check(out, names_of=names_of, log_text=logs.text())
    check_sandwich(out, m)
    for env in out.envelopes:   # what went on is an application for a department, routed by it
        assert env.kind == "application" and env.routing_key.endswith(".application.submitted")


@BI
@given(body=st.one_of(st.builds(lambda cut: json_page([dumps(a) for a in POOL[:3]])[:cut], st.integers(0, 500)),
                      st.binary(max_size=120),
                      st.sampled_from([b'{"items": null}', b'{"items": "x"}', b"[]",
                                       b'{"items": [' + b"{" * 20_000 + b"]}"])))
def test_a_page_that_is_not_a_feed_page_is_refused_whole_and_the_cursor_stays(body, platform, pipeline, bi_store):
    bi_store.save_checkpoint("bi-platform", {"afterSeq": 41})
    out = run(pipeline, platform, body)
    if out.refused:
        assert not out.envelopes and not out.dead
        assert bi_store.get_checkpoint("bi-platform") == {"afterSeq": 41}
    check(out, names_of=names_of)


def test_items_that_are_not_objects_or_have_a_garbage_seq_are_dead_lettered_and_never_move_the_cursor(
        platform, pipeline, bi_store):
    bi_store.save_checkpoint("bi-platform", {"afterSeq": 0})
    good = [dict(a, seq=10 + i) for i, a in enumerate(POOL[:2])]
    body = json_page([dumps(good[0]), b"7", b'"applyNo"', dumps(dict(POOL[5], seq={"x": 1}, applyNo=None)),
                      dumps(good[1])])
    out = run(pipeline, platform, body)
    assert [out.processed(r) for r in out.records] == [True, False, False, False, True]
    assert bi_store.get_checkpoint("bi-platform") == {"afterSeq": 11}
    for rec in out.records[1:4]:
        assert out.row_of(rec)["stage"] == "decode"


def test_an_application_claiming_utf8_with_gb18030_bytes_is_refused_naming_the_field(platform, pipeline):
    liar = dict(POOL[3], applicantName="@@X@@")
    body = json_page([dumps(POOL[0]), dumps(liar).replace(b"@@X@@", "欧阳娜娜".encode("gb18030")), dumps(POOL[1])])
    out = run(pipeline, platform, body)
    assert [out.processed(r) for r in out.records] == [True, False, True]
    row = out.row_of(out.records[1])
    assert row["stage"] == "decode" and "applicantName" in row["reason"] and "not valid utf-8" in row["reason"]
