"""A mapping's `when` condition and its record key / version templates, compiled."""
from __future__ import annotations

import string
from typing import Callable

from .base import KEY_MAX, MISSING, NOT_TEXT, FieldError, compile_path, not_text
from .errors import SpecError
from .transforms import _FULLWIDTH


def compile_template(template: str, key=()) -> Callable[[dict], str]:
    """'{eventId}' or 'REG-{registration.applyNo}' -> a function of the record."""
    pieces = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise SpecError(f"template {template!r}: {exc}", key) from None
    for literal, name, _, _ in parsed:
        pieces.append(literal)
        if name is not None:
            if not name:
                raise SpecError(f"template {template!r}: '{{}}' names no field", key)
            pieces.append(compile_path(name))

    def render(rec):
        out = []
        for p in pieces:
            if isinstance(p, str):
                out.append(p)
            else:
                v = p(rec)
                if v is MISSING or v is None:
                    raise FieldError(template, "a key field of the record is missing")
                v = str(v)
                if not v.isprintable() and (bad := NOT_TEXT.search(v)):   # a key names the record in
                    raise FieldError(template, not_text(bad.group(), bad.start()), None)   # logs and stores
                out.append(v)
        key_text = "".join(out)
        if len(key_text) > KEY_MAX:
            raise FieldError(template, f"the key is {len(key_text)} characters long, more than {KEY_MAX}", None)
        return key_text
    return render


def _condition_value(v):
    # Conditions see the value as an operator meant it: trimmed, full-width folded ("０３ " is "03").
    if isinstance(v, str):
        return v.translate(_FULLWIDTH).strip()
    return v if isinstance(v, (int, float, bool)) or v is None else MISSING


def compile_condition(cond: dict | None, key=("when",)) -> Callable[[dict], bool]:
    """{path, equals | in}, or {all: [conditions]} / {any: [conditions]} to combine them."""
    if not cond:
        return lambda rec: True
    if isinstance(cond, dict) and ("all" in cond or "any" in cond):
        how = "all" if "all" in cond else "any"
        items = cond.get(how) or []
        if not isinstance(items, list) or not items:
            raise SpecError("a combined 'when' condition needs at least one part", key + (how,))
        parts = [compile_condition(c, key + (how, i)) for i, c in enumerate(items)]
        if how == "all":
            return lambda rec: all(p(rec) for p in parts)
        return lambda rec: any(p(rec) for p in parts)
    if not isinstance(cond, dict) or "path" not in cond:
        raise SpecError("a 'when' condition needs 'path' and 'equals' or 'in'", key)
    unknown = set(cond) - {"path", "equals", "in"}
    if unknown:
        from .errors import did_you_mean
        name = sorted(unknown)[0]
        raise SpecError(f"a 'when' condition has no key {name!r}{did_you_mean(name, ('path', 'equals', 'in'))}",
                        key + (name,))
    get = compile_path(str(cond["path"]))
    if "equals" in cond:
        want = cond["equals"]
        return lambda rec: _condition_value(get(rec)) == want
    if "in" in cond:
        if not isinstance(cond["in"], list):
            raise SpecError("'in' takes a list of values", key + ("in",))
        allowed = frozenset(cond["in"])
        return lambda rec: _condition_value(get(rec)) in allowed
    raise SpecError("a 'when' condition needs 'equals' or 'in'", key)


def describe_condition(cond: dict | None) -> str:
    if not cond:
        return "always"
    for how in ("all", "any"):
        if how in cond:
            return f" {'and' if how == 'all' else 'or'} ".join(describe_condition(c) for c in cond[how])
    return f"{cond['path']} {'= ' + repr(cond['equals']) if 'equals' in cond else 'in ' + repr(cond['in'])}"


def condition_paths(cond: dict | None) -> list[str]:
    """The record fields a condition reads (named in the error when no mapping accepts a record)."""
    if not cond:
        return []
    if "all" in cond or "any" in cond:
        return [p for c in cond.get("all") or cond.get("any") or [] for p in condition_paths(c)]
    return [cond["path"]]
