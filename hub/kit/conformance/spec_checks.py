"""spec: the adapter declares itself fully (names, style, a documented config spec its simulator's
settings fit, the members its has_sink promises, mappings for its system).
samples: every sample pair of its department maps to the expected canonical output."""
from __future__ import annotations

import inspect
import re
from pathlib import Path

from hub.adapter import ConfigError, ConfigSpec, Sink, Source
from hub.mapping.registry import DEFAULT_DIR
from hub.mapping.samples import run_samples
from hub.model.common import DEPARTMENT_PATTERN

from .subject import Failed

STYLES = ("rest", "soap", "db", "file")


def _field_problems(fields, prefix: str = "") -> list[str]:
    problems = []
    for f in fields:
        where = prefix + f.name
        if len((f.description or "").split()) < 2:
            problems.append(f"setting {where} has no description (say what it is, in a few words)")
        if f.required and f.example is None:
            problems.append(f"setting {where} is required but has no example")
        if f.secret and f.default is not None:
            problems.append(f"setting {where} is secret but has a default (a secret in the code)")
        problems += _field_problems(f.fields, where + ".")
    return problems


def check_spec(subject) -> str:
    cls, problems = subject.cls, []
    for attr in ("name", "department", "system", "style"):
        if not isinstance(getattr(cls, attr, None), str) or not getattr(cls, attr):
            problems.append(f"class attribute {attr} is not set")
    if problems:
        raise Failed("; ".join(problems))
    if not re.match(DEPARTMENT_PATTERN, cls.department):
        problems.append(f"department {cls.department!r} is not a lower-case identifier")
    if cls.style not in STYLES:
        problems.append(f"style {cls.style!r} is not one of {', '.join(STYLES)}")
    if not inspect.getdoc(inspect.getmodule(cls)) and not (cls.__doc__ or "").strip():
        problems.append("neither the adapter class nor its module has a docstring saying what system it reads")
    if not isinstance(getattr(cls, "spec", None), ConfigSpec):
        raise Failed("; ".join(problems + ["spec is not a ConfigSpec"]))
    problems += _field_problems(cls.spec.fields)
    cls.spec.describe()   # what `tongban adapters describe` prints must build
    if not subject.mappings_for_system():
        problems.append(f"no mapping reads system {cls.system!r} (mappings name it in their system: key)")
    if problems:   # an adapter that does not declare itself is not built
        raise Failed("; ".join(problems))
    with subject.live() as live:
        try:
            adapter = live.adapter()
        except ConfigError as exc:
            raise Failed(f"the simulator's settings do not fit the spec: {exc}") from None
        source = adapter.source()
        if not isinstance(source, Source):
            problems.append(f"source() returned a {type(source).__name__}, not a hub.adapter.Source")
        source.close()
        sink = adapter.sink()
        if cls.has_sink and not isinstance(sink, Sink):
            problems.append(f"has_sink is True but sink() returned {type(sink).__name__}, not a hub.adapter.Sink")
        if not cls.has_sink and sink is not None:
            problems.append("sink() returns a sink but has_sink is False: the hub would never bind it")
        if sink is not None:
            sink.close()
    if problems:
        raise Failed("; ".join(problems))
    return f"{len(cls.spec.fields)} settings documented; {len(subject.mappings_for_system())} mapping(s) read " \
           f"{cls.system}"


def check_samples(subject) -> str:
    cls = subject.cls
    roots = [Path(cls.mappings_dir)] if cls.mappings_dir else []
    roots.append(subject.hub_mappings or DEFAULT_DIR)
    results = []
    for root in roots:
        if (root / cls.department / "samples").is_dir():
            results += [r for r in run_samples(root, subject.mappings) if r.name.startswith(f"{cls.department}/")]
    if not results:
        raise Failed(f"no sample pairs under mappings/{cls.department}/samples/ (NAME.input.json beside "
                     f"NAME.expected.json): the mapping has nothing that pins its output")
    bad = [r for r in results if not r.ok]
    if bad:
        first = bad[0].diff.strip().splitlines()
        raise Failed(f"{len(bad)} of {len(results)} sample(s) map to something else than expected: "
                     f"{', '.join(r.name for r in bad)}; first diff: {' | '.join(first[2:8])}")
    return f"{len(results)} sample pair(s) map as expected"
