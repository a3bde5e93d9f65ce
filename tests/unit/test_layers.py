"""hub/runtime sits below the CLI and the operator's tools (hub/ops, hub/cli): they call it,
never the reverse, so that running the hub does not pull in what only an operator uses."""
from __future__ import annotations

import ast
from pathlib import Path

RUNTIME = Path(__file__).resolve().parents[2] / "hub" / "runtime"
ABOVE = ("hub.ops", "hub.cli")


def _imported(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
    return out


def test_the_runtime_imports_nothing_above_it():
    wrong = {f"{p.name}: {m}" for p in RUNTIME.glob("*.py") for m in _imported(p)
             if any(m == a or m.startswith(a + ".") for a in ABOVE)}
    assert not wrong, sorted(wrong)
