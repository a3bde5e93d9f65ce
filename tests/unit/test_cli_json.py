"""--json on every command that prints a report, and its output is JSON."""
from __future__ import annotations

import json
import subprocess
import sys

from hub.cli import output
from hub.cli.main import build_parser
from tests.conftest import ROOT


def test_every_reporting_command_takes_json():
    leaves = list(output.leaf_parsers(build_parser()))
    assert len(leaves) > 20
    missing = [p.prog for p in leaves if p.prog not in output.NO_REPORT
               and not any("--json" in a.option_strings for a in p._actions)]
    assert not missing, missing


def _json_of(*args) -> object:
    done = subprocess.run([sys.executable, "-m", "hub.cli.main", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def test_text_commands_answer_in_json(tmp_path):
    adapters = _json_of("adapters", "list", "--json")
    assert {"commerce", "ndrc"} <= {a["name"] for a in adapters}
    written = _json_of("schema", "export", str(tmp_path), "--json")["written"]
    assert any(p.endswith("envelope.schema.json") for p in written)
