"""Value transforms a mapping may name: dates in Asia/Shanghai, full-width text, exact decimals."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from hub.mapping.transforms import (TRANSFORMS, TransformError, halfwidth, none_if_empty, parse_date,
                                    parse_datetime, to_decimal_str, to_float, to_int, trim)
from hub.model import SHANGHAI

EIGHT_HOURS = timedelta(hours=8)


def shanghai(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.mark.parametrize("text, expected", [
    ("2026-03-05 08:00:00", shanghai(2026, 3, 5, 8, 0, 0)),            # the common format
    ("2026-03-05 17:42:09", shanghai(2026, 3, 5, 17, 42, 9)),
    ("2026/3/5 8:00", shanghai(2026, 3, 5, 8, 0)),                       # slashes, no leading zeros
    ("2026/12/31 23:59", shanghai(2026, 12, 31, 23, 59)),
    ("2026年3月5日 08:00", shanghai(2026, 3, 5, 8, 0)),                  # Chinese date
    ("2026年3月5日 8时5分3秒", shanghai(2026, 3, 5, 8, 5, 3)),
    ("2026-03-05", shanghai(2026, 3, 5)),                                # date only: local midnight
    ("2026年3月5日", shanghai(2026, 3, 5)),
    ("2026/3/5", shanghai(2026, 3, 5)),
    ("2026-03-05T08:00:00.123456", shanghai(2026, 3, 5, 8, 0, 0, 123456)),
    ("2026/3/5 8:00:05.25", shanghai(2026, 3, 5, 8, 0, 5, 250000)),
    ("  2026-03-05 08:00:00\u3000", shanghai(2026, 3, 5, 8, 0, 0)),     # padded
    ("2024-02-29 12:00:00", shanghai(2024, 2, 29, 12, 0)),               # a real leap day
])
def test_each_date_format_becomes_an_aware_shanghai_time(text, expected):
    got = parse_datetime(text)
    assert got == expected
    assert got.utcoffset() == EIGHT_HOURS


def test_a_legacy_local_time_is_shanghai_time_not_utc():
    assert parse_datetime("2026-03-05 08:00:00").astimezone(timezone.utc) == datetime(2026, 3, 5, 0, 0, tzinfo=timezone.utc)


def test_an_aware_time_keeps_its_instant():
    assert parse_datetime("2026-03-05T00:00:00+00:00") == shanghai(2026, 3, 5, 8, 0)
    assert parse_datetime(datetime(2026, 3, 5, 8, 0)) == shanghai(2026, 3, 5, 8, 0)


@pytest.mark.parametrize("text", [
    "2026-02-30", "2026-02-29 08:00:00", "2026/2/30 8:00", "2026年2月30日", "2026年13月1日",
    "2026-04-31 09:00:00", "2026/3/5 24:00", "2026/3/5 8:60", "2026-00-10",
])
def test_impossible_dates_are_refused_without_echoing_the_value(text):
    with pytest.raises(TransformError) as info:
        parse_datetime(text)
    assert "impossible date" in str(info.value) or "known format" in str(info.value)
    assert text not in str(info.value)


@pytest.mark.parametrize("text", ["05/03/2026", "3月5日", "明天上午", "2026-03", "177266880", "长期"])
def test_unknown_formats_are_refused(text):
    with pytest.raises(TransformError, match="not a date or time in a known format"):
        parse_datetime(text)


@pytest.mark.parametrize("value", [None, "", "   "])
def test_empty_dates_are_none(value):
    assert parse_datetime(value) is None
    assert parse_date(value) is None


def test_seven_fraction_digits_near_a_full_second_parse():
    # BUG hub/mapping/transforms.py parse_datetime(): microseconds are round()ed from the float
    # fraction, so .9999995 and above give 1_000_000 and datetime() raises, which is then
    # reported as "impossible date" for a perfectly valid time (SQL Server datetime2 prints 7 digits).
    got = parse_datetime("2026/3/5 8:00:59.9999999")
    assert abs(got - shanghai(2026, 3, 5, 8, 1, 0)) <= timedelta(microseconds=1)


def test_parse_date_is_local_midnight():
    assert parse_date("2026/3/5 17:45") == shanghai(2026, 3, 5)
    assert parse_date("2056-03-08") == shanghai(2056, 3, 8)
    assert parse_date(date(2026, 3, 5)) == shanghai(2026, 3, 5)
    assert parse_date("2026年3月18日").utcoffset() == EIGHT_HOURS


# --- text --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("９１３３０１０６ＭＡ２ＫＱ８Ｒ３９１", "91330106MA2KQ8R391"),
    ("ＳＣＪＧ２０２６００３１２０４５", "SCJG202600312045"),
    ("ｓｃｊｇ", "scjg"),
    ("杭州ＡＩ智能科技有限公司", "杭州AI智能科技有限公司"),
    ("０５７１－８７０１２３４５", "0571-87012345"),
    ("a\u3000b", "a b"),                                      # the ideographic space
    ("杭州市西湖区市场监督管理局", "杭州市西湖区市场监督管理局"),  # CJK untouched
    ("already ASCII 123", "already ASCII 123"),
])
def test_full_width_to_half_width(text, expected):
    assert halfwidth(text) == expected


@pytest.mark.parametrize("value", [None, 3, 2.5])
def test_text_transforms_pass_non_strings_through(value):
    assert halfwidth(value) == value
    assert trim(value) == value


def test_trim_removes_ascii_and_ideographic_spaces():
    assert trim(" \u3000杭州瑞博网络科技有限公司\u3000 \t") == "杭州瑞博网络科技有限公司"
    assert trim("王 建平") == "王 建平"


@pytest.mark.parametrize("value, expected", [("", None), ("  ", None), ("\u3000", None), (None, None),
                                             ("准予", "准予"), (0, 0)])
def test_none_if_empty(value, expected):
    assert none_if_empty(value) == expected


# --- numbers -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    # the scale as written is kept (issue 10): 1234.50 is not 1234.5
    ("10.000000", "10.000000"), ("100.000000", "100.000000"), ("0.500000", "0.500000"), ("12.5", "12.5"),
    ("1,234.50", "1234.50"), (" 5000 ", "5000"), ("0.000", "0.000"), ("1E+3", "1000"), (200, "200"),
    ("12345678901234567.89", "12345678901234567.89"),         # exact, no float rounding
    ("0.1", "0.1"),
])
def test_decimal_is_exact_text_with_its_scale(value, expected):
    got = to_decimal_str(value)
    assert got == expected and isinstance(got, str)


@pytest.mark.parametrize("value", ["十万", "12.3.4", "", "abc"])
def test_decimal_refuses_non_numbers(value):
    with pytest.raises(TransformError, match="not a decimal number"):
        to_decimal_str(value)


def test_decimal_of_none_is_none():
    assert to_decimal_str(None) is None


def test_int_and_float():
    assert to_int("3") == 3 and to_int(" 2 ") == 2 and to_int(1) == 1 and to_int(None) is None
    assert to_float("1,234.5") == 1234.5
    with pytest.raises(TransformError, match="not a whole number"):
        to_int("3.5")
    with pytest.raises(TransformError, match="not a number"):
        to_float("abc")


def test_every_transform_the_mappings_name_is_registered():
    assert set(TRANSFORMS) >= {"trim", "halfwidth", "upper", "lower", "none_if_empty", "int", "decimal",
                               "float", "str", "datetime", "date"}
    assert TRANSFORMS["upper"]("ma2kq") == "MA2KQ" and TRANSFORMS["str"](3) == "3"
