"""自然资源 用地审批 (batch files: GB18030 / UTF-8, XML and CSV): bad records and bad files
dropped into a real outbox, read by the real LandSource (claim, decode, parse, move to
done/ or failed/), mapped and published by a real SourceWorker on the test broker.

A file that cannot be read as a whole (not well-formed XML, a DTD, bytes not valid in the
encoding it declares) is one dead letter at stage decode and goes to failed/; a broken record
is its own dead letter and the rest of the file flows. The tests at the end are the gaps this
suite found in the adapter (fixed since): each keeps them fixed."""
from __future__ import annotations

import itertools
import json
import re

import pytest
from hypothesis import given, strategies as st

from adapters.land import LandAdapter
from sims.land_files import render_csv, render_xml
from tests.badinput.fakes import land_pool
from tests.badinput.harness import BI, check, check_sandwich
from tests.badinput.mutations import MISSING, TEXT_KINDS, mutations

POOL = land_pool()
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
SERIAL = itertools.count(1)


@pytest.fixture(scope="module")
def land(tmp_path_factory):
    base = tmp_path_factory.mktemp("land")
    (base / "outbox").mkdir()
    (base / "inbox").mkdir()
    return LandAdapter({"outbox": str(base / "outbox"), "inbox": str(base / "inbox")})


def names_of(rec):
    return {rec.key, str(rec.data.get("SHXXID", ""))}


def batch(records: list[dict], fmt: str, encoding: str) -> bytes:
    records = [{k: v for k, v in r.items() if v is not MISSING} for r in records]
    if fmt == "xml":
        head = {"PCH": f"{next(SERIAL):08d}", "FSSJ": "2026-03-05 08:00:00", "JLS": len(records)}
        return render_xml(records, head, encoding, [False] * len(records))
    return render_csv(records, encoding)


def drop(land, name: str, data: bytes):
    (land.folders().outbox / name).write_bytes(data)


def run(pipeline, land, source, name: str, data: bytes, tally: bool = True):
    drop(land, name, data)
    return pipeline.poll(source, system="land-approval", department="land", name="bi-land", tally=tally)


@pytest.fixture(scope="module")
def source(land):
    return land.source()


def unique(rec: dict) -> dict:
    """A good record whose version (GXSJ) is new, so no two dropped files have the same bytes."""
    return dict(rec, GXSJ=f"2026-03-05 08:00:00.{next(SERIAL):06d}")


@BI
@given(m=mutations("land", POOL, kinds=TEXT_KINDS, text_only=True), data=st.data(),
       form=st.sampled_from([("xml", "GB18030"), ("xml", "UTF-8"), ("xml", "GBK"), ("xml", "UTF-8-BOM"),
                             ("csv", "GB18030"), ("csv", "UTF-8-BOM")]))
def test_one_bad_field_is_processed_or_dead_lettered_naming_it_and_the_file_flows(m, data, form, land, source,
                                                                                 pipeline, logs):
    rest = [r for r in POOL if r["SHXXID"] != m.base["SHXXID"]]
    before, after = unique(data.draw(st.sampled_from(rest))), unique(data.draw(st.sampled_from(rest)))
    fmt, encoding = form
    name = f"TDSP_20260305_{next(SERIAL):08d}.{fmt}"
    logs.start()
    out = run(pipeline, land, source, name, batch([before, m.record, after], fmt, encoding))
    check(out, names_of=names_of, log_text=logs.text())
    if len(out.records) == 1:   # the file as a whole: only what XML cannot hold may do that
        assert fmt == "xml" and isinstance(m.value, str) and XML_ILLEGAL.search(m.value), (m, out.records[0].error)
        assert name in out.dead[0]["reason"] and out.dead[0]["stage"] == "decode"
        assert (land.folders().failed / name).exists()
        return
    check_sandwich(out, m)
    assert (land.folders().done / name).exists()


def _xml(body: str, decl: str = "UTF-8") -> bytes:
    return (f'<?xml version="1.0" encoding="{decl}"?>\n<Message><Head><JLS>1</JLS></Head><Data>'
            f"{body}</Data></Message>").encode("utf-8")


FILES = [
    ("truncated.xml", batch(POOL[:3], "xml", "UTF-8")[:300], "not well-formed"),
    ("lying-utf8.xml", batch(POOL[:2], "xml", "UTF-8").decode("utf-8").encode("gb18030"), "not valid utf-8"),
    ("utf16-label.xml", _xml("<Record/>", "UTF-16"), "utf-16"),
    ("unknown-label.xml", _xml("<Record/>", "x-klingon"), "unknown encoding"),
    ("nul.xml", _xml("<Record><SHXXID>A\x00B</SHXXID></Record>"), "not well-formed"),
    ("count.xml", _xml("<Record/><Record/>").replace(b"<JLS>1", b"<JLS>5"), "counts 5 records"),
    ("root.xml", b"<Other/>", "no Message/Data"),
    ("deep.xml", _xml("<Record><ZL>" + "<a>" * 20000 + "</a>" * 20000 + "</ZL></Record>"), None),
    ("empty.csv", b"", "no readable header"),
    ("header.csv", "SHXXID,SHXXID\r\n1,2\r\n".encode("gb18030"), "empty or repeated column name"),
    ("gbk-bom-liar.csv", b"\xef\xbb\xbf" + "SHXXID,JLLX\r\n1,张\r\n".encode("gb18030"), "not valid utf-8"),
]


@pytest.mark.parametrize("name, data, why", FILES, ids=[f[0] for f in FILES])
def test_a_file_that_cannot_be_read_is_one_dead_letter_naming_it_and_goes_to_failed(name, data, why, land, source,
                                                                                    pipeline):
    name = f"TDSP_20260305_{next(SERIAL):08d}_{name}"
    out = run(pipeline, land, source, name, data)
    check(out, names_of=names_of)
    if why is None:   # nesting is read (expat has no depth limit to hit) and refused per record
        assert all(not out.processed(r) for r in out.records) and (land.folders().done / name).exists()
        return
    failed = [r for r in out.records if not out.processed(r)]
    assert failed, f"{name} was read as if nothing were wrong"
    reason = out.row_of(failed[0])["reason"]
    assert name in reason and why in reason, reason
    assert (land.folders().failed / name).exists() or (land.folders().done / name).exists()


def test_a_broken_csv_line_is_dead_lettered_and_the_next_lines_flow(land, source, pipeline):
    good = [unique(r) for r in POOL[:3]]
    text = render_csv(good, "GB18030").split(b"\r\n")
    text[2] = text[2] + b",extra,fields"           # record 2 has more fields than the header
    out = run(pipeline, land, source, f"TDSP_20260305_{next(SERIAL):08d}.csv", b"\r\n".join(text))
    assert [out.processed(r) for r in out.records] == [True, False, True]
    assert "fields, the header has" in out.row_of(out.records[1])["reason"]


@pytest.mark.parametrize("cut", ["mid_line", "mid_character"])
def test_a_csv_file_cut_off_dead_letters_its_last_record_and_the_rest_flows(cut, land, source, pipeline):
    data = render_csv([unique(r) for r in POOL[:3]], "GB18030").rstrip(b"\r\n")
    if cut == "mid_line":
        data = data[: data.rfind(b",")]                       # the last record loses its last fields
    else:
        data = data[: data.rfind("杭".encode("gb18030")) + 1]  # ... and half of a two-byte character
    out = run(pipeline, land, source, f"TDSP_20260305_{next(SERIAL):08d}.csv", data)
    assert [out.processed(r) for r in out.records] == [True, True, False]
    reason = out.row_of(out.records[2])["reason"]
    assert "fields, the header has" in reason or "not valid gb18030" in reason, reason


# --- gaps found here, fixed in the adapter since ----------------------------------------------------
def test_a_csv_field_over_the_csv_modules_limit_is_dead_lettered_not_a_crash(land, source, pipeline):
    """csv.Error (field larger than field limit, 131072) used to escape fetch and poll_once."""
    rec = dict(unique(POOL[0]), SHYJ="意" * 140_000)
    out = run(pipeline, land, source, f"TDSP_20260305_{next(SERIAL):08d}.csv",
              render_csv([unique(POOL[1]), rec], "GB18030"))
    assert out.processed(out.records[0]) and not out.processed(out.records[-1])


def test_an_unclosed_quote_does_not_swallow_the_records_after_it(land, source, pipeline):
    """The rest of the file used to become one field of the record that opened the quote."""
    good = [unique(r) for r in POOL[:3]]
    text = render_csv(good, "GB18030").split(b"\r\n")
    text[1] = text[1].replace(b",", b',"', 1)      # record 1 opens a quote it never closes
    out = run(pipeline, land, source, f"TDSP_20260305_{next(SERIAL):08d}.csv", b"\r\n".join(text))
    assert len(out.records) == 3 and not out.processed(out.records[0]) and out.processed(out.records[2])


def test_a_gb18030_label_on_utf8_bytes_is_not_processed_as_mojibake(land, source, pipeline):
    """The lying label the other way round: it used to decode, without error, into mojibake."""
    rec = unique(POOL[0])
    data = batch([rec], "xml", "GB18030").decode("gb18030").encode("utf-8")
    out = run(pipeline, land, source, f"TDSP_20260305_{next(SERIAL):08d}.xml", data)
    names = [e.payload.applicant.name for e in out.envelopes if e.payload.applicant]
    assert not out.processed(out.records[0]) or names == [rec["QLRMC"]], json.dumps(names, ensure_ascii=False)


def test_a_certificate_step_whose_record_type_is_spoiled_is_refused_not_half_made(land, source, pipeline):
    """Certificates used to be chosen by JDDM alone: a spoiled JLLX made the certificate and
    silently no case event. Now their condition needs the record type too (when: all)."""
    issued = next(r for r in POOL if r["JDDM"] == "401")
    out = run(pipeline, land, source, f"TDSP_20260305_{next(SERIAL):08d}.csv",
              render_csv([dict(unique(issued), JLLX="B1")], "GB18030"))
    assert not out.processed(out.records[0]), [e.kind for e in out.envelopes]


ACCEPTED = next(r for r in POOL if r.get("CLXX"))   # a 受理 record: it lists the materials


@pytest.mark.parametrize("fmt, clxx, why", [
    ("csv", '[{"CLMC": "申请书"', "CLXX: not a JSON list of materials"),
    ("csv", '{"CLMC": "申请书"}', "CLXX: not a JSON list of materials"),
    ("csv", '[{"CLMC": "申请书", "CLMC": "宗地图"}]', "names 'CLMC' twice"),
    ("csv", '[{"CLMC": "申请书", "SFTJ": 0}]', "CLXX.0.SFTJ: int"),
    ("csv", '[{"CLMC": "申请书", "SFTJ": "是"}]', "CLXX.0.SFTJ"),
    ("xml", "申请书;宗地图", "CLXX holds text"),
    ("xml", [{"SFBX": "1"}], "CLXX.0.CLMC"),
])
def test_a_materials_list_that_cannot_be_read_is_that_records_fault(fmt, clxx, why, land, source, pipeline):
    name = f"TDSP_20260305_{next(SERIAL):08d}.{fmt}"
    bad = unique(dict(ACCEPTED, CLXX=clxx))
    out = run(pipeline, land, source, name, batch([unique(POOL[0]), bad, unique(POOL[1])], fmt, "UTF-8-BOM"))
    assert [out.processed(r) for r in out.records] == [True, False, True], out.failures
    reason = out.row_of(out.records[1])["reason"]
    assert why in reason, reason
