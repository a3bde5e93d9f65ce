"""The land adapter reading batch files: encodings (GB18030 with characters outside GBK,
GBK labels, BOMs), safe XML, and one bad record in a batch. No broker, no simulator:
the files are written here by hand."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from adapters.land.batch import BatchUnreadable, parse
from adapters.land.decode import Undecodable, decode
from hub.mapping import MappingSet
from hub.mapping.samples import canonical_output

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "mappings" / "land" / "samples"


def sample(name: str) -> tuple[dict, object]:
    inp = json.loads((SAMPLES / f"{name}.input.json").read_text(encoding="utf-8"))
    exp = json.loads((SAMPLES / f"{name}.expected.json").read_text(encoding="utf-8"))
    return inp, exp


def xml_batch(records: list[dict], declared: str | None, codec: str, bom: bytes = b"") -> bytes:
    body = "".join("<Record>" + "".join(f"<{k}>{v}</{k}>" for k, v in r.items()) + "</Record>" for r in records)
    decl = f'<?xml version="1.0" encoding="{declared}"?>\n' if declared else ""
    text = f"{decl}<Message><Head><JLS>{len(records)}</JLS></Head><Data>{body}</Data></Message>"
    return bom + text.encode(codec)


def csv_batch(records: list[dict], codec: str, bom: bytes = b"") -> bytes:
    cols = list(records[0])
    lines = [",".join(cols)] + [",".join(r[c] for c in cols) for r in records]
    return bom + "\r\n".join(lines).encode(codec)


@pytest.fixture(scope="module")
def mappings():
    return MappingSet.load(ROOT / "mappings")


@pytest.mark.parametrize("name", ["decided_person_gbk_outside_name", "issued_title_four_byte_name",
                                  "receipt_person_four_byte_name_no_phone"])
@pytest.mark.parametrize("fmt", ["xml", "csv"])
def test_gb18030_file_with_characters_outside_gbk_decodes_to_the_sample_record(name, fmt, mappings):
    record, expected = sample(name)
    data = xml_batch([record], "GB18030", "gb18030") if fmt == "xml" else csv_batch([record], "gb18030")
    rare = next(c for c in record["QLRMC"] if not _in_gbk(c))
    assert rare.encode("gb18030") in data          # really GB18030 bytes on disk (FE9F for 䶮, 4 bytes for 𠮷)
    [got] = parse(f"TDSP_1.{fmt}", data)
    assert got.error is None and got.data == record
    assert json.loads(got.raw) == record            # what a replay would map again
    assert canonical_output(mappings, "land-approval", got.data) == expected


def _in_gbk(c: str) -> bool:
    try:
        c.encode("gbk")
        return True
    except UnicodeEncodeError:
        return False


def test_a_gbk_label_on_gb18030_bytes_is_read_as_gb18030():
    record, _ = sample("decided_person_gbk_outside_name")
    data = xml_batch([record], "GBK", "gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("gbk")                          # what a literal reading of the label would do
    [got] = parse("TDSP_2.xml", data)
    assert got.data["QLRMC"] == "刘䶮"


@pytest.mark.parametrize("declared,codec,bom", [("UTF-8", "utf-8", b""), ("UTF-8", "utf-8", b"\xef\xbb\xbf"),
                                                (None, "utf-8", b""), ("GB18030", "utf-8", b"\xef\xbb\xbf")])
def test_xml_encodings_by_declaration_or_bom(declared, codec, bom):
    record, _ = sample("issued_title_four_byte_name")
    [got] = parse("TDSP_3.xml", xml_batch([record], declared, codec, bom))
    assert got.data["QLRMC"] == "陈𠮷祥"


def test_csv_with_a_bom_is_utf8_and_without_is_gb18030():
    record, _ = sample("decided_person_gbk_outside_name")
    assert parse("a.csv", csv_batch([record], "utf-8", b"\xef\xbb\xbf"))[0].data == record
    assert parse("b.csv", csv_batch([record], "gb18030"))[0].data == record
    assert parse("c.csv", csv_batch([record], "utf-8"), csv_encoding="utf-8")[0].data == record


def test_undecodable_bytes_are_named():
    with pytest.raises(Undecodable, match="not valid gb18030"):
        decode(b"abc\x80\xff", "gb18030")
    with pytest.raises(BatchUnreadable, match="unknown encoding"):
        parse("x.xml", b'<?xml version="1.0" encoding="KLINGON"?><Message/>')


@pytest.mark.parametrize("evil", [
    # billion laughs: entity expansion
    '<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
    '<Message><Data><Record><JLLX>&b;</JLLX></Record></Data></Message>',
    # external entity: a file on the hub's disk, or a URL
    '<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    '<Message><Data><Record><ZL>&x;</ZL></Record></Data></Message>',
    '<?xml version="1.0"?><!DOCTYPE m SYSTEM "http://127.0.0.1:9/evil.dtd"><Message><Data/></Message>',
])
def test_dtds_and_entities_are_refused_without_fetching_anything(evil):
    with pytest.raises(BatchUnreadable, match="not allowed|DTD|[Ee]ntit"):
        parse("evil.xml", evil.encode("utf-8"))


def test_whole_file_problems_are_unreadable():
    record, _ = sample("accepted_org_iso_time")
    whole = xml_batch([record, record], "UTF-8", "utf-8")
    with pytest.raises(BatchUnreadable, match="well-formed"):
        parse("cut.xml", whole[: len(whole) // 2])          # cut mid-way
    with pytest.raises(BatchUnreadable, match="counts 3 records"):
        parse("count.xml", whole.replace(b"<JLS>2</JLS>", b"<JLS>3</JLS>"))
    with pytest.raises(BatchUnreadable, match="Message/Data"):
        parse("root.xml", b"<Other><Data/></Other>")
    with pytest.raises(BatchUnreadable, match="header"):
        parse("empty.csv", b"")
    with pytest.raises(BatchUnreadable, match="not a batch"):
        parse("notes.txt", b"hello")


def test_one_bad_csv_row_is_an_error_record_and_the_rest_flow():
    record, _ = sample("accepted_org_iso_time")
    cols = list(record)
    good = ",".join(record[c] for c in cols).encode("gb18030")
    data = b"\r\n".join([",".join(cols).encode(), good, good.replace(b",", b";", 3), b"", good,
                         good[:40] + b"\x81\x20" + good[42:], good]) + b"\r\n"
    records = parse("TDSP_9.csv", data)
    assert [r.error is None for r in records] == [True, False, True, False, True]
    assert "row has" in records[1].error and records[1].key == "TDSP_9.csv#2"
    assert "not valid gb18030" in records[3].error
    assert all(r.data == record for r in records if r.error is None)


def test_one_bad_xml_record_is_an_error_record_and_the_rest_flow():
    record, _ = sample("accepted_org_iso_time")
    head, *parts = xml_batch([record, record, record], "GB18030", "gb18030").split(b"<Record>")
    parts[0] = parts[0].replace(b"<ZL>", b"<ZL><B>x</B>")                    # a nested element
    parts[1] = parts[1].replace(b"<SXH>2</SXH>", b"<SXH>2</SXH><SXH>3</SXH>")  # a repeated field
    records = parse("TDSP_5.xml", b"<Record>".join([head, *parts]))
    assert [r.error for r in records][2] is None
    assert "nested" in records[0].error and "twice" in records[1].error
    assert records[2].data == record
