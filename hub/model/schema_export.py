"""Standard JSON Schema of every canonical model (`tongban schema export DIR`).

pydantic's schemas are the start; what a strict consumer needs is added once here:
Draft 2020-12 (`$schema`), a stable versioned `$id` under the project's namespace, enums
for `kind` and `schema_name`, and `oneOf` + `const` where pydantic writes its own
`discriminator` keyword (not JSON Schema). The envelope is one variant per kind, each
naming its kind, schema name and version as constants and what `case_no` and `sequence`
are for that kind (docs/wire.md):

- case_event: the case number and the case's step number (1, 2, ...);
- certificate: the case number that issued it and, as `sequence`, the number of the
  case step that issued it: a reference to that step (on the province's stream the
  decision and its certificate share the number; (kind, sequence) is unique per case);
- application: neither (null); the platform's `payload.application_no` is its reference;
- service_item: neither; case: the case number, no sequence.

The schemas are built when asked for (export, the AsyncAPI document, tests), never on a
message's path."""
from __future__ import annotations

import copy
import json
from pathlib import Path

from . import MODELS
from .envelope import SCHEMA_VERSION

DRAFT = "https://json-schema.org/draft/2020-12/schema"
BASE = "https://tongban-hub.github.io/schemas"   # the project's namespace; v<N> is the schema version
KINDS = ("case_event", "certificate", "case", "application", "service_item")
RECEIPT_TYPES = ("accepted", "rejected")   # a department's answer to an application (mappings/*/receipt.yaml)


def schema_id(name: str, version: int = SCHEMA_VERSION) -> str:
    return f"{BASE}/v{version}/{name}.schema.json"


def schema_name_of(kind: str) -> str:
    return f"tongban.{kind}"


def _standard(node):
    """pydantic's non-standard keywords out (discriminator: the oneOf's consts do its work)."""
    if isinstance(node, dict):
        return {k: _standard(v) for k, v in node.items() if k != "discriminator"}
    if isinstance(node, list):
        return [_standard(v) for v in node]
    return node


def _head(name: str, body: dict, version: int) -> dict:
    return {"$schema": DRAFT, "$id": schema_id(name, version), **body}


def _title(kind: str) -> str:
    return "".join(p.capitalize() for p in kind.split("_"))


_NULL = {"type": "null"}
_CASE_NO = {"type": "string", "minLength": 1, "maxLength": 100}
_STEP = {"type": "integer", "minimum": 1}
_PER_KIND = {   # kind -> (case_no, sequence, required too)
    "case_event": (dict(_CASE_NO, description="the case's number (办件编号)"),
                   dict(_STEP, description="the case's step number, 1-based: the same as payload.sequence"), True),
    "certificate": (dict(_CASE_NO, description="the number of the case that issued the certificate"),
                    dict(_STEP, description="a reference: the sequence of the case step (case_event) that "
                                            "issued the certificate, not a step of its own"), True),
    "case": (dict(_CASE_NO, description="the case's number"), _NULL, True),
    "application": (dict(_NULL, description="an application has no case yet: payload.application_no is its "
                                            "reference"), dict(_NULL, description="an application is no step"),
                    False),
    "service_item": (_NULL, _NULL, False),
}


def envelope_schema(version: int = SCHEMA_VERSION) -> dict:
    base = _standard(MODELS["envelope"].model_json_schema())
    defs = base.pop("$defs")
    variants = []
    for kind in KINDS:
        props = copy.deepcopy(base["properties"])
        case_no, sequence, required = _PER_KIND[kind]
        props["kind"] = {"const": kind}
        props["schema_name"] = {"const": schema_name_of(kind)}
        props["schema_version"] = {"const": version}
        props["case_no"], props["sequence"] = case_no, sequence
        props["payload"] = {"$ref": f"#/$defs/{_title(kind)}"}
        req = list(base["required"]) + ["schema_version"]
        if required:
            req += ["case_no"] + (["sequence"] if sequence is not _NULL else [])
        name = f"{_title(kind)}Envelope"
        defs[name] = {"title": name, "type": "object", "additionalProperties": False, "properties": props,
                      "required": req}
        variants.append({"$ref": f"#/$defs/{name}"})
    body = {
        "title": "Envelope",
        "description": "A canonical message of Tongban Hub: identity, lineage and routing facts around one "
                       "payload. One variant per kind (oneOf, told apart by the const kind).",
        "type": "object",
        "properties": {"kind": {"enum": list(KINDS)},
                       "schema_name": {"enum": [schema_name_of(k) for k in KINDS]}},
        "required": ["kind", "schema_name"],
        "oneOf": variants,
        "$defs": defs,
    }
    return _head("envelope", body, version)


def receipt_schema(version: int = SCHEMA_VERSION) -> dict:
    """A department's answer to an application (受理 / 不予受理): a case_event envelope whose
    step is 1 and whose type is accepted or rejected."""
    env = envelope_schema(version)
    defs = env["$defs"]
    variant = copy.deepcopy(defs["CaseEventEnvelope"])
    variant["properties"]["sequence"] = {"const": 1}
    variant["properties"]["payload"] = {"allOf": [{"$ref": "#/$defs/CaseEvent"},
                                                  {"properties": {"type": {"enum": list(RECEIPT_TYPES)},
                                                                  "sequence": {"const": 1}}}]}
    body = {k: v for k, v in variant.items() if k != "title"}
    return _head("receipt", {"title": "Receipt", "description": variant_doc(), **body, "$defs": defs}, version)


def variant_doc() -> str:
    return ("A department's receipt of an application (routing key <dept>.case_event.accepted or "
            ".rejected): the case's first step.")


def model_schema(name: str, version: int = SCHEMA_VERSION) -> dict:
    if name == "envelope":
        return envelope_schema(version)
    if name == "receipt":
        return receipt_schema(version)
    return _head(name, _standard(MODELS[name].model_json_schema()), version)


def schemas(version: int = SCHEMA_VERSION) -> dict[str, dict]:
    """Every canonical schema by name (the file is <name>.schema.json)."""
    return {name: model_schema(name, version) for name in [*MODELS, "receipt"]}


def dumps(schema: dict) -> str:
    return json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=False) + "\n"


def export(directory: str | Path, extra: dict[str, dict] | None = None) -> list[Path]:
    """Write every schema (and `extra` ones: the wire's headers, hub/ops/contract.py) to DIRECTORY."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in {**schemas(), **(extra or {})}.items():
        path = out / f"{name}.schema.json"
        path.write_text(dumps(schema), encoding="utf-8")
        written.append(path)
    return written
