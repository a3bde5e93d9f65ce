"""Types shared by every canonical record: departments, tracks, aware timestamps."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BaseModel, ConfigDict

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Department(StrEnum):
    ndrc = "ndrc"
    housing = "housing"
    commerce = "commerce"
    land = "land"


DEPARTMENT_LABELS = {
    "ndrc": "发展和改革局 development and reform",
    "housing": "住房和城乡建设局 housing and construction",
    "commerce": "市场监督管理局 market regulation",
    "land": "自然资源局 land resources",
}


class Track(StrEnum):
    old = "old"
    new = "new"


def _require_aware(value: datetime) -> datetime:
    # A naive time from a legacy system is Asia/Shanghai local time; the mapping
    # says so explicitly. The model refuses to guess.
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("timestamp must be timezone-aware (the mapping localises legacy local times to Asia/Shanghai)")
    return value


AwareDatetime = Annotated[datetime, AfterValidator(_require_aware)]

# A value of a free-form map (a case event's attributes, an application's form). Decimal is
# listed before float so that a number read exactly (hub.exactjson) stays exact: without it
# pydantic turns Decimal("1234.50") into the float 1234.5. It is written to JSON as its text,
# "1234.50", the same form the mapping's decimal transform gives amounts.
Scalar = str | int | Decimal | float | bool | None


class CanonicalModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, use_enum_values=True)
