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


class TransformError(ValueError):
    """A value could not be transformed; the message says why, without the value."""


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
    """Money and areas stay exact: normalised decimal text, never float."""
    if v is None:
        return None
    try:
        d = Decimal(str(v).strip().replace(",", ""))
        if not d.is_finite():
            raise TransformError("not a decimal number (NaN or infinity)")
        # "1E+999999" is a valid Decimal whose plain text is a megabyte of zeros; no amount
        # of money or land comes near 10^40.
        if d and not -_DECIMAL_RANGE <= d.adjusted() <= _DECIMAL_RANGE:
            raise TransformError(f"decimal number out of range (beyond 10^±{_DECIMAL_RANGE})")
        return format(d.normalize(), "f")
    except ArithmeticError:   # InvalidOperation, Overflow (an exponent past the context's limit)
        raise TransformError("not a decimal number") from None


_DECIMAL_RANGE = 40


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
    """Aware datetime; naive legacy times are Asia/Shanghai local time."""
    if v is None or isinstance(v, datetime):
        return _localise(v) if v is not None else None
    if isinstance(v, date):
        return datetime.combine(v, time(), SHANGHAI)
    s = str(v).strip()
    if not s:
        return None
    try:
        parsed = datetime.fromisoformat(s)
    except ValueError:
        m = _COMPACT_TIME.match(s) or _LEGACY_DATE.match(s)
        if not m:
            raise TransformError("not a date or time in a known format") from None
        y, mo, d, h, mi, sec = m.groups()
        whole, _, frac = (sec or "0").partition(".")
        try:
            # Fractions are truncated to microseconds, never rounded into the next second.
            parsed = datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(whole),
                              int((frac + "000000")[:6]))
        except ValueError as exc:
            raise TransformError(f"impossible date: {exc}") from None
    try:
        return _localise(parsed)
    except OverflowError:   # 9999-12-31T23:00-12:00 is in year 10000 in Shanghai
        raise TransformError("impossible date: out of range once shown in Asia/Shanghai") from None


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


TRANSFORMS: dict[str, Callable] = {
    "trim": trim,
    "halfwidth": halfwidth,
    "halfwidth_alnum": halfwidth_alnum,
    "upper": upper,
    "lower": lower,
    "none_if_empty": none_if_empty,
    "int": to_int,
    "decimal": to_decimal_str,
    "float": to_float,
    "str": to_str,
    "datetime": parse_datetime,
    "date": parse_date,
    "project_code": project_code,
}
