"""Compiles one field spec of a mapping file into a plain callable.

A field spec is a dict with any of:
  path: dotted path into the source record (digits index lists), or
  const: a fixed value;
  transform: a name or list of names from transforms.TRANSFORMS, applied in order; one that
             takes parameters is written {name: {parameter: value}}, e.g. {decimal: {unit: 万元}}
             (transforms.FACTORIES; docs/mappings.md lists them);
  null_values: source values meaning "none" (e.g. 长期 for an open-ended validity);
  code_table: name of a table in the file's code_tables (applied after transforms);
  pattern: a regular expression the transformed value must match whole (codes with a
           known layout: 宗地代码, 项目代码), else the record is refused naming the field;
  default: used when the value is missing or none;
  required: true makes a missing value an error (a NULL marker or a zero date counts as
            missing, and the error names it);
  text: refuse | flag: the value is human text (a name, an address, an opinion): if it bears the
        marks of a lossy conversion (U+FFFD, or "?" standing for a lost Chinese character), the
        record is refused at stage decode naming the field, or (flag) taken with the field
        named in the envelope's flags (lossy.py).
A bare string is shorthand for {path: <string>}."""
from __future__ import annotations

import re
from typing import Any, Callable

from hub.model.masking import mask_value

from . import lossy
from .nulls import NoValue
from .transforms import _FULLWIDTH, FACTORIES, TRANSFORMS, TransformError

_MISSING = object()
# A record key names the record in message headers and in the store (record_key, 255 characters:
# hub/store/schema.py KEY); a longer one would fail the store's insert on PostgreSQL on every re-read.
KEY_MAX = 255
# NUL and the other C0 controls (tab, LF and CR are text) and lone surrogates (what bytes that
# were not valid in the declared encoding become under surrogateescape, or a JSON "\ud800"):
# not text in any legacy system, refused by PostgreSQL (NUL) and by XML 1.0 destinations.
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def _not_text(char: str, pos: int) -> str:
    code = ord(char)
    if code == 0:
        what = "a NUL character (U+0000)"
    elif code < 0x20:
        what = f"the control character U+{code:04X}"
    else:
        what = f"a lone surrogate U+{code:04X} (bytes that were not valid in the declared encoding?)"
    return f"contains {what} at position {pos}; not text"


class FieldError(ValueError):
    stage = "map"

    def __init__(self, field: str, reason: str, value: Any = None):
        self.field, self.reason, self.value = field, reason, mask_value(field, value) if isinstance(value, str) else value
        super().__init__(f"{field}: {reason}")


class LossyText(FieldError):
    """Text that lost characters before it reached the hub: the record was not decoded whole."""
    stage = "decode"


def _steps(target: str, names) -> list[Callable]:
    names = [names] if isinstance(names, (str, dict)) else list(names)
    steps = []
    for n in names:
        params: dict = {}
        if isinstance(n, dict):
            if len(n) != 1:
                raise ValueError(f"field {target}: a transform with parameters is one {{name: {{parameters}}}}")
            (n, params), = n.items()
            if n not in FACTORIES:
                raise ValueError(f"field {target}: transform {n!r} takes no parameters "
                                 f"(those that do: {', '.join(sorted(FACTORIES))})")
            if not isinstance(params, dict):
                raise ValueError(f"field {target}: the parameters of {n!r} must be a mapping")
        if n not in TRANSFORMS:
            raise ValueError(f"field {target}: unknown transform {n!r} (known: {', '.join(sorted(TRANSFORMS))})")
        if not params:
            steps.append(TRANSFORMS[n])
            continue
        try:
            steps.append(FACTORIES[n](**params))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"field {target}: transform {n!r}: {exc}") from None
    return steps


def compile_path(path: str) -> Callable[[Any], Any]:
    parts = [int(p) if p.isdigit() else p for p in path.split(".")]
    if len(parts) == 1:
        key = parts[0]
        return lambda rec: rec.get(key, _MISSING) if isinstance(rec, dict) else _MISSING

    def get(rec):
        cur = rec
        for p in parts:
            if isinstance(p, int):
                if not isinstance(cur, list) or p >= len(cur):
                    return _MISSING
                cur = cur[p]
            elif isinstance(cur, dict) and p in cur:
                cur = cur[p]
            else:
                return _MISSING
        return cur
    return get


def compile_field(target: str, spec: Any, code_tables: dict[str, dict]) -> Callable[[dict], Any]:
    if isinstance(spec, str):
        spec = {"path": spec}
    if not isinstance(spec, dict):
        raise ValueError(f"field {target}: spec must be a path string or a mapping, got {type(spec).__name__}")
    unknown = set(spec) - {"path", "const", "transform", "null_values", "code_table", "default", "required",
                           "pattern", "text"}
    if unknown:
        raise ValueError(f"field {target}: unknown keys {sorted(unknown)}")
    if "const" in spec:
        const = spec["const"]
        return lambda rec: const
    if "path" not in spec:
        raise ValueError(f"field {target}: needs 'path' or 'const'")

    source = spec["path"]
    get = compile_path(source)
    steps = _steps(target, spec.get("transform") or [])
    text = spec.get("text")
    if text not in (None, "refuse", "flag"):
        raise ValueError(f"field {target}: text must be refuse or flag, not {text!r}")
    nulls = frozenset(spec.get("null_values") or ())
    table = None
    if "code_table" in spec:
        if spec["code_table"] not in code_tables:
            raise ValueError(f"field {target}: code table {spec['code_table']!r} is not defined")
        table = {str(k): v for k, v in code_tables[spec["code_table"]].items()}
    try:
        pattern = re.compile(spec["pattern"]) if "pattern" in spec else None
    except (re.error, TypeError) as exc:
        raise ValueError(f"field {target}: pattern is not a valid regular expression: {exc}") from None
    has_default = "default" in spec
    default = spec.get("default")
    required = bool(spec.get("required", False))

    def field(rec):
        value = get(rec)
        if isinstance(value, str) and not value.isprintable():   # fast path: most text is printable
            bad = _NOT_TEXT.search(value)
            if bad:
                raise FieldError(source, _not_text(bad.group(), bad.start()), None)
        # null_values are compared trimmed ("长期 " is 长期); lists and objects are never "null values".
        if value is _MISSING or (isinstance(value, str) and value.strip() in nulls):
            value = None
        original, none_because = value, None
        if text is not None and isinstance(value, str) and (lost := lossy.lost(value)):
            if text == "refuse":
                raise LossyText(source, f"{lost}; refused (text: refuse)", value)
            lossy.flag(f"{target}: {lost}")
        if value is not None:
            try:
                for step in steps:
                    value = step(value)
            except NoValue as exc:
                value, none_because = None, str(exc)
            except TransformError as exc:
                raise FieldError(f"{source}", str(exc), original) from None
            if value is not None and pattern is not None and not pattern.fullmatch(str(value)):
                raise FieldError(source, f"does not match the expected format {pattern.pattern}", original)
            if value is not None and table is not None:
                key = str(value)
                if key not in table:
                    raise FieldError(source, f"code {key!r} is not in code table {spec['code_table']!r}", None)
                value = table[key]
        if value is None:
            if has_default:
                return default
            if required:
                raise FieldError(source, "required value is missing" + (f": {none_because}" if none_because else ""),
                                 original if none_because else None)
        elif required and isinstance(value, str) and not value.strip():
            # A CSV column or an XML element that is there but empty: as missing as can be.
            raise FieldError(source, "required value is empty")
        return value
    return field


def compile_template(template: str) -> Callable[[dict], str]:
    """'{eventId}' or 'REG-{registration.applyNo}' -> a function of the record."""
    import string
    pieces = []
    for literal, name, _, _ in string.Formatter().parse(template):
        pieces.append(literal)
        if name is not None:
            pieces.append(compile_path(name))

    def render(rec):
        out = []
        for p in pieces:
            if isinstance(p, str):
                out.append(p)
            else:
                v = p(rec)
                if v is _MISSING or v is None:
                    raise FieldError(template, "a key field of the record is missing")
                v = str(v)
                if not v.isprintable() and (bad := _NOT_TEXT.search(v)):   # a key names the record in
                    raise FieldError(template, _not_text(bad.group(), bad.start()), None)   # logs and stores
                out.append(v)
        key = "".join(out)
        if len(key) > KEY_MAX:
            raise FieldError(template, f"the key is {len(key)} characters long, more than {KEY_MAX}", None)
        return key
    return render


def _condition_value(v):
    # Conditions see the value as an operator meant it: trimmed, full-width folded ("０３ " is "03").
    if isinstance(v, str):
        return v.translate(_FULLWIDTH).strip()
    return v if isinstance(v, (int, float, bool)) or v is None else _MISSING


def compile_condition(cond: dict | None) -> Callable[[dict], bool]:
    """{path, equals | in}, or {all: [conditions]} / {any: [conditions]} to combine them."""
    if not cond:
        return lambda rec: True
    if isinstance(cond, dict) and ("all" in cond or "any" in cond):
        parts = [compile_condition(c) for c in cond.get("all") or cond.get("any") or []]
        if not parts:
            raise ValueError("a combined 'when' condition needs at least one part")
        if "all" in cond:
            return lambda rec: all(p(rec) for p in parts)
        return lambda rec: any(p(rec) for p in parts)
    if not isinstance(cond, dict) or "path" not in cond:
        raise ValueError("a 'when' condition needs 'path' and 'equals' or 'in'")
    get = compile_path(cond["path"])
    if "equals" in cond:
        want = cond["equals"]
        return lambda rec: _condition_value(get(rec)) == want
    if "in" in cond:
        allowed = frozenset(cond["in"])
        return lambda rec: _condition_value(get(rec)) in allowed
    raise ValueError("a 'when' condition needs 'equals' or 'in'")


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
