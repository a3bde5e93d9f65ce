"""Compiles a mapping file (YAML) once into a Mapping: plain callables, no interpretation per record.

File shape (see mappings/commerce/*.yaml):
  name, version, department, system, kind, description
  when:           optional condition: {path, equals | in}
  record_key:     template naming the source record, e.g. "{eventId}"
  record_version: template of its version, e.g. "{updatedAt}" (a changed record gets a new id)
  envelope:       optional field specs for sequence / case_no when the payload has none
  fields:         target path (dotted, into the canonical payload) -> field spec
  code_tables:    name -> {source code: canonical value}
  sequence, versions: how the department numbers steps and sends corrections (docs/mappings.md)
A key the engine does not know, a transform, code table or field spec key it does not know are
errors naming the file, the line and the key, with the nearest known name (errors.py)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field as dc_field
from pathlib import Path
from typing import Any, Callable

from pydantic import ValidationError

from hub.model import MODELS, Envelope, Source, message_id
from hub.model.envelope import SCHEMA_VERSION, now
from hub.model.errors import describe

from . import lossy
from . import yamlfile
from .errors import MappingFileError, RecordError, SpecError, did_you_mean
from .spec import (FieldError, compile_condition, compile_field, compile_template, condition_paths,
                   describe_condition)

_TIME_FIELDS = ("occurred_at", "issued_at", "submitted_at", "accepted_at")


SEQUENCE_MODES = ("gap_free", "ordered", "none")
TOP_KEYS = ("name", "version", "department", "system", "kind", "description", "when", "record_key",
            "record_version", "envelope", "fields", "code_tables", "sequence", "versions")
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
    # (target path, compiled field) in file order, and the document: for lineage and docs
    targets: list[tuple[str, Callable]] = dc_field(default_factory=list)
    doc: dict = dc_field(default_factory=dict)
    lines: dict = dc_field(default_factory=dict)     # {key path: line in the file} (yamlfile.py)

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


def compile_mapping(doc: dict, path: Path | None = None, lines: dict | None = None) -> Mapping:
    """Compile a mapping document. `lines` ({key path: line}, yamlfile.py) lets an error name the
    line of the key it is about; without it the error names the file and the key."""
    where = f"{path}" if path else "mapping"
    if not isinstance(doc, dict):
        raise MappingFileError(where, f"a mapping file must be a YAML mapping, got {type(doc).__name__}")
    try:
        mapping = _compile(doc, path)
        mapping.lines = dict(lines or {})
        return mapping
    except SpecError as exc:
        raise MappingFileError(where, exc.message, exc.key, yamlfile.line_of(lines or {}, exc.key)) from None
    except MappingFileError:
        raise
    except ValueError as exc:
        raise MappingFileError(where, str(exc)) from None
    except (KeyError, TypeError, AttributeError) as exc:
        raise MappingFileError(where, f"malformed mapping ({exc.__class__.__name__}: {exc})") from None


def _one_of(doc: dict, key: str, allowed: tuple, default: str) -> str:
    value = doc.get(key, default)
    if value not in allowed:
        raise SpecError(f"{key} must be one of {', '.join(allowed)}, got {value!r}{did_you_mean(value, allowed)}",
                        (key,))
    return value


def _compile(doc: dict, path: Path | None) -> Mapping:
    for key in ("name", "version", "department", "system", "kind", "record_key", "fields"):
        if key not in doc:
            raise SpecError(f"missing top-level key {key!r}")
    unknown = sorted(set(map(str, doc)) - set(TOP_KEYS))
    if unknown:
        raise SpecError(f"unknown top-level key {unknown[0]!r}{did_you_mean(unknown[0], TOP_KEYS)} "
                        f"(known: {', '.join(TOP_KEYS)})", (unknown[0],))
    if doc["kind"] not in MODELS or doc["kind"] == "envelope":
        kinds = [k for k in MODELS if k != "envelope"]
        raise SpecError(f"unknown kind {doc['kind']!r}{did_you_mean(doc['kind'], kinds)} (known: {', '.join(kinds)})",
                        ("kind",))
    try:
        version = int(doc["version"])
    except (TypeError, ValueError):
        raise SpecError(f"version must be a whole number, got {doc['version']!r}", ("version",)) from None
    tables = doc.get("code_tables") or {}
    if not isinstance(tables, dict):
        raise SpecError("code_tables must be a mapping of table names to {code: value}", ("code_tables",))
    if not isinstance(doc["fields"], dict) or not doc["fields"]:
        raise SpecError("fields must be a mapping of canonical paths to field specs", ("fields",))
    sequence = _one_of(doc, "sequence", SEQUENCE_MODES, "gap_free")
    versions = _one_of(doc, "versions", VERSION_MODES, "conflict")
    targets = [(str(t), compile_field(str(t), spec, tables, ("fields", t))) for t, spec in doc["fields"].items()]
    envelope_fields = {k: compile_field(k, spec, tables, ("envelope", k)) for k, spec in (doc.get("envelope") or {}).items()}
    nested = [(tuple(t.split(".")), f) for t, f in targets]
    return Mapping(
        name=doc["name"], version=version, department=doc["department"], system=doc["system"],
        kind=doc["kind"], description=doc.get("description", ""), path=path,
        when=compile_condition(doc.get("when")),
        record_key=compile_template(str(doc["record_key"]), ("record_key",)),
        record_version=compile_template(str(doc.get("record_version", "1")), ("record_version",)),
        build=_nest(nested), envelope_fields=envelope_fields, condition=describe_condition(doc.get("when")),
        condition_path=",".join(dict.fromkeys(condition_paths(doc.get("when")))) or None,
        sequence=sequence, versions=versions,
        case_no_field=envelope_fields.get("case_no") or dict(targets).get("case_no"),
        targets=targets, doc=doc,
    )


def load_file(path: Path) -> Mapping:
    doc, lines = yamlfile.load_path(Path(path))
    return compile_mapping(doc, Path(path), lines)
