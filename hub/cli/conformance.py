"""`tongban adapters check NAME --conformance`: the conformance suite's table (or --json); exit 1
on any failure. The suite runs on the settings' broker, on an exchange of its own."""
from __future__ import annotations

import json
import sys

from hub.config import load_settings


def render(name: str, results) -> str:
    width = max(len(r.check) for r in results)
    lines = [f"conformance of adapter {name}"]
    for r in results:
        lines.append(f"  {'PASS' if r.ok else 'FAIL'}  {r.check:<{width}}  {r.seconds:6.2f} s  {r.reason}")
    failed = sum(not r.ok for r in results)
    lines.append(f"{len(results) - failed} passed, {failed} failed")
    return "\n".join(lines)


def _table(name: str, results) -> None:
    from rich.console import Console
    from rich.table import Table
    table = Table(title=f"conformance of adapter {name}")
    for col in ("check", "result", "seconds", "reason"):
        table.add_column(col, overflow="fold")
    for r in results:
        table.add_row(r.check, "[green]PASS[/]" if r.ok else "[red]FAIL[/]", f"{r.seconds:.2f}", r.reason)
    Console(file=sys.stdout).print(table)


def conformance(args) -> int:
    from hub.kit.conformance import run
    settings = load_settings(args.config)
    only = [c.strip() for c in (args.only or "").split(",") if c.strip()] or None
    results = run(args.name, broker_url=settings.get("broker_url"), only=only,
                  mappings_dir=settings.get("mappings_dir"), page_budget=args.page_budget)
    ok = all(r.ok for r in results)
    if args.json:
        print(json.dumps({"adapter": args.name, "ok": ok, "results": [r.as_dict() for r in results]},
                         ensure_ascii=False, indent=2))
    elif sys.stdout.isatty():
        _table(args.name, results)
    else:
        print(render(args.name, results))
    return 0 if ok else 1
