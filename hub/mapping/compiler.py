"""Compiles a mapping file (YAML) once into a Mapping: plain callables, no interpretation per record.

File shape (see mappings/commerce/*.yaml):
  name, version, department, system, kind, description
  when:           optional condition: {path, equals | in}
  record_key:     template naming the source record, e.g. "{eventId}"
  record_version: template of its version, e.g. "{updatedAt}" (a changed record gets a new id)
  envelope:       optional field specs for sequence / case_no when the payload has none
  fields:         target path (dotted, into the canonical payload) -> field spec
  code_tables:    name -> {source code: canonical value}"""
from __future__ import annotations

import os
from dataclasses import dataclass, field as dc_field
from pathlib import Path
from typing import Any, Callable

import yaml
from pydantic import ValidationError

from hub.model import MODELS, Envelope, Source, message_id
from hub.model.envelope import SCHEMA_VERSION, now
from hub.model.errors import describe

from . import lossy
from .errors import RecordError
from .spec import (FieldError, compile_condition, compile_field, compile_template, condition_paths,
                   describe_condition)

_TIME_FIELDS = ("occurred_at", "issued_at", "submitted_at", "accepted_at")


SEQUENCE_MODES = ("gap_free", "ordered", "none")
VERSION_MODES = ("conflict", "supersede")


@dataclass
class Mapping:
    name: str
    version: int
    department: str
    system: str
    kind: str
    description: str
    path: Path | None
    when: Callable[[dict], bool]
    record_key: Callable[[dict], str]
    record_version: Callable[[dict], str]
    build: Callable[[dict], dict]
    envelope_fields: dict[str, Callable[[dict], Any]] = dc_field(default_factory=dict)
    condition: str = "always"
    condition_path: str | None = None
    # How the department numbers a case's steps (hub/runtime/sequence.py): gap_free (1, 2,
    # 3, ...: a missing step is waited for), ordered (increasing, with gaps: a step that
    # comes after a later one is refused), none (no order to keep by number)
    sequence: str = "gap_free"
    # A record (or a case's step) sent again with other content (hub/runtime/conflicts.py):
    # conflict (the default: dead-lettered, both versions shown) or supersede (delivered as
    # an update of the version before, which the destination replaces)
    versions: str = "conflict"
    # The compiled `case_no` field (of envelope:, else of fields:): what the hub reads off a record
    # it cannot map, so that record's dead letter still holds its case (hub/runtime/hold.py)
    case_no_field: Callable[[dict], Any] | None = None

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    def key_of(self, record: dict) -> str | None:
        try:
            return self.record_key(record)
        except FieldError:
            return None

    def run(self, record: dict, track: str = "old", trace_id: str | None = None) -> Envelope:
        """Map and validate one record. Raises RecordError (stage decode for lossy text, map or
        validate)."""
        lossy.start()
        try:
            key = self.record_key(record)
            version = self.record_version(record)
            payload_dict = self.build(record)
            extra = {k: f(record) for k, f in self.envelope_fields.items()}
        except FieldError as exc:
            lossy.collected()
            raise RecordError(exc.stage, self.ref, self.key_of(record),
                              [{"record": self.key_of(record), "field": exc.field, "reason": exc.reason, "value": exc.value}]) from None
        except Exception as exc:  # a record shaped in a way no spec foresaw must not stall the feed
            lossy.collected()
            raise RecordError("map", self.ref, self.key_of(record), [{
                "record": self.key_of(record), "field": "(record)", "value": None,
                "reason": f"record cannot be mapped: {exc.__class__.__name__}"}]) from None
        flags = lossy.collected()
        try:
            payload = MODELS[self.kind].model_validate(payload_dict)
        except ValidationError as exc:
            raise RecordError("validate", self.ref, key, describe(exc, key)) from None
        produced = now()
        occurred = next((getattr(payload, f) for f in _TIME_FIELDS if getattr(payload, f, None)), produced)
        # Built with model_construct: every part was validated above, and this is the hot path.
        return Envelope.model_construct(
            message_id=message_id(self.system, self.name, key, version, track),
            schema_name=f"tongban.{self.kind}",
            schema_version=SCHEMA_VERSION,
            kind=self.kind,
            source=Source.model_construct(department=self.department, system=self.system, track=track),
            case_no=extra.get("case_no", getattr(payload, "case_no", None)),
            sequence=extra.get("sequence", getattr(payload, "sequence", None)),
            mapping=self.ref,
            record_key=key,
            occurred_at=occurred,
            produced_at=produced,
            # 32 random hex digits, as uuid4().hex gives, at a third of its cost (a record's hot path)
            trace_id=trace_id or os.urandom(16).hex(),
            signature=None,
            flags=flags,
            payload=payload,
        )


FREE_FORM = ("attributes", "form")


def _nest(targets: list[tuple[tuple[str, ...], Callable]]) -> Callable[[dict], dict]:
    """Turn [(("applicant","name"), getter), ...] into one function building the nested dict."""
    tops = sorted({path[0] for path, _ in targets if len(path) > 1})
    def build(record: dict) -> dict:
        out: dict = {}
        for path, getter in targets:
            value = getter(record)
            cur = out
            for p in path[:-1]:
                cur = cur.setdefault(p, {})
            cur[path[-1]] = value
        # An optional sub-object whose every field is none is absent, not a half-filled object;
        # a free-form map (attributes, form) keeps its set entries only.
        for top in tops:
            sub = out.get(top)
            if isinstance(sub, dict):
                if top in FREE_FORM:
                    out[top] = {k: v for k, v in sub.items() if v is not None}
                elif all(v is None for v in sub.values()):
                    out[top] = None
        return out
    return build


def compile_mapping(doc: dict, path: Path | None = None) -> Mapping:
    where = f"{path}" if path else "mapping"
    if not isinstance(doc, dict):
        raise ValueError(f"{where}: a mapping file must be a YAML mapping, got {type(doc).__name__}")
    try:
        return _compile(doc, where, path)
    except ValueError as exc:
        raise ValueError(str(exc) if str(exc).startswith(where) else f"{where}: {exc}") from None
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"{where}: malformed mapping ({exc.__class__.__name__}: {exc})") from None


def _compile(doc: dict, where: str, path: Path | None) -> Mapping:
    for key in ("name", "version", "department", "system", "kind", "record_key", "fields"):
        if key not in doc:
            raise ValueError(f"{where}: missing top-level key {key!r}")
    if doc["kind"] not in MODELS or doc["kind"] == "envelope":
        raise ValueError(f"{where}: unknown kind {doc['kind']!r}")
    tables = doc.get("code_tables") or {}
    sequence = doc.get("sequence", "gap_free")
    if sequence not in SEQUENCE_MODES:
        raise ValueError(f"{where}: sequence must be one of {', '.join(SEQUENCE_MODES)}, got {sequence!r}")
    versions = doc.get("versions", "conflict")
    if versions not in VERSION_MODES:
        raise ValueError(f"{where}: versions must be one of {', '.join(VERSION_MODES)}, got {versions!r}")
    targets = [(tuple(t.split(".")), compile_field(t, spec, tables)) for t, spec in doc["fields"].items()]
    envelope_fields = {k: compile_field(k, spec, tables) for k, spec in (doc.get("envelope") or {}).items()}
    return Mapping(
        name=doc["name"], version=int(doc["version"]), department=doc["department"], system=doc["system"],
        kind=doc["kind"], description=doc.get("description", ""), path=path,
        when=compile_condition(doc.get("when")),
        record_key=compile_template(str(doc["record_key"])),
        record_version=compile_template(str(doc.get("record_version", "1"))),
        build=_nest(targets), envelope_fields=envelope_fields, condition=describe_condition(doc.get("when")),
        condition_path=",".join(dict.fromkeys(condition_paths(doc.get("when")))) or None,
        sequence=sequence, versions=versions,
        case_no_field=envelope_fields.get("case_no") or dict(targets).get(("case_no",)),
    )


def load_file(path: Path) -> Mapping:
    with open(path, encoding="utf-8") as fh:
        return compile_mapping(yaml.safe_load(fh), path)
