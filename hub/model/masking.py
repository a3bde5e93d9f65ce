"""Masking of personal data for logs, reports, errors and the console.

One place decides how an ID number, a phone number or a name is shown, so that no report
or log line can leak more than another. mask() is the function every way out of the hub
uses (the CLI's output, hub/cli/output.py; logs, hub/logs.py; dead-letter reasons; replay
output; reports); the rest are its parts."""
from __future__ import annotations

import re
import unicodedata
from typing import Iterable

from .credit_codes import ALPHABET


def _wide(chars: str) -> str:
    """A character class body holding these characters, their lower case and their
    full-width forms (legacy desks type ９１３３… in an IME's full-width mode)."""
    both = set(chars) | set(chars.lower())
    return "".join(sorted(re.escape(c) + chr(ord(c) + 0xFEE0) for c in both if c.isascii() and c.isalnum()))


_ALNUM = _wide("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_NOT_BEFORE, _NOT_AFTER = f"(?<![{_ALNUM}])", f"(?![{_ALNUM}])"
# \d is any decimal digit, full-width ones (０-９) included: legacy desks type those.
# A mobile number may carry the country code (+86, 86) and be grouped 3-4-4 by spaces or dashes.
_PHONE = re.compile(r"(?<!\d)((?:\+?[8８][6６][- ]?)?[1１]\d{2})[- ]?\d{4}[- ]?(\d{4})(?!\d)")
# GB 11643-1999: 17 digits and a check digit or X.
_RESIDENT_ID = re.compile(_NOT_BEFORE + r"(\d{6})\d{8}(\d{3}[0-9Xx０-９Ｘｘ])" + _NOT_AFTER)
# GB 11643-1989, first generation: 15 digits, the birth date as YYMMDD in digits 7-12. Only
# those whose digits 9-12 can be a month and day are masked, so that most other 15-digit
# numbers (counts, timestamps) stay readable; a 15-digit 注册号 may be masked too.
_RESIDENT_ID_15 = re.compile(_NOT_BEFORE + r"(\d{6})(\d{5})(\d{4})" + _NOT_AFTER)
# GB 32100: authority, category, 6-digit region, 9-character body, check character
# (the authority and category as the table allows, hub/model/credit_codes.py, loosely).
_CODE = f"[{_wide(ALPHABET)}]"
_CREDIT_CODE = re.compile(_NOT_BEFORE + f"([{_wide('123456789ANY')}][{_wide('123459')}]\\d{{4}})"
                          f"(\\d{{2}}{_CODE}{{6}})({_CODE}{{4}})" + _NOT_AFTER)


def _plausible_first_generation(digits: str) -> bool:
    d = unicodedata.normalize("NFKC", digits)
    return "01" <= d[8:10] <= "12" and "01" <= d[10:12] <= "31"


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


def mask_text(text: str, names: Iterable[str] = ()) -> str:
    """Mask ID numbers (18- and 15-digit), credit codes and mobile numbers inside free text, and
    names: those after a field or label known to hold one (mask_names), and wherever they stand,
    the ``names`` given (the values of a record's name fields: mask_record passes them, so an
    opinion saying "张三丰材料齐全" loses the name its applicant field holds)."""
    text = _RESIDENT_ID.sub(lambda m: m.group(1) + "********" + m.group(2), text)
    text = _CREDIT_CODE.sub(lambda m: m.group(1) + "*" * 8 + m.group(3), text)
    text = _RESIDENT_ID_15.sub(lambda m: m.group(1) + "*****" + m.group(3)
                               if _plausible_first_generation(m.group(0)) else m.group(0), text)
    text = _PHONE.sub(lambda m: m.group(1) + "****" + m.group(2), text)
    text = mask_names(text)
    for name in sorted({n for n in names if n and len(n) >= 2}, key=len, reverse=True):
        text = text.replace(name, mask_name(name))
    return text


# Names in free text (log lines, error texts): after a field name that holds one ("name": "张三",
# handler=李四, a validation error's "applicant.name: ... (value '王五')") or a label that
# introduces one (申请人张三, 联系人：李四). Only values with Chinese characters: a person's name
# here is written in them, while "name": "commerce" in a log line is the hub's own vocabulary.
_CJK = "\u3400-\u9fff\uf900-\ufaff·"
_NAME_KEYS = "|".join(sorted({"name", "handler", "legal_representative", "operator", "linkman", "qlrmc", "blr",
                              "holder", "applicant_name", "contact", "legalperson", "frmc", "sqrxm", "xm"},
                             key=len, reverse=True))
_NAME_FIELD = re.compile(r"(?i)(\b(?:" + _NAME_KEYS + r")\b[\"']?\s*[:=]\s*[\"']?)([" + _CJK + r"]{1,12})(?!\*)")
_NAME_TAG = re.compile(r"(?i)(<(?:" + _NAME_KEYS + r")(?:\s[^>]*)?>\s*)([" + _CJK + r"]{1,12})(?!\*)")   # <sqrxm>张三</sqrxm>
_NAME_ERROR = re.compile(r"(?i)(\b(?:" + _NAME_KEYS + r")\b:[^\n]{0,300}?\(value ')([^']{1,40})(')")
_NAME_LABEL = re.compile(r"(申请人|姓名|法定代表人|法人代表|经办人|联系人|承办人|权利人|持证人|办理人)(\s*[:：]?\s*)"
                         r"([" + _CJK + r"]{2,4})")


def mask_names(text: str) -> str:
    """Mask what looks like a person's name in free text (mask_name keeps its first character)."""
    text = _NAME_ERROR.sub(lambda m: m.group(1) + mask_name(m.group(2)) + m.group(3), text)
    text = _NAME_FIELD.sub(lambda m: m.group(1) + mask_name(m.group(2)), text)
    text = _NAME_TAG.sub(lambda m: m.group(1) + mask_name(m.group(2)), text)
    return _NAME_LABEL.sub(lambda m: m.group(1) + m.group(2) + mask_name(m.group(3)), text)


def _mask_number(leaf: str, value: int | float) -> object:
    """A number that arrived as a JSON number (an ID as 330106199003071236, a mobile as
    15867123490): masked as its digits would be, and then shown as text."""
    if isinstance(value, float):
        if not value.is_integer():
            return value
        value = int(value)
    digits = str(value)
    if leaf in PERSONAL_ID_FIELDS:
        return mask_id(digits)
    if leaf in PHONE_FIELDS:
        return mask_phone(digits)
    masked = mask_text(digits)
    return value if masked == digits else masked


def mask_value(field: str, value: object, names: Iterable[str] = ()) -> object:
    """Mask a value by the name of the field it sits in (the last path segment); ``names``: the
    person names known in its record, masked wherever the text holds them."""
    if value is None or isinstance(value, bool):
        return value
    leaf = field.rsplit(".", 1)[-1].lower()
    if isinstance(value, (int, float)):
        return _mask_number(leaf, value)
    if not isinstance(value, str):
        return value
    if leaf in PERSONAL_ID_FIELDS:
        return mask_id(value)
    if leaf in PHONE_FIELDS:
        return mask_phone(value)
    if leaf in NAME_FIELDS:
        return mask_name(value)
    return mask_text(value, names)


PERSONAL_ID_FIELDS = {"id_number", "resident_id", "idno", "id_no", "lerepcertno", "zjh", "cardno"}
PHONE_FIELDS = {"phone", "mobile", "contactphone", "linkphone", "tel"}
NAME_FIELDS = {"name", "handler", "legal_representative", "operator", "linkman", "qlrmc", "blr"}


# Fields known to hold a person's name (the canonical model's handler, a legacy system's 申请人姓名
# sqrxm, ...); "name" counts where its object is a person (kind person, or an ID or phone beside it,
# as the canonical applicant and holder have): a material's or an item's name is no one's.
PERSON_NAME_FIELDS = (NAME_FIELDS - {"name"}) | {"applicant_name", "holder_name", "contact", "legalperson",
                                                  "frmc", "sqrxm", "xm"}
_PERSON_MARKS = PERSONAL_ID_FIELDS | PHONE_FIELDS | {"id_type"}


def known_names(record: object, out: set | None = None) -> set[str]:
    """The person names a record holds in fields known to be names (see PERSON_NAME_FIELDS)."""
    out = set() if out is None else out
    if isinstance(record, dict):
        keys = {str(k).lower() for k in record}
        person = record.get("kind") != "organisation" and (record.get("kind") == "person" or keys & _PERSON_MARKS)
        for k, v in record.items():
            leaf = str(k).lower()
            if isinstance(v, str) and (leaf in PERSON_NAME_FIELDS or (leaf == "name" and person)):
                if re.search("[" + _CJK + "]", v) and 2 <= len(v.strip()) <= 12:
                    out.add(v.strip())
            else:
                known_names(v, out)
    elif isinstance(record, list):
        for v in record:
            known_names(v, out)
    return out


def mask_record(record: object, path: str = "", names: Iterable[str] | None = None) -> object:
    """Return a deep copy of a JSON-like record with personal fields masked, and the person names
    its name fields hold masked in its free text too."""
    if names is None:
        names = frozenset(known_names(record))
    if isinstance(record, dict):
        return {k: mask_record(v, f"{path}.{k}" if path else str(k), names) for k, v in record.items()}
    if isinstance(record, list):
        return [mask_record(v, path, names) for v in record]
    return mask_value(path, record, names)


def mask(value: object, field: str = "") -> object:
    """The one masking function: whatever leaves the hub (a record, a report, a line of
    text, a number) goes through here. Fields are masked by their names where a record has
    them (mask_value), everything else by what it looks like (mask_text)."""
    if isinstance(value, (dict, list)):
        return mask_record(value, field)
    if isinstance(value, tuple):
        return [mask(v, field) for v in value]
    return mask_value(field, value)
