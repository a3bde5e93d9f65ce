"""Issue 10, data fidelity: exact numbers, duplicate keys, amounts and times as written, lossy
text, CSV records with line breaks. Named examples and hypothesis generators; each guard is
shown to matter by the naive way failing the same input."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings, strategies as st

from hub.adapter import page_json
from adapters.land.batch import parse
from hub import exactjson
from hub.mapping import lossy
from hub.mapping.amounts import decimal
from hub.mapping.nulls import NoValue
from hub.mapping.transforms import TransformError, parse_datetime
from hub.model.common import SHANGHAI
from hub.model.case import CaseEvent

FAST = settings(max_examples=150, deadline=None)


# --- exact JSON ---------------------------------------------------------------------------------
def test_a_sixteen_digit_amount_keeps_its_last_cent_and_its_scale():
    text = '{"amount": 12345678901234.51, "area": 1234.50}'
    assert json.loads(text)["amount"] != Decimal("12345678901234.51")   # the float the guard avoids
    doc = exactjson.loads(text)
    assert doc == {"amount": Decimal("12345678901234.51"), "area": Decimal("1234.50")}
    assert str(doc["area"]) == "1234.50"


def test_a_duplicate_key_is_refused_naming_key_and_path():
    assert json.loads('{"a": 1, "a": 2}') == {"a": 2}                      # silently, the last wins
    with pytest.raises(exactjson.DuplicateKey) as info:
        exactjson.loads('{"items": [{"x": 1}, {"r": {"regcap": 1, "regcap": 2}}]}')
    assert info.value.key == "regcap" and info.value.path == "items.1.r"


def test_a_page_refuses_only_the_record_with_a_duplicate_key():
    page = b'{"items": [{"eventId": 1}, {"eventId": 2, "opinion": "a", "opinion": "b"}, {"eventId": 3}]}'
    body, _, refused = page_json(page, "application/json")
    assert len(body["items"]) == 3 and list(refused) == [1] and "'opinion'" in refused[1]
    with pytest.raises(ValueError, match="duplicate key 'hasMore'"):
        page_json(b'{"items": [], "hasMore": true, "hasMore": false}', "application/json")


def test_nan_is_not_json():
    with pytest.raises(ValueError, match="NaN"):
        exactjson.loads('{"a": NaN}')


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.decimals(allow_nan=False, allow_infinity=False, places=4)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12)


@FAST
@given(_json_values)
def test_dumps_then_decode_gives_the_same_values_digits_and_scale(value):
    back = exactjson.loads(exactjson.dumps(value))
    assert back == value
    assert exactjson.dumps(back) == exactjson.dumps(value)                # same text: same scale


def test_a_decimal_keeps_its_scale_through_the_model_and_the_envelope_json():
    event = CaseEvent.model_validate({
        "case_no": "C1", "sequence": 1, "type": "accepted", "department": "commerce",
        "occurred_at": datetime(2026, 3, 5, 8, tzinfo=SHANGHAI), "attributes": {"raw": Decimal("1234.50")}})
    assert '"raw":"1234.50"' in event.model_dump_json()


# --- amounts -------------------------------------------------------------------------------------
@pytest.mark.parametrize("unit, written, expected", [
    ("万元", "12.5万元", "12.5"), ("万元", "3亿元", "30000"), ("万元", "￥1,234.00", "0.123400"),
    ("万元", "¥1,234.00", "0.123400"), ("元", "１２．５万", "125000"), ("元", "１，２３４．００元", "1234.00"),
    ("万元", "1234.50", "1234.50"), ("万元", Decimal("1234.50"), "1234.50"), ("元", "人民币1,000元", "1000"),
    ("m2", "1.2万平方米", "12000"), (None, "1,234.50", "1234.50"), (None, "１２３４．５０", "1234.50"),
])
def test_amounts_as_written(unit, written, expected):
    assert decimal(unit)(written) == expected


@pytest.mark.parametrize("unit, written, why", [
    (None, "12.5万元", "carries a unit"), ("万元", "12亩", "another kind"), (None, "1,5", "separators"),
    (None, "abc", "not a decimal"), ("万元", "12美元", "not a decimal"),
])
def test_amounts_refused_with_the_reason(unit, written, why):
    with pytest.raises(TransformError, match=why):
        decimal(unit)(written)


@FAST
@given(st.decimals(min_value=-10**12, max_value=10**12, places=2, allow_nan=False), st.booleans(), st.booleans())
def test_any_amount_written_in_yuan_converts_exactly_to_wan_yuan(d, grouped, fullwidth):
    text = f"{d:,.2f}" if grouped else f"{d:.2f}"
    if fullwidth:
        text = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() or c in ",." else c for c in text)
    got = decimal("万元")(f"{text}元")
    assert Decimal(got) * 10000 == d and got == format(Decimal(f"{d:.2f}").scaleb(-4), "f")


# --- times ---------------------------------------------------------------------------------------
EIGHT = datetime(2026, 3, 5, 8, tzinfo=SHANGHAI)


@pytest.mark.parametrize("written", [
    1772668800, 1772668800000, "1772668800", "1772668800000", "/Date(1772668800000)/",
    "/Date(1772668800000+0800)/", "Thu Mar 05 08:00:00 CST 2026", "Thu Mar 05 08:00:00 GMT+08:00 2026",
    "Thu Mar 05 2026 08:00:00 GMT+0800 (中国标准时间)", "2026-03-05 08:00:00 CST", "2026-03-05 08:00:00 GMT+8",
    "2026-03-05 00:00:00 UTC",
])
def test_times_as_other_programs_print_them(written):
    assert parse_datetime(written) == EIGHT


@pytest.mark.parametrize("written", ["0000-00-00", "0000-00-00 00:00:00", "00000000", "0001-01-01 00:00:00",
                                     "/Date(-62135596800000)/", "1900-01-01", "1899-12-30", "NULL", "(null)",
                                     "\\N", 0, "/Date(0)/", "1970-01-01 08:00:00"])
def test_zero_dates_and_null_markers_are_no_value_with_their_name(written):
    with pytest.raises(NoValue):
        parse_datetime(written)


def test_a_weekday_that_does_not_match_is_refused():
    with pytest.raises(TransformError, match="weekday"):
        parse_datetime("Fri Mar 05 08:00:00 CST 2026")


@FAST
@given(st.datetimes(min_value=datetime(2001, 9, 10), max_value=datetime(2286, 11, 19)))
def test_epoch_ms_dotnet_and_java_forms_agree_with_the_instant(naive):
    instant = naive.replace(microsecond=naive.microsecond // 1000 * 1000, tzinfo=timezone.utc)
    ms = (instant - datetime(1970, 1, 1, tzinfo=timezone.utc)) // timedelta(milliseconds=1)
    assert parse_datetime(ms) == instant == parse_datetime(f"/Date({ms}+0800)/")
    local = instant.astimezone(SHANGHAI).replace(microsecond=0)
    java = local.strftime("%a %b %d %H:%M:%S CST %Y")
    assert parse_datetime(java) == local


# --- lossy text ----------------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["刘?", "?明", "刘\ufffd", "???", "经审查\ufffd符合"])
def test_lossy_text_is_seen(text):
    assert lossy.lost(text)


@pytest.mark.parametrize("text", ["刘䶮", "陈𠮷祥", "是否同意？", "ABC?", "Company (HK) Ltd."])
def test_clean_text_is_not_lossy(text):
    assert lossy.lost(text) is None


@FAST
@given(st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), min_size=2, max_size=6))
def test_a_name_through_a_lossy_gbk_conversion_is_always_refused(name):
    spoiled = name.encode("ascii", "replace").decode("ascii")   # what errors="replace" leaves
    assert lossy.lost(name) is None and lossy.lost(spoiled)


def test_a_lossy_name_is_refused_at_stage_decode_naming_the_field(tmp_path):
    from hub.mapping import MappingSet, RecordError
    from pathlib import Path
    root = Path(__file__).resolve().parents[2] / "mappings"
    record = json.loads((root / "land/samples/decided_person_gbk_outside_name.input.json").read_text("utf-8"))
    record["QLRMC"] = "刘?"
    with pytest.raises(RecordError) as info:
        MappingSet.load(root).apply("land-approval", record)
    assert info.value.stage == "decode" and info.value.problems[0]["field"] == "QLRMC"


# --- CSV -----------------------------------------------------------------------------------------
HEADER = "SHXXID,JLLX,SHYJ"


def test_a_quoted_line_break_is_one_record_not_two_dead_letters():
    data = f'{HEADER}\r\n1,BL,"第一段\r\n第二段"\r\n2,BL,好\r\n'.encode("gb18030")
    records = parse("T.csv", data)
    assert [r.error for r in records] == [None, None]
    assert records[0].data["SHYJ"] == "第一段\n第二段"


def test_bom_crlf_and_nul_padding():
    data = b"\xef\xbb\xbf" + f"{HEADER}\r\n1,BL,好\r\n".encode("utf-8") + b"\x00" * 64
    [record] = parse("T.csv", data)
    assert record.error is None and record.data == {"SHXXID": "1", "JLLX": "BL", "SHYJ": "好"}


def test_an_unparseable_line_is_the_only_dead_letter():
    data = f'{HEADER}\r\n1,BL,"a"b\r\n2,BL,好\r\n3,BL,"open\r\n4,BL,好\r\n'.encode("gb18030")
    records = parse("T.csv", data)
    assert [r.error is None for r in records] == [False, True, False, True]


@FAST
@given(st.lists(st.tuples(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=4)
                                   | st.sampled_from(["\r\n", "\n", ",", '"']), max_size=6).map("".join)),
                min_size=1, max_size=5))
def test_any_field_text_round_trips_through_a_written_csv(rows):
    import csv
    import io
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(["SHXXID", "SHYJ"])
    for i, (text,) in enumerate(rows):
        writer.writerow([str(i), text])
    records = parse("T.csv", buf.getvalue().encode("gb18030"))
    assert [r.error for r in records] == [None] * len(rows)
    assert [r.data["SHYJ"] for r in records] == [t.replace("\r\n", "\n") for (t,) in rows]
