"""Types shared by every canonical record: department names, tracks, aware timestamps."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

SHANGHAI = ZoneInfo("Asia/Shanghai")


def header_time(when: datetime) -> str:
    """A time as every AMQP header carries it (docs/wire.md): ISO 8601 at +08:00."""
    return when.astimezone(SHANGHAI).isoformat()


# A department is named by the adapters that register it (hub/adapter/departments.py), not
# listed here: a fifth system is a package of its own. The model only keeps the name a safe
# token, since it travels in routing keys, queue names and file names.
DEPARTMENT_PATTERN = r"^[a-z][a-z0-9_]{1,31}$"
Department = Annotated[str, StringConstraints(pattern=DEPARTMENT_PATTERN)]


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
