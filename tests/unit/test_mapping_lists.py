"""List mapping (each:): a list of source items to a list of canonical items, materials here."""
from __future__ import annotations

import copy

import pytest

from hub.mapping import RecordError, compile_mapping
from hub.mapping.errors import MappingFileError
from unit_data import RESIDENT_ID

DOC = {
    "name": "test.materials", "version": 1, "department": "socialsec", "system": "si-test", "kind": "case_event",
    "record_key": "{id}",
    "fields": {
        "case_no": {"path": "caseNo", "required": True},
        "sequence": {"const": 1},
        "type": {"const": "submitted"},
        "occurred_at": {"path": "time", "transform": "datetime", "required": True},
        "department": {"const": "socialsec"},
        "materials": {
            "each": "clList",
            "when": {"path": "sfyx", "equals": "1"},
            "fields": {
                "name": {"path": "clmc", "transform": "trim", "required": True},
                "required": {"path": "sfbx", "code_table": "yes_no", "default": True},
                "provided": {"path": "sftj", "code_table": "yes_no", "default": True},
                "reused_certificate": {"path": "dzzzbh", "transform": ["trim", "none_if_empty"]},
            },
        },
    },
    "code_tables": {"yes_no": {"1": True, "0": False}},
}


def record(items):
    return {"id": "R1", "caseNo": "SB1", "time": "2026-03-05 09:00:00", "clList": items}


@pytest.fixture
def mapping():
    return compile_mapping(copy.deepcopy(DOC))


def test_items_are_mapped_in_order_with_codes_defaults_and_the_when_filter(mapping):
    env = mapping.run(record([
        {"clmc": " 社会保险登记表 ", "sfbx": "1", "sftj": "1", "sfyx": "1"},
        {"clmc": "作废的材料", "sfyx": "0"},
        {"clmc": "居民身份证", "sfbx": "1", "sftj": "0", "dzzzbh": RESIDENT_ID, "sfyx": "1"},
        {"clmc": "劳动合同", "sfbx": "0", "sfyx": "1"},
    ]))
    got = [(m.name, m.required, m.provided, m.reused_certificate) for m in env.payload.materials]
    assert got == [("社会保险登记表", True, True, None), ("居民身份证", True, False, RESIDENT_ID),
                   ("劳动合同", False, True, None)]


@pytest.mark.parametrize("items", [None, []])
def test_a_missing_or_null_list_is_no_materials(mapping, items):
    rec = record(items)
    if items is None:
        del rec["clList"]
    assert mapping.run(rec).payload.materials == []


def test_an_item_error_names_the_item_on_both_sides(mapping):
    with pytest.raises(RecordError) as info:
        mapping.run(record([{"clmc": "a", "sfyx": "1"}, {"clmc": "b", "sfbx": "7", "sfyx": "1"}]))
    problem = info.value.problems[0]
    assert problem["field"] == "clList.1.sfbx" and "code '7' is not in code table 'yes_no'" in problem["reason"]


@pytest.mark.parametrize("items, field, words", [
    ("社会保险登记表", "clList", "not a list"),
    (["社会保险登记表"], "clList.0", "not an object"),
    ([{"sfyx": "1"}], "clList.0.clmc", "required value is missing"),
])
def test_a_list_that_is_no_list_of_objects_refuses_the_record(mapping, items, field, words):
    with pytest.raises(RecordError) as info:
        mapping.run(record(items))
    assert info.value.stage == "map"
    assert info.value.problems[0]["field"] == field and words in info.value.problems[0]["reason"]


def test_a_list_spec_with_a_misspelt_key_is_refused():
    d = copy.deepcopy(DOC)
    d["fields"]["materials"]["feilds"] = d["fields"]["materials"].pop("fields")
    with pytest.raises(MappingFileError, match=r"\(fields\.materials\.feilds\).*did you mean 'fields'"):
        compile_mapping(d)
    d = copy.deepcopy(DOC)
    d["fields"]["materials"]["fields"]["required"]["code_table"] = "yesno"
    with pytest.raises(MappingFileError, match=r"\(fields\.materials\.fields\.required\.code_table\).*'yes_no'"):
        compile_mapping(d)
