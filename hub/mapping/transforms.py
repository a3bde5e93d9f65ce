"""Value transforms a mapping file may name. Each is a plain function of one value.

Dates avoid strptime on the hot path: fromisoformat covers the common
"2026-03-05 08:00:00" shape, and one regex covers the legacy ones
("2026/3/5 8:00", "2026年3月5日")."""
from __future__ import annotations

import math
import re
from datetime import date, datetime, time
from decimal import Decimal
from typing import Callable

from hub.model.common import SHANGHAI

from .amounts import decimal
from .errors import TransformError
from .legacy_times import check_zero, from_epoch, legacy_time, split_zone, zero_date
from .nulls import check_null, null_marker

# Full-width ASCII block (！ to ～) maps to ASCII by a fixed offset; the ideographic space to a space.
_FULLWIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}
_FULLWIDTH[0x3000] = 0x20

# yyyyMMddHHmmss, the stamp many government systems print (fromisoformat wants a "T" in it)
_COMPACT_TIME = re.compile(r"^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$")
# 投资项目统一代码 (GB/T 40058): yyyy-区划6-部门2-类型2-随机5+校验1, 24 characters
_PROJECT_CODE = re.compile(r"^\d{4}-\d{6}-\d{2}-\d{2}-\d{6}$")
_LEGACY_DATE = re.compile(
    r"^\s*(\d{4})\s*[年/.\-]\s*(\d{1,2})\s*[月/.\-]\s*(\d{1,2})\s*日?"
    r"(?:[\sT]*(\d{1,2})\s*[:时点]\s*(\d{1,2})\s*分?(?:\s*:?\s*(\d{1,2}(?:\.\d+)?)\s*秒?)?)?\s*$"
)




def trim(v):
    return v.strip() if isinstance(v, str) else v


def halfwidth(v):
    return v.translate(_FULLWIDTH) if isinstance(v, str) else v


_FULLWIDTH_ALNUM = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F) if chr(c - 0xFEE0).isalnum()}
_FULLWIDTH_ALNUM[0x3000] = 0x20


def halfwidth_alnum(v):
    """Only letters, digits and the ideographic space: a registered name keeps its （）."""
    return v.translate(_FULLWIDTH_ALNUM) if isinstance(v, str) else v


def upper(v):
    return v.upper() if isinstance(v, str) else v


def lower(v):
    return v.lower() if isinstance(v, str) else v


def none_if_empty(v):
    return None if v is None or (isinstance(v, str) and v.strip() == "") else v


def to_int(v):
    if isinstance(v, bool):   # JSON true/false is not a step number, though Python counts it an int
        raise TransformError("not a whole number (a true/false value)")
    if v is None or isinstance(v, int):
        return v
    try:
        return int(str(v).strip())
    except ValueError:
        raise TransformError("not a whole number") from None


def to_decimal_str(v):
    """Money and areas stay exact: decimal text with the scale as written, never float; a
    plain number only (amounts.py for units)."""
    return _PLAIN_DECIMAL(v)


_PLAIN_DECIMAL = decimal()


def to_float(v):
    if v is None:
        return None
    try:
        f = float(str(v).strip().replace(",", ""))
    except ValueError:
        raise TransformError("not a number") from None
    if not math.isfinite(f):
        raise TransformError("not a number (NaN or infinity)")
    return f


def to_str(v):
    return None if v is None else str(v)


def parse_datetime(v) -> datetime | None:
    """Aware datetime; naive legacy times are Asia/Shanghai local time. Epoch numbers, .NET,
    Java and JavaScript forms, zones written after the time, zero dates and NULL markers:
    legacy_times.py."""
    if v is None or isinstance(v, datetime):
        return _localise(check_zero(v)) if v is not None else None
    if isinstance(v, date):
        return datetime.combine(check_zero(datetime.combine(v, time())), time(), SHANGHAI)
    if not isinstance(v, str):
        parsed = from_epoch(v)   # a JSON number: Unix seconds or milliseconds, or digits as text
        if parsed is not None:
            return _localise(check_zero(parsed))
        if isinstance(v, bool):
            raise TransformError("not a date or time (a true/false value)")
    s = str(v).strip()
    if not s:
        return None
    check_null(s)
    zero_date(s)
    parsed = legacy_time(s)
    if parsed is None:
        s, tz = split_zone(s)
        parsed = _parse_text(s)
        if tz is not None:
            if parsed.tzinfo is not None:
                raise TransformError("two time zones in one time")
            parsed = parsed.replace(tzinfo=tz)
    try:
        return _localise(check_zero(parsed))
    except OverflowError:   # 9999-12-31T23:00-12:00 is in year 10000 in Shanghai
        raise TransformError("impossible date: out of range once shown in Asia/Shanghai") from None


def _parse_text(s: str) -> datetime:
    try:
        return datetime.fromisoformat(s)
    except ValueError:
        m = _COMPACT_TIME.match(s) or _LEGACY_DATE.match(s)
        if not m:
            raise TransformError("not a date or time in a known format") from None
        y, mo, d, h, mi, sec = m.groups()
        whole, _, frac = (sec or "0").partition(".")
        try:
            # Fractions are truncated to microseconds, never rounded into the next second.
            return datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(whole),
                            int((frac + "000000")[:6]))
        except ValueError as exc:
            raise TransformError(f"impossible date: {exc}") from None


def parse_date(v) -> datetime | None:
    """A calendar date as an aware datetime at local midnight (keeps one time type)."""
    dt = parse_datetime(v)
    return None if dt is None else dt.replace(hour=0, minute=0, second=0, microsecond=0)


def _localise(dt: datetime) -> datetime:
    # Naive is local time; an aware time from another zone is the same instant shown in
    # Shanghai, so two systems that disagree only on the zone compare equal.
    return dt.replace(tzinfo=SHANGHAI) if dt.tzinfo is None else dt.astimezone(SHANGHAI)


def project_code(v):
    """An investment project code, checked for its shape only: the rule of its check
    character is not public."""
    if v is None:
        return None
    if not _PROJECT_CODE.match(str(v)):
        raise TransformError("not an investment project code (yyyy-xxxxxx-xx-xx-xxxxxx, 24 characters)")
    return str(v)


# Transforms that take parameters in a mapping file ({decimal: {unit: 万元}}): name -> factory.
# Named bare, they are built with no parameters (TRANSFORMS holds that form).
FACTORIES: dict[str, Callable[..., Callable]] = {
    "decimal": decimal,
}

TRANSFORMS: dict[str, Callable] = {
    "trim": trim,
    "halfwidth": halfwidth,
    "halfwidth_alnum": halfwidth_alnum,
    "upper": upper,
    "lower": lower,
    "none_if_empty": none_if_empty,
    "int": to_int,
    "decimal": to_decimal_str,
    "null_marker": null_marker,
    "float": to_float,
    "str": to_str,
    "datetime": parse_datetime,
    "date": parse_date,
    "project_code": project_code,
}
