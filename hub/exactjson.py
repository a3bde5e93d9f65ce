"""JSON as the sender wrote it: the one decoder for JSON that comes from outside the hub.

Python's json module, left to itself, turns 12345678901234.56 into a float (the last cent
goes: a double holds about 15-16 digits), 1234.50 into 1234.5 (the scale goes), and keeps
the last of two equal keys in an object without a word. Here numbers with a fraction or
an exponent are Decimal (exact, scale kept), and a duplicate key is an error naming the key
and where it stands ("items.3.registration", dotted as mapping paths are). NaN and
Infinity are not JSON (RFC 8259) and are refused too.

Two ways to use it: loads() refuses a document with any duplicate key; decode() reads it
anyway and lists the duplicates, so a caller that reads a page of records can refuse only
the records holding one (hub/adapter/guard.py) and let the rest of the page flow.

The check costs one dict length comparison per object; paths are worked out only when a
duplicate was found, by a second walk over the parsed document."""
from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

# Past Python's 4300-digit limit int() raises ValueError and the whole document would be
# unreadable: such a number is kept as its text, and only the record holding it fails.
_MAX_INT_DIGITS = 4000


class DuplicateKey(ValueError):
    """An object holds the same key twice; which value the sender meant cannot be told."""

    def __init__(self, key: str, path: str):
        self.key, self.path = key, path
        where = f"in the object at {path}" if path else "in the top-level object"
        super().__init__(f"duplicate key {key!r} {where}")


@dataclass
class Decoded:
    value: Any
    duplicates: list[DuplicateKey]   # in document order of their objects' paths; empty almost always


def parse_int(digits: str):
    return int(digits) if len(digits) <= _MAX_INT_DIGITS else digits


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def decode(text: str | bytes) -> Decoded:
    """The document, numbers exact, and every duplicate key it holds. Raises ValueError (not
    JSON) or RecursionError (nested deeper than the parser allows)."""
    seen: list[tuple[dict, str]] = []

    def pairs_hook(pairs):
        obj = dict(pairs)
        if len(obj) != len(pairs):
            keys: set = set()
            for k, _ in pairs:
                if k in keys:
                    seen.append((obj, k))
                    break
                keys.add(k)
        return obj

    value = json.loads(text, parse_float=Decimal, parse_int=parse_int, parse_constant=_refuse_constant,
                       object_pairs_hook=pairs_hook)
    if not seen:
        return Decoded(value, [])
    return Decoded(value, _locate(value, seen))


def loads(text: str | bytes) -> Any:
    """The document, numbers exact; raises DuplicateKey for the first duplicate key (a ValueError,
    as json.loads raises for any other fault)."""
    decoded = decode(text)
    if decoded.duplicates:
        raise decoded.duplicates[0]
    return decoded.value


def _locate(root: Any, seen: list[tuple[dict, str]]) -> list[DuplicateKey]:
    # By identity: the hook saw the very dict objects that are in the document. Iterative, so a
    # deeply nested document cannot exhaust the stack here either.
    wanted = {id(obj): key for obj, key in seen}
    found = []
    stack = [("", root)]
    while stack and len(found) < len(wanted):
        path, v = stack.pop()
        if isinstance(v, dict):
            if id(v) in wanted:
                found.append(DuplicateKey(wanted[id(v)], path))
            stack.extend((f"{path}.{k}" if path else str(k), x) for k, x in reversed(list(v.items())))
        elif isinstance(v, list):
            stack.extend((f"{path}.{i}" if path else str(i), x) for i, x in reversed(list(enumerate(v))))
    return found


# A Decimal is written as the number it holds, digits and scale as read ("1234.50", not
# 1234.5 and not "1234.50" in quotes). json.dumps has no hook for raw number text, so a
# Decimal goes through as a marked string and the marks are taken off afterwards; the mark
# carries a random token, so no string a sender wrote can pass for one.
_MARK = f"\x00{uuid.uuid4().hex}:"
_MARKED = re.compile(r'"\\u0000' + _MARK[1:] + r'([^"\\]*)"')


def _default(o):
    if isinstance(o, Decimal):
        if not o.is_finite():
            raise ValueError(f"{o} is not a JSON number")
        return _MARK + str(o)
    raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")


def dumps(value: Any, **kwargs) -> str:
    """json.dumps that writes Decimals as exact numbers (what decode() reads back as the same
    Decimal, scale and all)."""
    text = json.dumps(value, default=_default, **kwargs)
    return _MARKED.sub(r"\1", text) if "\\u0000" in text else text
