"""List mapping: a list of source items to a list of canonical items (a case's materials, 申请材料).

    materials:
      each: materialList              # the list in the source record (dotted path)
      when: {path: sfyx, equals: "1"}  # optional: only the items for which it holds
      fields:                          # one field spec per canonical item field; paths are
        name: {path: clmc, transform: trim, required: true}     # relative to the item
        reused_certificate: {path: zzbh, transform: [trim, none_if_empty]}

A missing list (or a NULL) is the empty list; a value that is not a list refuses the record. An
item's field error names the item: source `materialList.2.clmc`, target `materials.2.name`."""
from __future__ import annotations

from typing import Any, Callable

from .base import MISSING, FieldError, compile_path
from .conditions import compile_condition
from .errors import SpecError, did_you_mean

LIST_KEYS = ("each", "fields", "when")


def _at(exc: FieldError, each: str, target: str, i: int) -> FieldError:
    out = exc.__class__.__new__(exc.__class__)   # copy.copy would call __init__ with args only
    out.__dict__.update(exc.__dict__)
    out.field = f"{each}.{i}.{exc.field}"
    out.target = f"{target}.{i}.{exc.target}" if exc.target else f"{target}.{i}"
    out.args = (f"{out.field}: {out.reason}",)
    return out


def compile_list(target: str, spec: dict, code_tables: dict, key: tuple) -> Callable[[dict], Any]:
    from .spec import compile_field
    unknown = sorted(set(spec) - set(LIST_KEYS))
    if unknown:
        raise SpecError(f"list field {target}: unknown keys {unknown}{did_you_mean(unknown[0], LIST_KEYS)} "
                        f"(known: {', '.join(LIST_KEYS)})", key + (unknown[0],))
    each = spec["each"]
    if not isinstance(each, str) or not each:
        raise SpecError(f"list field {target}: each names the source list by its path, e.g. each: materials",
                        key + ("each",))
    items = spec.get("fields")
    if not isinstance(items, dict) or not items:
        raise SpecError(f"list field {target}: needs fields, one spec per field of a canonical item", key)
    compiled = [(tuple(name.split(".")), compile_field(name, s, code_tables, key + ("fields", name)))
                for name, s in items.items()]
    keep = compile_condition(spec.get("when"), key + ("when",))
    get = compile_path(each)

    def build_item(item) -> dict:
        out: dict = {}
        for path, getter in compiled:
            cur = out
            for p in path[:-1]:
                cur = cur.setdefault(p, {})
            cur[path[-1]] = getter(item)
        return out

    def field(rec):
        value = get(rec)
        if value is MISSING or value is None:
            return []
        if not isinstance(value, list):
            raise FieldError(each, f"not a list (a {type(value).__name__}); {target} is mapped from a list",
                             None, target)
        out = []
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                raise FieldError(f"{each}.{i}", f"an item of the list is not an object (a {type(item).__name__})",
                                 None, f"{target}.{i}")
            if not keep(item):
                continue
            try:
                out.append(build_item(item))
            except FieldError as exc:
                raise _at(exc, each, target, i) from None
        return out
    field.lineage = {"source": each, "each": True, "when": spec.get("when"),
                     "items": {name: getter.lineage for (name, getter) in
                               ((".".join(p), g) for p, g in compiled)}}
    field.item_getters = compiled
    return field
