"""Time stamps as other programs print them, for the datetime transform (transforms.py).

Each form is told by its shape alone, never guessed from its digits' values:
  epoch:   10 digits are Unix seconds, 13 digits milliseconds (a JSON number or text; seconds
           may carry a fraction). 8 and 14 digits stay yyyyMMdd / yyyyMMddHHmmss.
  .NET:    /Date(1772668800000)/ and /Date(1772668800000+0800)/ (DataContractJsonSerializer):
           milliseconds since the epoch in UTC; the offset only says where the writer was.
  Java:    Thu Mar 05 08:00:00 CST 2026 (Date.toString()), GMT+08:00 in place of CST.
  JS:      Thu Mar 05 2026 08:00:00 GMT+0800 (中国标准时间) (Date.prototype.toString()).
  a zone after any other form: "2026-03-05 08:00:00 CST", "... GMT+8", "... UTC+08:00".
CST here is China Standard Time, UTC+8: these are Chinese systems (Java prints CST for
Asia/Shanghai). The US zone of that name would be written by no system the hub reads.
A weekday that does not match its date is refused: the text was altered or built by hand.

Zero dates, what a system writes for "no date", are no value (nulls.NoValue): a date of
zeros (0000-00-00, 00000000), 0001-01-01 (.NET and Java's minimum), 1900-01-01 00:00 (SQL
Server's empty datetime), 1899-12-30 and 1899-12-31 00:00 (OLE / Delphi / Excel day zero),
and the instant of epoch 0 (0, /Date(0)/, 1970-01-01 08:00:00 in Shanghai) or 1970-01-01 00:00
local. No case or certificate of an e-government system is dated on any of them."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from .errors import TransformError
from .nulls import NoValue

CHINA = timezone(timedelta(hours=8), "CST")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = {m: i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
                                       "Nov", "Dec"), 1)}
_ZONE = r"(CST|UTC|GMT|(?:GMT|UTC)\s*[+-]\d{1,2}(?::?\d{2})?)"
_DOTNET = re.compile(r"\\?/Date\((-?\d{1,15})([+-]\d{4})?\)\\?/")
_JAVA = re.compile(r"(\w{3}) (\w{3}) (\d{1,2}) (\d{2}):(\d{2}):(\d{2}) " + _ZONE + r" (\d{4})")
_JS = re.compile(r"(\w{3}) (\w{3}) (\d{1,2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) (?:GMT|UTC)([+-]\d{4})(?: \([^)]*\))?")
_TRAILING_ZONE = re.compile(r"^(.*\d)\s*" + _ZONE + r"$")
_ZEROS = re.compile(r"[0\s\-/.:年月日时分秒T]+")
_ZERO_DAYS = {(1, 1, 1), (1900, 1, 1), (1899, 12, 30), (1899, 12, 31), (1970, 1, 1)}


def zone(text: str) -> timezone:
    t = text.replace(" ", "").upper()
    if t in ("CST",):
        return CHINA
    if t in ("UTC", "GMT"):
        return timezone.utc
    sign, digits = t[3], t[4:].replace(":", "")
    hours, minutes = (int(digits), 0) if len(digits) <= 2 else (int(digits[:-2]), int(digits[-2:]))
    if hours > 14 or minutes >= 60:
        raise TransformError("not a time zone offset (beyond ±14:00)")
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(delta if sign == "+" else -delta)


def from_epoch(v) -> datetime | None:
    """A JSON number or digit text of 10 (seconds) or 13 (milliseconds) digits, else None."""
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, Decimal, float)):
        d = Decimal(repr(v)) if isinstance(v, float) else Decimal(v)
        if not d.is_finite() or d < 0:
            return None
        digits = len(str(int(d)))
        if d == 0:
            raise NoValue("epoch 0, which the system writes for no time")
        if digits == 10:
            return _at_ms(d * 1000)
        if digits == 13 and d == int(d):
            return _at_ms(d)
        return None
    if isinstance(v, str) and v.isdigit() and v.isascii() and len(v) in (10, 13):
        return _at_ms(Decimal(v) * (1000 if len(v) == 10 else 1))
    return None


def _at_ms(ms: Decimal) -> datetime:
    if ms == 0:
        raise NoValue("epoch 0, which the system writes for no time")
    try:
        return _EPOCH + timedelta(milliseconds=float(ms)) if ms != int(ms) else \
            _EPOCH + timedelta(milliseconds=int(ms))
    except OverflowError:
        raise TransformError("impossible date: beyond the years 1-9999") from None


def _named(day: str, month: str, d: str, y: str, hh: str, mm: str, ss: str, tz: timezone) -> datetime:
    if month not in _MONTHS or day not in _DAYS:
        raise TransformError("not a date or time in a known format (weekday or month name)")
    try:
        dt = datetime(int(y), _MONTHS[month], int(d), int(hh), int(mm), int(ss), tzinfo=tz)
    except ValueError as exc:
        raise TransformError(f"impossible date: {exc}") from None
    if _DAYS[dt.weekday()] != day:
        raise TransformError(f"the weekday {day} does not match the date")
    return dt


def legacy_time(s: str) -> datetime | None:
    """The time a legacy form stands for (aware), or None when s is in none of them."""
    if (m := _DOTNET.fullmatch(s)) is not None:
        ms = int(m.group(1))
        if ms == -62135596800000:
            raise NoValue("the .NET zero date /Date(-62135596800000)/ (0001-01-01), which the system writes "
                          "for no time")
        return _at_ms(Decimal(ms))
    if (m := _JAVA.fullmatch(s)) is not None:
        day, month, d, hh, mm, ss, tz, y = m.groups()
        return _named(day, month, d, y, hh, mm, ss, zone(tz))
    if (m := _JS.fullmatch(s)) is not None:
        day, month, d, y, hh, mm, ss, offset = m.groups()
        return _named(day, month, d, y, hh, mm, ss, zone("GMT" + offset))
    return from_epoch(s)


def split_zone(s: str) -> tuple[str, timezone | None]:
    """("2026-03-05 08:00:00", CST) of "2026-03-05 08:00:00 CST"; (s, None) without a zone."""
    m = _TRAILING_ZONE.match(s)
    return (m.group(1), zone(m.group(2))) if m else (s, None)


def zero_date(s: str) -> None:
    """Raise NoValue for a date made of zeros ("0000-00-00 00:00:00", "00000000")."""
    if _ZEROS.fullmatch(s) and "0" in s:
        raise NoValue(f"the zero date {s!r}, which the system writes for no date")


def check_zero(dt: datetime) -> datetime:
    """Raise NoValue for a parsed time that is a known zero date (module docstring)."""
    if (dt.year, dt.month, dt.day) in _ZERO_DAYS and (dt.hour, dt.minute, dt.second, dt.microsecond) == (0, 0, 0, 0):
        raise NoValue(f"the zero date {dt.date().isoformat()}, which the system writes for no date")
    if (dt if dt.tzinfo is not None else dt.replace(tzinfo=CHINA)) == _EPOCH:   # naive is Shanghai time
        raise NoValue("epoch 0 (1970-01-01T00:00Z), which the system writes for no time")
    return dt
