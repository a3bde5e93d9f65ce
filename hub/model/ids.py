"""Checks of the identifiers the canonical model carries: resident ID numbers (GB 11643) and
unified social credit codes (GB 32100, hub/model/credit_codes.py holds its tables).

Each failure says which part of the number is wrong (IdError.part), so that a desk can fix
the right digits; no message ever holds the whole number (hub.model.masking.mask_id).
python-stdnum computes the check characters (stdnum.cn.ric, stdnum.cn.uscc) and supplies
the division codes (hub/model/divisions.py); where its rules differ from the standards,
the override is stated where it is made."""
from __future__ import annotations

from datetime import date
from functools import lru_cache

from stdnum.cn import ric, uscc

from . import credit_codes, divisions
from .masking import mask_id

# The parts a resident ID check can name, in the order they are checked.
LENGTH, CHARACTERS, CHECKSUM, BIRTH_DATE, FUTURE_BIRTH_DATE, REGION = (
    "length", "characters", "checksum", "birth date", "future birth date", "region")
# ... and the parts of a credit code (GB 32100 §4: 登记管理部门码, 机构类别码, 区划, 主体标识码, 校验码).
AUTHORITY, CATEGORY = "registration authority", "category"


class IdError(ValueError):
    """A refused identifier; ``part`` names what is wrong, the message is masked."""

    def __init__(self, kind: str, masked: str, part: str, detail: str):
        super().__init__(f"invalid {kind} {masked}: {part}: {detail}")
        self.part = part


def _birth(digits: str) -> date | None:
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return None


# Cached: the same applicant's number is checked on every step of every case, and stdnum's
# cleaning is slow next to the rest of a mapping (measured +23% map-and-serialise rate).
@lru_cache(maxsize=65536)
def resident_id(value: str) -> str:
    """The number, 18 digits (a first-generation 15-digit one converted where it can be);
    IdError naming the part that is wrong otherwise."""
    compact = ric.compact(str(value)).upper()

    def fail(part: str, detail: str):
        raise IdError("resident ID number", mask_id(compact), part, detail)

    if len(compact) == 15:
        return _first_generation(compact, fail)
    if len(compact) != 18:
        fail(LENGTH, f"{len(compact)} characters, not 18 (or 15 for a first-generation number)")
    if not compact[:17].isdigit() or not (compact[17].isdigit() or compact[17] == "X"):
        fail(CHARACTERS, "17 digits and a digit or X are expected")
    # First: a wrong check digit means a mistyped number, whose other parts mean nothing.
    if compact[17] != ric.calc_check_digit(compact):
        fail(CHECKSUM, "the check digit (GB 11643, ISO 7064 MOD 11-2) does not match")
    birth = _birth(compact[6:14])
    if birth is None:
        fail(BIRTH_DATE, "digits 7-14 are not a date")
    _check_birth_and_region(compact[:6], birth, fail)
    return compact


def _first_generation(compact: str, fail) -> str:
    """A 15-digit number (GB 11643-1989: region, YYMMDD, 3-digit order, no check digit).

    Converted to 18 digits as GB 11643-1999 upgraded them: the century 19 inserted and the
    check digit appended. Not converted when the order code is 996-999: those were kept for
    people over a hundred, born in the 1800s (~: widely stated, e.g. zh.wikipedia's
    公民身份号码 article; not seen in the standard's text), so the century is unknown and the
    number is kept as it came. (1800 and 1900 are both common years, so the date check is
    the same for either century.)"""
    if not compact.isdigit():
        fail(CHARACTERS, "a first-generation number has 15 digits")
    centenarian = compact[12:15] >= "996"
    birth = _birth(("18" if centenarian else "19") + compact[6:12])
    if birth is None:
        fail(BIRTH_DATE, "digits 7-12 are not a date")
    _check_birth_and_region(compact[:6], birth, fail)
    if centenarian:
        return compact
    first17 = compact[:6] + "19" + compact[6:]
    return first17 + ric.calc_check_digit(first17 + "0")


def _check_birth_and_region(region: str, birth: date, fail) -> None:
    if birth > date.today():
        fail(FUTURE_BIRTH_DATE, "the birth date is after today")
    if not divisions.known(region):
        fail(REGION, "digits 1-6 are not a GB/T 2260 division code")
    # Not stdnum's get_birth_place(), which wants the code in force in the birth year: a
    # number is given where its holder lives when it is issued (divisions.in_force_in_or_after).
    if not divisions.in_force_in_or_after(region, birth.year):
        fail(REGION, f"the division code was abolished before the holder's birth year {birth.year}")


@lru_cache(maxsize=65536)
def credit_code(value: str) -> str:
    """GB 32100 with every registration authority and category of its table.

    Override of stdnum.cn.uscc.validate(): it wants the first 8 characters to be digits,
    so it refuses the authorities A (军队) and N (农业, village collective economic
    organisations) and Y (其他) that the standard's table has; we check the first two
    characters against the table instead and use stdnum's alphabet and check character."""
    compact = uscc.compact(str(value)).upper()

    def fail(part: str, detail: str):
        raise IdError("unified social credit code", mask_id(compact), part, detail)

    if len(compact) != 18:
        fail(LENGTH, f"{len(compact)} characters, not 18")
    if any(c not in credit_codes.ALPHABET for c in compact):
        fail(CHARACTERS, "only digits and capital letters other than I, O, S, V and Z are used")
    if compact[-1] != uscc.calc_check_digit(compact):
        fail(CHECKSUM, "the check character (GB 32100, ISO 7064 MOD 31-3) does not match")
    if compact[0] not in credit_codes.AUTHORITIES:
        fail(AUTHORITY, f"{compact[0]!r} is not a registration authority of GB 32100")
    if compact[1] not in credit_codes.CATEGORIES[compact[0]]:
        fail(CATEGORY, f"{compact[1]!r} is not a category of authority {compact[0]} "
                       f"({credit_codes.AUTHORITIES[compact[0]]})")
    if not compact[2:8].isdigit() or not credit_codes.region_plausible(compact[2:8]):
        fail(REGION, "characters 3-8 are not a division code (GB/T 2260)")
    return compact
