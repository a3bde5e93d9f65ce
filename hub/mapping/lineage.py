"""What `tongban mapping try` shows: one record through one mapping, field by field.

For every canonical field: the value it got, the source field(s) it came from and their value
as read, the transforms and code table on the way, and whether a const or the default gave it;
then the errors, each with the canonical path, the source path and the value, masked. Unlike the
hub, which stops at the first field that fails (the record is dead-lettered whole), this maps
every field, so that one try shows every problem of a record."""
from __future__ import annotations

import json
from decimal import Decimal
from dataclasses import dataclass, field as dc_field

from hub.model.masking import mask, mask_text, mask_value

from .base import MISSING, FieldError, compile_path
from .compiler import Mapping
from .errors import RecordError
from .samples import VOLATILE


@dataclass
class Trial:
    mapping: str
    condition: str
    condition_holds: bool
    output: dict | None = None                           # the envelope, masked, without volatile fields
    lineage: list[dict] = dc_field(default_factory=list)
    errors: list[dict] = dc_field(default_factory=list)   # {stage, target, source, reason, value}

    @property
    def ok(self) -> bool:
        return self.output is not None and not self.errors

    def as_dict(self) -> dict:
        return {"mapping": self.mapping, "condition": self.condition, "condition_holds": self.condition_holds,
                "ok": self.ok, "output": self.output, "lineage": self.lineage, "errors": self.errors}


def _show(target: str, source: str | None, value):
    """Masked by the canonical field's name, else by the source field's (lerepCertno, linkPhone)."""
    if value is MISSING:
        return None
    if isinstance(value, Decimal):    # exact JSON numbers (hub.exactjson) as written
        return str(value)
    parts = target.split(".")
    if len(parts) == 3 and parts[0] == "materials" and parts[2] == "name" and isinstance(value, str):
        return mask_text(value)   # a material's name (申请书) is no person's: masked as free text only
    shown = mask_value(target, value)
    if shown == value and source:
        shown = mask_value(source, value)
    return shown if isinstance(shown, (str, int, float, bool)) or shown is None else json.dumps(
        mask(shown), ensure_ascii=False, default=str)


def _payload_value(payload: dict | None, target: str):
    cur = payload
    for p in target.split("."):
        if isinstance(cur, list) and p.isdigit() and int(p) < len(cur):
            cur = cur[int(p)]
        elif isinstance(cur, dict) and p in cur:
            cur = cur[p]
        else:
            return MISSING
    return cur


def _row(target: str, lineage: dict, raw, value, payload) -> dict:
    source = lineage.get("source")
    if "const" in lineage:
        how = "const"
    elif raw is MISSING or raw is None:
        how = "default" if "default" in lineage else "missing"
    else:
        how = "source"
    final = _payload_value(payload, target) if payload is not None else MISSING
    return {"target": target, "value": _show(target, source, value if final is MISSING else final),
            "source": source, "source_value": _show(target, source, raw), "from": how,
            "transforms": lineage.get("transforms", []), "code_table": lineage.get("code_table")}


def _error(exc: FieldError, target: str) -> dict:
    return {"stage": exc.stage, "target": exc.target or target, "source": exc.field, "reason": exc.reason,
            "value": exc.value}


def _trace_field(target: str, getter, record: dict, payload, rows: list, errors: list) -> None:
    lineage = getattr(getter, "lineage", {"source": None, "transforms": []})
    if lineage.get("each"):
        items = compile_path(lineage["source"])(record)
        try:
            getter(record)
        except FieldError as exc:
            errors.append(_error(exc, target))
        if not isinstance(items, list):
            rows.append(_row(target, {"source": lineage["source"], "transforms": []}, items, [], payload))
            return
        for i, item in enumerate(items):
            for path, sub in getter.item_getters:
                name = ".".join(path)
                sub_lineage = dict(sub.lineage)
                if sub_lineage.get("source"):
                    sub_lineage["source"] = f"{lineage['source']}.{i}.{sub_lineage['source']}"
                raw = compile_path(sub.lineage["source"])(item) if sub.lineage.get("source") else MISSING
                try:
                    value = sub(item) if isinstance(item, dict) else None
                except FieldError:
                    value = None     # its error is the list's, recorded above
                rows.append(_row(f"{target}.{i}.{name}", sub_lineage, raw, value, payload))
        return
    raw = compile_path(lineage["source"])(record) if lineage.get("source") else MISSING
    try:
        value = getter(record)
    except FieldError as exc:
        errors.append(_error(exc, target))
        value = None
    rows.append(_row(target, lineage, raw, value, payload))


def trial(mapping: Mapping, record: dict) -> Trial:
    try:
        holds = bool(mapping.when(record))
    except Exception:
        holds = False
    result = Trial(mapping.ref, mapping.condition, holds)
    if not isinstance(record, dict):
        result.errors.append({"stage": "map", "target": None, "source": "(record)", "value": None,
                              "reason": f"a record is a JSON object, not a {type(record).__name__}"})
        return result
    payload = None
    try:
        env = mapping.run(record)
        data = json.loads(env.model_dump_json())
        for key in VOLATILE:
            data.pop(key, None)
        payload = data["payload"]
        result.output = mask(data)
    except RecordError as err:
        if err.stage == "validate":
            by_target = {t: getattr(g, "lineage", {}).get("source") for t, g in mapping.targets}
            for p in err.problems:
                result.errors.append({"stage": "validate", "target": p["field"], "source": by_target.get(p["field"]),
                                      "reason": p["reason"], "value": p["value"]})
    field_errors: list[dict] = []
    for target, getter in mapping.targets:
        _trace_field(target, getter, record, payload, result.lineage, field_errors)
    for name, getter in mapping.envelope_fields.items():
        _trace_field(f"(envelope).{name}", getter, record, None, result.lineage, field_errors)
    for key_name, render in (("(record_key)", mapping.record_key), ("(record_version)", mapping.record_version)):
        try:
            render(record)
        except FieldError as exc:
            field_errors.append(_error(exc, key_name))
    result.errors = field_errors + result.errors
    if not holds:
        result.errors.append({"stage": "map", "target": None, "source": mapping.condition_path, "value": None,
                              "reason": f"the mapping's condition does not hold ({mapping.condition}): the hub "
                                        f"would not use this mapping for this record"})
    return result
