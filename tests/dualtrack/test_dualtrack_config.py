"""config/dualtrack.yaml: the loader, its errors and the environment overrides."""
from __future__ import annotations

import os
import textwrap

import pytest

from hub.config import load_settings
from hub.dualtrack.config import DualTrackConfigError, departments, load_config


def _file(tmp_path, text: str) -> dict:
    p = tmp_path / "dt.yaml"
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return {"dualtrack_file": str(p)}


def test_the_shipped_file_loads():
    cfg = load_config({})
    assert set(cfg.departments) == set(departments())
    commerce = cfg.department("commerce")
    assert commerce.mode == "off" and commerce.lag_window == 300
    assert commerce.criteria.min_match_rate == 0.999 and commerce.criteria.min_pairs == 1000
    rules = commerce.rules("case_event")
    assert rules.unordered.get("payload.materials") == "name" and rules.is_critical("payload.type")
    # housing's step number is the reader's count of rows: its twins pair by record key, but its
    # receipts (each track's system writes its own row, own key) by step
    housing = cfg.department("housing")
    assert housing.pairing("housing.case_event@1") == housing.pairing("housing.certificate@1") == "record_key"
    assert housing.pairing("housing.receipt@1") == "sequence"
    assert {cfg.department(d).pairing("x.case_event@1") for d in departments() if d != "housing"} == {"sequence"}
    assert rules.ignored("message_id") and rules.ignored("source.track") and not rules.ignored("payload.type")


def test_department_settings_override_the_defaults_and_rules_add_up(tmp_path):
    cfg = load_config(_file(tmp_path, """
        lag_window: 120
        readiness: {min_pairs: 50}
        rules:
          "*": {ignore: [payload.opinion], critical: [payload.type]}
          case_event: {ignore: [payload.handler]}
        departments:
          housing:
            mode: shadow
            lag_window: 900
            readiness: {window_days: 3}
            rules:
              case_event: {ignore: [payload.attributes.*], critical: [payload.case_no]}
    """))
    housing, land = cfg.department("housing"), cfg.department("land")
    assert (housing.mode, housing.lag_window, land.mode, land.lag_window) == ("shadow", 900, "off", 120)
    assert housing.criteria.window_days == 3 and housing.criteria.min_pairs == 50 and land.criteria.window_days == 7
    r = housing.rules("case_event")
    assert r.ignored("payload.opinion") and r.ignored("payload.handler") and r.ignored("payload.attributes.x")
    assert r.is_critical("payload.type") and r.is_critical("payload.case_no")
    assert not land.rules("case_event").ignored("payload.attributes.x")
    assert housing.rules("certificate").ignored("payload.opinion") and not housing.rules("certificate").ignored(
        "payload.handler")


def test_a_bare_yaml_off_is_the_mode_off(tmp_path):
    assert load_config(_file(tmp_path, "departments:\n  land: {mode: off}\n")).department("land").mode == "off"


@pytest.mark.parametrize("text, message", [
    ("departments:\n  comerce: {mode: shadow}\n", "unknown department 'comerce'.*did you mean 'commerce'"),
    ("departments:\n  land: {mode: shdow}\n", r"departments.land.mode: 'shdow' is not a mode.*did you mean 'shadow'"),
    ("departments:\n  land: {mod: shadow}\n", r"departments.land: unknown key 'mod'; did you mean 'mode'"),
    ("lag_windw: 3\n", "unknown key 'lag_windw'; did you mean 'lag_window'"),
    ("lag_window: soon\n", "lag_window: expected a number"),
    ("readiness: {min_match_rate: 99.9}\n", "a fraction"),
    ("rules:\n  case_event: {tolerance: {payload.occurred_at: 5}}\n",
     r"rules.case_event.tolerance.payload.occurred_at: expected \{seconds"),
    ("departments:\n  land:\n    rules:\n      case_event: {unorderd: {}}\n",
     r"departments.land.rules.case_event: unknown key 'unorderd'; did you mean 'unordered'"),
    ("departments:\n  land: {pair_by: recordkey}\n",
     r"departments.land.pair_by: 'recordkey' is not a way to pair twins.*did you mean 'record_key'"),
    ("departments:\n  land: {pair_by: [record_key]}\n",
     r"departments.land.pair_by: expected one of sequence, record_key, or a mapping of mapping name"),
    ("departments:\n  land:\n    pair_by: {\"*\": step}\n", r"departments.land.pair_by.\*: 'step' is not a way"),
    ("departments:\n  land:\n    pair_by: {land.reciept: sequence}\n",
     r"departments.land.pair_by: no mapping named 'land.reciept'.*did you mean 'land.receipt'"),
    ("departments:\n  land:\n    pair_by: {land.receipt@1: sequence}\n", r"without its @version \('land.receipt'\)"),
    ("departments:\n  land:\n    pair_by: {receipt: sequence}\n", r"'receipt' is not a mapping name"),
    ("- a\n- b\n", "expected a mapping at the top"),
    ("a: [\n", "not valid YAML"),
])
def test_errors_name_the_file_the_place_and_a_fix(tmp_path, text, message):
    settings = _file(tmp_path, text)
    with pytest.raises(DualTrackConfigError, match=message) as err:
        load_config(settings)
    assert "dt.yaml" in str(err.value)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(DualTrackConfigError, match="not found"):
        load_config({"dualtrack_file": str(tmp_path / "nope.yaml")})


def test_environment_variables_override_the_file(tmp_path):
    path = _file(tmp_path, "departments:\n  commerce: {mode: shadow}\n")["dualtrack_file"]
    settings = load_settings(environ={
        "TONGBAN__DUALTRACK_FILE": path,
        "TONGBAN__DUALTRACK__LAG_WINDOW": "45",
        "TONGBAN__DUALTRACK__DEPARTMENTS__COMMERCE__MODE": "cutover",
        "TONGBAN__DUALTRACK__DEPARTMENTS__COMMERCE__READINESS__MIN_PAIRS": "20",
        "TONGBAN__DUALTRACK__DEPARTMENTS__COMMERCE__RULES__CASE_EVENT__IGNORE": "payload.handler,payload.opinion",
    })
    cfg = load_config(settings)
    commerce = cfg.department("commerce")
    assert (commerce.mode, commerce.lag_window, commerce.criteria.min_pairs) == ("cutover", 45, 20)
    assert commerce.rules("case_event").ignored("payload.opinion")


def test_pair_by_for_all_or_per_mapping_and_from_the_environment(tmp_path):
    cfg = load_config(_file(tmp_path, """
        departments:
          land: {pair_by: record_key}
          ndrc:
            pair_by: {"*": record_key, ndrc.receipt: sequence}
    """))
    land, ndrc, commerce = cfg.department("land"), cfg.department("ndrc"), cfg.department("commerce")
    assert land.pairing("land.receipt@1") == land.pairing(None) == "record_key"
    assert (ndrc.pairing("ndrc.receipt@3"), ndrc.pairing("ndrc.case_event@1")) == ("sequence", "record_key")
    assert commerce.pairing("commerce.case_event@1") == "sequence"
    settings = load_settings(environ={"TONGBAN__DUALTRACK__DEPARTMENTS__HOUSING__PAIR_BY": "sequence"})
    assert load_config(settings).department("housing").pairing("housing.case_event@1") == "sequence"
    settings = load_settings(environ={"TONGBAN__DUALTRACK__DEPARTMENTS__LAND__PAIR_BY": "record_key"})
    assert load_config(settings).department("land").pairing("land.case_event@1") == "record_key"


def test_a_changed_file_is_read_again(tmp_path):
    settings = _file(tmp_path, "departments:\n  land: {mode: shadow}\n")
    assert load_config(settings).department("land").mode == "shadow"
    path = settings["dualtrack_file"]
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("departments:\n  land: {mode: 'off'}\n")
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert load_config(settings).department("land").mode == "off"
