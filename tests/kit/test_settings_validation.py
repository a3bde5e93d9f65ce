"""Start-up validation of the adapters section (hub/adapter/settings.py) and how the CLI shows it."""
from __future__ import annotations

import pytest
import yaml

from hub.adapter.settings import SettingsError, validate
from hub.cli.main import main
from hub.config import load_settings


def test_the_shipped_settings_are_valid():
    resolved = validate(load_settings())
    assert resolved["commerce"]["poll_interval"] == 0.5 and resolved["commerce"]["max_record_bytes"] == 65536


def test_every_problem_of_every_adapter_is_listed_at_once():
    settings = {"adapters": {
        "comerce": {"url": "http://x"},                                            # misspelt adapter
        "commerce": {"url": "http://x", "page_sise": 5, "timeout": "soon"},
        "ndrc": {"url": "http://n", "tracks": {"new": {"atempts": 2}}},
        "land": {"enabled": False, "nonsense": 1},                                 # disabled: not read
    }}
    with pytest.raises(SettingsError) as info:
        validate(settings)
    problems = info.value.problems
    assert any(p.startswith("adapters.comerce: no adapter named 'comerce'") and "did you mean 'commerce'" in p
               for p in problems)
    assert any("adapters.commerce: unknown setting page_sise; did you mean 'page_size'?" in p for p in problems)
    assert any("adapters.commerce: setting timeout must be a number" in p for p in problems)
    assert any(p.startswith("adapters.ndrc.tracks.new: unknown setting atempts; did you mean 'attempts'?")
               for p in problems)
    assert not any(p.startswith("adapters.land") for p in problems)


def test_tongban_run_refuses_to_start_with_bad_settings(tmp_path, capsys):
    settings = yaml.safe_load(open(load_settings.__globals__["DEFAULT_FILE"], encoding="utf-8"))
    settings["adapters"]["housing"]["db_url"] = ["postgresql://spgl:Sup3rSecret@db/x"]
    settings["adapters"]["commerce"]["pol_interval"] = 1
    settings["broker_url"] = "amqp://guest:guest@127.0.0.1:1//"   # never reached: refused before
    path = tmp_path / "hub.yaml"
    path.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    assert main(["--config", str(path), "run"]) == 2
    err = capsys.readouterr().err
    assert "adapters.commerce: unknown setting pol_interval; did you mean 'poll_interval'?" in err
    assert "adapters.housing: setting db_url must be text" in err and "Sup3rSecret" not in err


def test_adapters_check_of_a_misspelt_name_says_did_you_mean(capsys):
    assert main(["adapters", "describe", "nrdc"]) == 2
    assert "did you mean 'ndrc'?" in capsys.readouterr().err
