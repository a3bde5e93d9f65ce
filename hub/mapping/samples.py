"""Sample-fixture runner (`tongban mapping test`): every mappings/<dept>/samples/NAME.input.json
is mapped and compared with NAME.expected.json.

Expected is either the list of canonical envelopes (without the fields that change per
run: produced_at, trace_id, signature) or {"error": {"stage": ..., "fields": [...]}} for a
record that must be refused. A failure prints a unified diff."""
from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from pathlib import Path

from hub import exactjson

from .errors import RecordError
from .registry import MappingSet

VOLATILE = ("produced_at", "trace_id", "signature")


@dataclass
class SampleResult:
    name: str
    ok: bool
    diff: str = ""


def canonical_output(mappings: MappingSet, system: str, record: dict) -> object:
    try:
        envelopes = mappings.apply(system, record)
    except RecordError as err:
        return {"error": {"stage": err.stage, "fields": sorted({p["field"] for p in err.problems})}}
    out = []
    for env in envelopes:
        data = json.loads(env.model_dump_json())
        for key in VOLATILE:
            data.pop(key, None)
        out.append(data)
    return out


def _dump(value) -> list[str]:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True).splitlines(keepends=True)


def run_samples(root: str | Path, mappings: MappingSet | None = None) -> list[SampleResult]:
    root = Path(root)
    mappings = mappings or MappingSet.load(root)
    results = []
    for dept_dir in sorted(p for p in root.iterdir() if (p / "samples").is_dir()):
        systems = {m.system for m in mappings.mappings if m.path and m.path.parent == dept_dir}
        if len(systems) != 1:
            results.append(SampleResult(dept_dir.name, False, f"{dept_dir}: expected one system, found {systems}"))
            continue
        system = systems.pop()
        for inp in sorted((dept_dir / "samples").glob("*.input.json")):
            name = f"{dept_dir.name}/{inp.name[: -len('.input.json')]}"
            exp_path = inp.with_name(inp.name.replace(".input.json", ".expected.json"))
            if not exp_path.exists():
                results.append(SampleResult(name, False, f"missing {exp_path.name}"))
                continue
            # inputs are read as the adapters read JSON: numbers exact (hub.exactjson)
            actual = canonical_output(mappings, system, exactjson.loads(inp.read_text(encoding="utf-8")))
            expected = json.loads(exp_path.read_text(encoding="utf-8"))
            if actual == expected:
                results.append(SampleResult(name, True))
            else:
                diff = "".join(difflib.unified_diff(_dump(expected), _dump(actual), "expected", "actual"))
                results.append(SampleResult(name, False, diff))
    return results
