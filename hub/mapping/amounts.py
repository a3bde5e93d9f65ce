"""The decimal transform: money and areas as written by people and legacy systems, exact.

Accepted, after full-width folding (１２．５ is 12.5, ，is a comma):
  a number: 1234.50, -3, 1,234,567.89 (commas only in groups of three: "1,5" is refused,
            it may be a European 1.5), 1E+3; a JSON number read as Decimal (hub.exactjson);
  a currency mark before it: ¥, ￥, 人民币 (money in 元);
  a unit after it: a multiplier 千, 万, 百万, 亿 and/or a base unit 元, 平方米 (㎡, m2), 公顷, 亩:
            12.5万元, 3亿元, 1.2万平方米, 12.5万 (a bare multiplier counts in the field's base
            unit: 12.5万 in a money field is 125,000 元);
  a NULL marker ("NULL", "\\N", ...: no value, see nulls.py).

The target unit is explicit per field ({decimal: {unit: 万元}}): a value written in another
unit of the same kind is converted by moving the decimal point (exact, digits and scale
kept: 1,234.00元 in 万元 is 0.123400), one of another kind (亩 in a 万元 field) is refused,
and a bare number is taken to be in `bare` (default: the target unit itself). Without a
unit the field takes plain numbers only, and a value carrying a unit is refused, naming it:
a unit is never dropped silently. Units of different kinds are never converted (亩 to m2
is 10000/15, not exact).

The result is decimal text with the scale as written ("1234.50" stays "1234.50"): the
canonical model carries money as text, never as float."""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Callable

from .errors import TransformError
from .nulls import check_null

# base unit -> its kind; synonyms share one kind and one power of ten
_BASE = {"元": "money", "圆": "money", "平方米": "area_m2", "㎡": "area_m2", "m2": "area_m2", "m²": "area_m2",
         "公顷": "area_ha", "亩": "area_mu"}
_MULTIPLIER = {"": 0, "千": 3, "万": 4, "百万": 6, "亿": 8}
_CURRENCY = ("人民币", "¥", "￥")
_FOLD = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}
_FOLD.update({0x3000: 0x20, 0xFFE0: None})
_NUMBER = re.compile(r"([+-]?)(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?([eE][+-]?\d+)?")
_UNIT = re.compile(r"(百万|千|万|亿)?(元|圆|平方米|㎡|m2|m²|公顷|亩)?")
# "1E+999999" is a valid Decimal whose plain text is a megabyte of zeros; no amount of money
# or land comes near 10^40.
RANGE = 40


def parse_unit(unit: str) -> tuple[str | None, int]:
    """(kind, power of ten) of a unit name as a mapping file writes it ("万元", "m2")."""
    m = _UNIT.fullmatch(unit)
    if not unit or not m or not m.group(2):
        raise ValueError(f"unknown unit {unit!r} (a base unit {', '.join(_BASE)}, with 千/万/百万/亿 before it)")
    return _BASE[m.group(2)], _MULTIPLIER[m.group(1) or ""]


def _read(v) -> tuple[Decimal, str | None, int, bool]:
    """(the number, the kind of unit written or None, its power of ten, was a multiplier written)."""
    if isinstance(v, bool):
        raise TransformError("not a decimal number (a true/false value)")
    if isinstance(v, Decimal):
        return v, None, 0, False
    if isinstance(v, int):
        return Decimal(v), None, 0, False
    if isinstance(v, float):
        return Decimal(repr(v)), None, 0, False   # the shortest text of the float, not its binary expansion
    s = str(v).translate(_FOLD).strip()
    check_null(s)
    kind = None
    for mark in _CURRENCY:
        if s.startswith(mark) or s[1:].startswith(mark) and s[:1] in "+-":
            s = s.replace(mark, "", 1).strip()
            kind = "money"
            break
    m = _NUMBER.match(s)
    if not m:
        raise TransformError("not a decimal number")
    sign, whole, frac, exp = m.groups()
    rest = s[m.end():].strip()
    if "," in whole and exp:
        raise TransformError("not a decimal number (thousands separators with an exponent)")
    if rest.startswith(","):
        raise TransformError("thousands separators misplaced (they stand every three digits: 1,234,567.89)")
    u = _UNIT.fullmatch(rest)
    if not u:
        raise TransformError("not a decimal number (unknown text after the number)")
    mult, base = u.groups()
    if base is not None:
        if kind is not None and _BASE[base] != kind:
            raise TransformError(f"a currency mark and the unit {base} do not go together")
        kind = _BASE[base]
    try:
        d = Decimal(f"{sign}{whole.replace(',', '')}{frac or ''}{exp or ''}")
    except InvalidOperation:
        raise TransformError("not a decimal number") from None
    return d, kind, _MULTIPLIER[mult or ""], bool(mult) or base is not None or kind is not None


def _finish(d: Decimal) -> str:
    if not d.is_finite():
        raise TransformError("not a decimal number (NaN or infinity)")
    if d and not -RANGE <= d.adjusted() <= RANGE:
        raise TransformError(f"decimal number out of range (beyond 10^±{RANGE})")
    return format(d, "f")


def decimal(unit: str | None = None, bare: str | None = None) -> Callable:
    """The transform for one field: unit is the field's target unit (None: plain numbers only),
    bare the unit of a number written without one (default: the target unit)."""
    if unit is None and bare is not None:
        raise ValueError("decimal: 'bare' needs a target 'unit'")
    target = parse_unit(unit) if unit is not None else None
    plain = parse_unit(bare) if bare is not None else target
    if target and plain and plain[0] != target[0]:
        raise ValueError(f"decimal: bare unit {bare!r} is not of the same kind as the unit {unit!r}")

    def to_decimal(v):
        if v is None:
            return None
        try:
            d, kind, power, marked = _read(v)
        except ArithmeticError:   # InvalidOperation, Overflow (an exponent past the context's limit)
            raise TransformError("not a decimal number") from None
        if target is None:
            if marked:
                raise TransformError("carries a unit or currency mark, but the field takes a plain number "
                                     "(give it a target unit: decimal: {unit: ...})")
            return _finish(d)
        if kind is None and not power:            # a bare number: in the field's bare unit
            kind, power = plain
        elif kind is None:                        # 12.5万: a multiplier on the base unit
            kind = target[0]
        if kind != target[0]:
            raise TransformError(f"is in a unit of another kind ({kind.replace('_', ' ')}) than the field's "
                                 f"{unit}")
        try:
            return _finish(d.scaleb(power - target[1]))
        except ArithmeticError:
            raise TransformError("decimal number out of range") from None
    return to_decimal
