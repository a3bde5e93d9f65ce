"""The five adapters in adapters/ pass the conformance suite on the real broker, and the CLI
reports it as a table, as JSON, and by its exit status."""
from __future__ import annotations

import json

import pytest

from hub.cli.main import main
from hub.kit.conformance import CHECKS, run


@pytest.mark.parametrize("name", ["commerce", "ndrc", "housing", "land", "platform"])
def test_the_builtin_adapter_passes_every_check(name, broker_url):
    results = run(name, broker_url=broker_url, cases=2)
    assert [r.check for r in results] == list(CHECKS)
    assert all(r.ok for r in results), "\n".join(f"{r.check}: {r.reason}" for r in results if not r.ok)



def test_the_cli_prints_json_and_exits_by_the_verdict(broker_url, capsys, monkeypatch):
    monkeypatch.setenv("TONGBAN_BROKER_URL", broker_url)
    assert main(["adapters", "check", "platform", "--conformance", "--only", "spec,cursor", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] and [r["check"] for r in out["results"]] == ["spec", "cursor"]
    # a budget no page can meet: exit 1 and the reason in the plain table
    assert main(["adapters", "check", "platform", "--conformance", "--only", "timing", "--page-budget", "0"]) == 1
    text = capsys.readouterr().out
    assert "FAIL  timing" in text and "over the page budget" in text and "0 passed, 1 failed" in text
