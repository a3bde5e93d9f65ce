"""What legacy systems write when they mean "no value", and how a transform says it met one.

A NULL marker is the text a report tool or an export printed for a database NULL ("NULL",
"(null)", MySQL's "\\N"). A transform that meets one (decimal, datetime, null_marker) raises
NoValue: the field then has no value, and when it is required the error says which marker
the system wrote, so that nobody has to guess why a "present" value counts as missing."""
from __future__ import annotations

from .errors import TransformError

NULL_MARKERS = frozenset({"NULL", "null", "Null", "(null)", "<null>", "<NULL>", "None", "nil", "\\N", "undefined"})


class NoValue(TransformError):
    """The value is a marker for "none" (a NULL string, a zero date); the reason names it."""


def check_null(s: str) -> None:
    if s in NULL_MARKERS:
        raise NoValue(f"the NULL marker {s!r}, which the system writes for no value")


def null_marker(v):
    """A NULL marker is no value; anything else passes unchanged (for text fields)."""
    if isinstance(v, str):
        check_null(v.strip())
    return v
