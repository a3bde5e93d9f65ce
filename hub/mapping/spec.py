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
A bare string is shorthand for {path: <string>}. A spec with `each:` maps a list (lists.py).

Every compiled field carries `.lineage`: where its value comes from (source path or const,
transforms, code table, default), for `tongban mapping try` and `tongban mapping docs`."""
from __future__ import annotations

import re
from typing import Any, Callable

from . import lossy
from .base import KEY_MAX, MISSING, NOT_TEXT, FieldError, LossyText, compile_path, not_text  # noqa: F401
from .conditions import compile_condition, compile_template, condition_paths, describe_condition  # noqa: F401
from .errors import SpecError, did_you_mean
from .nulls import NoValue
from .transforms import FACTORIES, TRANSFORMS, TransformError

_MISSING = MISSING
FIELD_KEYS = ("path", "const", "transform", "null_values", "code_table", "default", "required", "pattern", "text")


def transform_names(names) -> list[str]:
    """The transforms of a spec as people read them: ['trim', 'decimal(unit=万元)']."""
    names = [names] if isinstance(names, (str, dict)) else list(names or [])
    out = []
    for n in names:
        if isinstance(n, dict) and len(n) == 1:
            (name, params), = n.items()
            args = ", ".join(f"{k}={v}" for k, v in (params or {}).items()) if isinstance(params, dict) else params
            out.append(f"{name}({args})")
        else:
            out.append(str(n))
    return out


def _steps(target: str, names, key: tuple) -> list[Callable]:
    single = isinstance(names, (str, dict))
    names = [names] if single else list(names)
    steps = []
    for i, n in enumerate(names):
        where = key if single else key + (i,)
        params: dict = {}
        if isinstance(n, dict):
            if len(n) != 1:
                raise SpecError(f"field {target}: a transform with parameters is one {{name: {{parameters}}}}", where)
            (n, params), = n.items()
            where = where + (n,)
            if n not in FACTORIES:
                raise SpecError(f"field {target}: transform {n!r} takes no parameters "
                                f"(those that do: {', '.join(sorted(FACTORIES))})", where)
            if not isinstance(params, dict):
                raise SpecError(f"field {target}: the parameters of {n!r} must be a mapping", where)
        if n not in TRANSFORMS:
            raise SpecError(f"field {target}: unknown transform {n!r}{did_you_mean(n, TRANSFORMS)} "
                            f"(known: {', '.join(sorted(TRANSFORMS))})", where)
        if not params:
            steps.append(TRANSFORMS[n])
            continue
        try:
            steps.append(FACTORIES[n](**params))
        except (TypeError, ValueError) as exc:
            raise SpecError(f"field {target}: transform {n!r}: {exc}", where) from None
    return steps


def _lineage(spec: dict) -> dict:
    out = {"source": spec.get("path"), "transforms": transform_names(spec.get("transform"))}
    if "const" in spec:
        out = {"source": None, "const": spec["const"], "transforms": []}
    for k in ("code_table", "default", "pattern", "null_values"):
        if k in spec:
            out[k] = spec[k]
    out["required"] = bool(spec.get("required", False))
    return out


def compile_field(target: str, spec: Any, code_tables: dict[str, dict], key=None) -> Callable[[dict], Any]:
    key = tuple(key) if key is not None else ("fields", target)
    if isinstance(spec, str):
        spec = {"path": spec}
    if isinstance(spec, dict) and "each" in spec:
        from .lists import compile_list
        return compile_list(target, spec, code_tables, key)
    if not isinstance(spec, dict):
        raise SpecError(f"field {target}: spec must be a path string or a mapping, got {type(spec).__name__}", key)
    unknown = sorted(set(spec) - set(FIELD_KEYS))
    if unknown:
        hint = did_you_mean(unknown[0], FIELD_KEYS + ("each",))
        raise SpecError(f"field {target}: unknown keys {unknown}{hint} (known: {', '.join(FIELD_KEYS)}, or each)",
                        key + (unknown[0],))
    if "const" in spec:
        const = spec["const"]
        field = lambda rec: const   # noqa: E731
        field.lineage = _lineage(spec)
        return field
    if "path" not in spec:
        raise SpecError(f"field {target}: needs 'path' or 'const'", key)

    source = str(spec["path"])
    get = compile_path(source)
    steps = _steps(target, spec.get("transform") or [], key + ("transform",))
    text = spec.get("text")
    if text not in (None, "refuse", "flag"):
        raise SpecError(f"field {target}: text must be refuse or flag, not {text!r}", key + ("text",))
    nulls = frozenset(spec.get("null_values") or ())
    table = None
    if "code_table" in spec:
        name = spec["code_table"]
        if name not in code_tables:
            raise SpecError(f"field {target}: code table {name!r} is not defined{did_you_mean(name, code_tables)} "
                            f"(code_tables: {', '.join(sorted(code_tables)) or 'none'})", key + ("code_table",))
        if not isinstance(code_tables[name], dict):
            raise SpecError(f"code table {name!r} must be a mapping of codes to values", ("code_tables", name))
        table = {str(k): v for k, v in code_tables[name].items()}
    try:
        pattern = re.compile(spec["pattern"]) if "pattern" in spec else None
    except (re.error, TypeError) as exc:
        raise SpecError(f"field {target}: pattern is not a valid regular expression: {exc}", key + ("pattern",)) from None
    has_default = "default" in spec
    default = spec.get("default")
    required = bool(spec.get("required", False))

    def field(rec):
        value = get(rec)
        if isinstance(value, str) and not value.isprintable():   # fast path: most text is printable
            bad = NOT_TEXT.search(value)
            if bad:
                raise FieldError(source, not_text(bad.group(), bad.start()), None, target)
        # null_values are compared trimmed ("长期 " is 长期); lists and objects are never "null values".
        if value is MISSING or (isinstance(value, str) and value.strip() in nulls):
            value = None
        original, none_because = value, None
        if text is not None and isinstance(value, str) and (lost := lossy.lost(value)):
            if text == "refuse":
                raise LossyText(source, f"{lost}; refused (text: refuse)", value, target)
            lossy.flag(f"{target}: {lost}")
        if value is not None:
            try:
                for step in steps:
                    value = step(value)
            except NoValue as exc:
                value, none_because = None, str(exc)
            except TransformError as exc:
                raise FieldError(source, str(exc), original, target) from None
            if value is not None and pattern is not None and not pattern.fullmatch(str(value)):
                raise FieldError(source, f"does not match the expected format {pattern.pattern}", original, target)
            if value is not None and table is not None:
                code = str(value)
                if code not in table:
                    raise FieldError(source, f"code {code!r} is not in code table {spec['code_table']!r}", None,
                                     target)
                value = table[code]
        if value is None:
            if has_default:
                return default
            if required:
                raise FieldError(source, "required value is missing" + (f": {none_because}" if none_because else ""),
                                 original if none_because else None, target)
        elif required and isinstance(value, str) and not value.strip():
            # A CSV column or an XML element that is there but empty: as missing as can be.
            raise FieldError(source, "required value is empty", None, target)
        return value
    field.lineage = _lineage(spec)
    return field
