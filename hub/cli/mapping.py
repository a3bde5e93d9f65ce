"""`tongban mapping try | docs`: a mapping file for people (`mapping test` is in commands.py).

try: one record (or each of a JSON list) through one mapping: the canonical output, the
lineage of every field (source, transforms, code table) and every error with its path, the
values masked. docs: a Markdown page per mapping and the reference of docs/mappings.md."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from hub.config import ROOT, load_settings

DOCS_DIR = ROOT / "docs" / "mappings"
REFERENCE_FILE = ROOT / "docs" / "mappings.md"


def _find(spec: str, directory: str | None, settings: dict):
    """A mapping by file path, or by name (name@version) in the mappings folder."""
    from hub.mapping import MappingSet, load_file
    if spec.endswith((".yaml", ".yml")) or Path(spec).is_file():
        return load_file(Path(spec))
    mappings = MappingSet.load(directory or settings["mappings_dir"]).mappings
    for m in mappings:
        if spec in (m.name, m.ref):
            return m
    from hub.mapping.errors import did_you_mean
    raise ValueError(f"no mapping named {spec!r} in {directory or settings['mappings_dir']}"
                     f"{did_you_mean(spec, [m.name for m in mappings])}")


def _records(path: str) -> list:
    from hub import exactjson
    data = exactjson.loads(Path(path).read_text(encoding="utf-8"))
    return data if isinstance(data, list) else [data]


def _table(trial) -> None:
    from rich.console import Console
    from rich.table import Table
    console = Console(file=sys.stdout, width=max(Console().width, 140), highlight=False, soft_wrap=False)
    table = Table(title=f"{trial.mapping}: lineage", show_lines=False)
    for col in ("canonical field", "value", "source", "as read", "transforms", "code table"):
        table.add_column(col, overflow="fold", no_wrap=col in ("canonical field", "source"))
    for row in trial.lineage:
        source = row["source"] or ("(const)" if row["from"] == "const" else "")
        value = "" if row["value"] is None else str(row["value"])
        if row["from"] == "default":
            value += "  (default)"
        table.add_row(row["target"], value, source, "" if row["source_value"] is None else str(row["source_value"]),
                      " > ".join(row["transforms"]), row["code_table"] or "")
    console.print(table)
    for e in trial.errors:
        where = " <- ".join(p for p in (e["target"], e["source"]) if p)
        value = "" if e["value"] is None else f" (value {e['value']!r})"
        print(f"ERROR {e['stage']}: {where}: {e['reason']}{value}")   # one line each, never wrapped


def try_(args) -> int:
    from hub.mapping.lineage import trial
    settings = load_settings(args.config)
    mapping = _find(args.mapping, args.directory, settings)
    trials = [trial(mapping, r) for r in _records(args.input)]
    if args.json:
        out = [t.as_dict() for t in trials]
        print(json.dumps(out if len(out) > 1 else out[0], ensure_ascii=False, indent=2, default=str))
    else:
        for t in trials:
            if t.output is not None:
                print(json.dumps(t.output, ensure_ascii=False, indent=2, default=str))
            _table(t)
            print("ok" if t.ok else f"{len(t.errors)} error(s)")
    return 0 if all(t.ok for t in trials) else 1


def _targets(args, settings) -> tuple[dict[Path, str], Path]:
    from hub.mapping import MappingSet
    from hub.mapping.docs import pages, with_reference
    root = Path(args.directory or settings["mappings_dir"])
    out = Path(args.out) if args.out else DOCS_DIR
    files = {out / name: text for name, text in pages(MappingSet.load(root).mappings, root).items()}
    if not args.out:   # the hub's own docs: the language reference in docs/mappings.md too
        files[REFERENCE_FILE] = with_reference(REFERENCE_FILE.read_text(encoding="utf-8"))
    return files, out


def docs(args) -> int:
    settings = load_settings(args.config)
    files, out = _targets(args, settings)
    if args.check:
        stale = [p for p, text in files.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
        extra = sorted(p for p in out.glob("*.md") if p not in files) if out.is_dir() else []
        for p in stale:
            print(f"out of date: {p}")
        for p in extra:
            print(f"no mapping for: {p}")
        print("up to date" if not stale and not extra else "run `tongban mapping docs` and commit the result")
        return 1 if stale or extra else 0
    out.mkdir(parents=True, exist_ok=True)
    for p in sorted(p for p in out.glob("*.md") if p not in files):
        p.unlink()   # a page of a mapping that is gone
    for p, text in files.items():
        p.write_text(text, encoding="utf-8")
    written = [str(p) for p in files]
    print(json.dumps({"written": written}, ensure_ascii=False) if args.json else "\n".join(written))
    return 0


def register(ms) -> None:
    t = ms.add_parser("try", help="map one record (a JSON file) and show the output, each field's lineage "
                                  "and every error with its path")
    t.add_argument("mapping", help="a mapping file, or a mapping's name (commerce.case_event) in the mappings folder")
    t.add_argument("--input", required=True, help="a JSON file: one record, or a list of records")
    t.add_argument("--directory", help="the mappings folder to find a name in (default: mappings_dir)")
    t.add_argument("--json", action="store_true")
    t.set_defaults(func=try_)
    d = ms.add_parser("docs", help="write a Markdown page per mapping (default docs/mappings/, and the reference "
                                   "section of docs/mappings.md)")
    d.add_argument("directory", nargs="?", help="the mappings folder (default: mappings_dir)")
    d.add_argument("--out", help="where the pages go (default docs/mappings/)")
    d.add_argument("--check", action="store_true", help="only say whether the written pages are current (exit 1 if not)")
    d.set_defaults(func=docs)
