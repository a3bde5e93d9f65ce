"""Checks of the identifiers the canonical model carries.

python-stdnum implements GB 11643 (resident identity number, stdnum.cn.ric) and
GB 32100 (unified social credit code, stdnum.cn.uscc) with their check digits;
we only add error messages that name the field and never echo the whole value."""
from __future__ import annotations

from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError

from .masking import mask_id


def resident_id(value: str) -> str:
    compact = ric.compact(value).upper()
    try:
        return ric.validate(compact)
    except ValidationError as exc:
        raise ValueError(f"invalid resident ID number {mask_id(compact)}: {exc.message}") from None


def credit_code(value: str) -> str:
    compact = uscc.compact(value).upper()
    try:
        return uscc.validate(compact)
    except ValidationError as exc:
        raise ValueError(f"invalid unified social credit code {compact}: {exc.message}") from None
