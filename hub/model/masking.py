"""Masking of personal data for logs, reports, errors and the console.

One place decides how an ID number, a phone number or a name is shown, so
that no report or log line can leak more than another."""
from __future__ import annotations

import re

# \d is any decimal digit, full-width ones (０-９) included: legacy desks type those.
# A mobile number may carry the country code (+86, 86) and be grouped 3-4-4 by spaces or dashes.
_PHONE = re.compile(r"(?<!\d)((?:\+?[8８][6６][- ]?)?[1１]\d{2})[- ]?\d{4}[- ]?(\d{4})(?!\d)")
_RESIDENT_ID = re.compile(r"(?<![0-9A-Za-z０-９Ａ-Ｚａ-ｚ])(\d{6})\d{8}(\d{3}[0-9Xx０-９Ｘｘ])(?![0-9A-Za-z０-９Ａ-Ｚａ-ｚ])")


def mask_id(value: str | None) -> str | None:
    """A full-length ID (15+ characters) keeps its region (first 6) and last 4, as is
    customary; a shorter one keeps at most a third of itself, so it never stays readable."""
    if value is None:
        return None
    v = str(value)
    if len(v) >= 15:
        return v[:6] + "*" * (len(v) - 10) + v[-4:]
    if len(v) >= 9:
        return v[:2] + "*" * (len(v) - 3) + v[-1:]
    return "*" * len(v)


def mask_phone(value: str | None) -> str | None:
    """138****5678 for a mobile number; shorter numbers keep only their last two digits."""
    if value is None:
        return None
    v = str(value)
    if len(v) >= 11:
        return v[:3] + "*" * (len(v) - 7) + v[-4:]
    if len(v) >= 7:
        return "*" * (len(v) - 2) + v[-2:]
    return "*" * len(v)


def mask_name(value: str | None) -> str | None:
    """张三 -> 张*, 欧阳娜娜 -> 欧***; organisation names are not personal data
    but callers decide that: this masks whatever it is given."""
    if value is None:
        return None
    v = str(value)
    if len(v) <= 1:
        return "*"
    return v[0] + "*" * (len(v) - 1)


def mask_text(text: str) -> str:
    """Mask ID numbers and mobile numbers found inside free text (error messages, opinions)."""
    text = _RESIDENT_ID.sub(lambda m: m.group(1) + "********" + m.group(2), text)
    return _PHONE.sub(lambda m: m.group(1) + "****" + m.group(2), text)


def mask_value(field: str, value: object) -> object:
    """Mask a value by the name of the field it sits in (the last path segment)."""
    if value is None or not isinstance(value, str):
        return value
    leaf = field.rsplit(".", 1)[-1].lower()
    if leaf in PERSONAL_ID_FIELDS:
        return mask_id(value)
    if leaf in PHONE_FIELDS:
        return mask_phone(value)
    if leaf in NAME_FIELDS:
        return mask_name(value)
    return mask_text(value)


PERSONAL_ID_FIELDS = {"id_number", "resident_id", "idno", "id_no", "lerepcertno", "zjh", "cardno"}
PHONE_FIELDS = {"phone", "mobile", "contactphone", "linkphone", "tel"}
NAME_FIELDS = {"name", "handler", "legal_representative", "operator", "linkman", "qlrmc", "blr"}


def mask_record(record: object, path: str = "") -> object:
    """Return a deep copy of a JSON-like record with personal fields masked."""
    if isinstance(record, dict):
        return {k: mask_record(v, f"{path}.{k}" if path else str(k)) for k, v in record.items()}
    if isinstance(record, list):
        return [mask_record(v, path) for v in record]
    return mask_value(path, record)
