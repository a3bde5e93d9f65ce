"""The comparator on its own: rules, masking, and what counts as a difference."""
from __future__ import annotations

import copy

import pytest

from hub.dualtrack.compare import compare
from hub.dualtrack.rules import RuleError, Rules

from dt_data import both_tracks, make_records


@pytest.fixture(scope="module")
def pair():
    old, new = both_tracks(make_records(1))
    return old[0], new[0]


def fields(verdict) -> set[str]:
    return {d["field"] for d in verdict.fields}


def test_the_same_record_on_both_tracks_matches_though_the_envelope_differs(pair):
    old, new = pair
    assert old["message_id"] != new["message_id"] and old["source"]["track"] != new["source"]["track"]
    assert old["trace_id"] != new["trace_id"]
    v = compare(old, new)
    assert v.matched and v.fields == []


def test_a_changed_status_is_reported_with_both_values(pair):
    old, new = pair
    new = copy.deepcopy(new)
    new["payload"]["type"] = "rejected"
    v = compare(old, new)
    assert v.verdict == "mismatch"
    assert v.fields == [{"path": "payload.type", "field": "payload.type", "old": "accepted", "new": "rejected"}]


def test_personal_data_in_a_difference_is_masked(pair):
    old, new = pair
    new = copy.deepcopy(new)
    new["payload"]["applicant"]["phone"] = "13912345678"
    new["payload"]["handler"] = "欧阳娜娜"
    new["payload"]["applicant"]["id_number"] = "330106199001011236"
    by = {d["field"]: d for d in compare(old, new).fields}
    assert by["payload.applicant.phone"]["new"] == "139****5678"
    assert by["payload.handler"]["new"] == "欧***"
    assert by["payload.applicant.id_number"]["new"] == "330106********1236"
    assert old["payload"]["handler"] not in str(by) and old["payload"]["applicant"]["id_number"] not in str(by)


def test_ignore_rules_take_exact_paths_and_globs(pair):
    old, new = pair
    new = copy.deepcopy(new)
    new["payload"]["handler"] = "某某"
    new["payload"]["attributes"]["domicile"] = "elsewhere"
    new["payload"]["attributes"]["item_name"] = "other"
    assert fields(compare(old, new)) == {"payload.handler", "payload.attributes.domicile",
                                         "payload.attributes.item_name"}
    rules = Rules.from_spec({"ignore": ["payload.handler", "payload.attributes.*"]})
    assert compare(old, new, rules).matched


def test_the_same_instant_with_another_offset_is_no_difference(pair):
    old, new = pair
    new = copy.deepcopy(new)
    local = old["payload"]["occurred_at"]                       # 2026-...T09:07:54+08:00
    from datetime import datetime, timezone
    new["payload"]["occurred_at"] = datetime.fromisoformat(local).astimezone(timezone.utc).isoformat()
    assert new["payload"]["occurred_at"] != local
    assert compare(old, new).matched


def test_time_skew_tolerance(pair):
    old, new = pair
    new = copy.deepcopy(new)
    new["payload"]["occurred_at"] = old["payload"]["occurred_at"].replace(":54+", ":57+")
    assert fields(compare(old, new)) == {"payload.occurred_at"}
    assert compare(old, new, Rules.from_spec({"tolerance": {"payload.occurred_at": {"seconds": 5}}})).matched
    assert not compare(old, new, Rules.from_spec({"tolerance": {"payload.occurred_at": {"seconds": 2}}})).matched


def test_numeric_epsilon_on_numbers_and_numeric_strings(pair):
    old, new = pair
    new = copy.deepcopy(new)
    capital = old["payload"]["attributes"]["registered_capital"]
    new["payload"]["attributes"]["registered_capital"] = str(float(capital) + 0.004)
    rules = Rules.from_spec({"tolerance": {"payload.attributes.registered_capital": {"epsilon": 0.01}}})
    assert not compare(old, new).matched
    assert compare(old, new, rules).matched
    new["payload"]["attributes"]["registered_capital"] = str(float(capital) + 0.02)
    assert not compare(old, new, rules).matched


def test_epsilon_zero_is_the_same_amount_at_another_scale_exactly(pair):
    old, new = pair
    old, new = copy.deepcopy(old), copy.deepcopy(new)
    rules = Rules.from_spec({"tolerance": {"payload.attributes.registered_capital": {"epsilon": 0}}})
    old["payload"]["attributes"]["registered_capital"] = "12500"
    new["payload"]["attributes"]["registered_capital"] = "12500.00"
    assert not compare(old, new).matched          # without the rule, the text differs
    assert compare(old, new, rules).matched
    # exact, not float: these two are one float but two amounts
    old["payload"]["attributes"]["registered_capital"] = "12345678901234567.01"
    new["payload"]["attributes"]["registered_capital"] = "12345678901234567.02"
    assert float("12345678901234567.01") == float("12345678901234567.02")
    assert not compare(old, new, rules).matched


def test_normalisation_maps_both_sides_before_comparing(pair):
    old, new = pair
    new = copy.deepcopy(new)
    new["payload"]["attributes"]["registration_state"] = "in_business"   # the new system's name for "active"
    assert fields(compare(old, new)) == {"payload.attributes.registration_state"}
    rules = Rules.from_spec({"normalise": {"payload.attributes.registration_state": {"in_business": "active"}}})
    assert compare(old, new, rules).matched


def test_a_key_only_one_side_has_is_reported_as_absent(pair):
    old, new = pair
    new = copy.deepcopy(new)
    new["payload"]["attributes"]["address"] = new["payload"]["attributes"].pop("domicile")
    by = {d["field"]: d for d in compare(old, new).fields}
    assert set(by) == {"payload.attributes.domicile", "payload.attributes.address"}
    assert by["payload.attributes.domicile"]["absent"] == "new" and by["payload.attributes.domicile"]["new"] is None
    assert by["payload.attributes.address"]["absent"] == "old"


MATERIALS = [{"name": "公司章程", "required": True, "provided": True, "reused_certificate": None},
             {"name": "设立登记申请书", "required": True, "provided": True, "reused_certificate": None},
             {"name": "住所证明", "required": False, "provided": True, "reused_certificate": "E-1"}]


def test_unordered_list_by_key(pair):
    old, new = copy.deepcopy(pair)
    old["payload"]["materials"] = copy.deepcopy(MATERIALS)
    new["payload"]["materials"] = copy.deepcopy(MATERIALS[::-1])
    keyed = Rules.from_spec({"unordered": {"payload.materials": "name"}})
    assert compare(old, new, keyed).matched
    assert fields(compare(old, new)) == {"payload.materials.name", "payload.materials.required",
                                         "payload.materials.reused_certificate"}
    new["payload"]["materials"][0]["provided"] = False                       # 住所证明, now at position 0
    v = compare(old, new, keyed)
    assert [(d["field"], d["old"], d["new"]) for d in v.fields] == [("payload.materials.provided", True, False)]
    assert v.fields[0]["path"].startswith("payload.materials[name=") and "住所证明" not in v.fields[0]["path"]
    del new["payload"]["materials"][1]                                       # 设立登记申请书 gone
    v = compare(old, new, keyed)
    assert {(d["field"], d.get("absent")) for d in v.fields} == {("payload.materials.provided", None),
                                                                  ("payload.materials", "new")}


def test_wall_clock_rule_reads_one_track_in_another_zone(pair):
    old, new = copy.deepcopy(pair)
    # the new system wrote 01:07:54 (UTC) for 09:07:54 local; the mapping read it as local
    new["payload"]["occurred_at"] = old["payload"]["occurred_at"].replace("T09:", "T01:")
    v = compare(old, new)
    assert fields(v) == {"payload.occurred_at"}
    rules = Rules.from_spec({"wall_clock": {"payload.occurred_at": {"track": "new", "zone": "UTC"}}})
    assert compare(old, new, rules).matched
    # the rule names a track: the same value on the old side stays a difference
    assert not compare(new, old, rules).matched


@pytest.mark.parametrize("spec, message", [
    ({"ignroe": ["x"]}, "did you mean 'ignore'"),
    ({"tolerance": {"a": {"seconds": -1}}}, "a number >= 0"),
    ({"tolerance": {"a": {"minutes": 1}}}, "{seconds: N}"),
    ({"wall_clock": {"a": {"track": "both"}}}, "old or new"),
    ({"wall_clock": {"a": {"track": "new", "zone": "Mars/Olympus"}}}, "unknown time zone"),
    ({"unordered": {"a": ""}}, "name of the key field"),
    ({"ignore": "a,b"}, None),
])
def test_rule_errors_say_where_and_what(spec, message):
    if message is None:
        assert Rules.from_spec(spec).ignored("b")
        return
    with pytest.raises(RuleError, match=message.replace("{", r"\{").replace("}", r"\}")):
        Rules.from_spec(spec, "departments.commerce.rules.case_event")
