"""The mapping engine: compile errors that name the file and field, record errors that name
stage, record, field and a masked value, `when` conditions, and lineage in every envelope."""
from __future__ import annotations

import copy
import uuid
from pathlib import Path

import pytest

from hub.mapping import MappingSet, RecordError, compile_mapping, load_file
from hub.mapping.spec import FieldError, compile_field
from hub.model import SHANGHAI, message_id
from unit_data import MAPPINGS_DIR, RESIDENT_ID, RESIDENT_ID_X, SYSTEM, USCC, USCC_BAD, commerce_row

WHERE = Path("mappings/test/person_event.yaml")

# A small mapping of a person's case event (the shape a housing or land system would have).
BASE = {
    "name": "test.person_event",
    "version": 2,
    "department": "housing",
    "system": "housing-test",
    "kind": "case_event",
    "record_key": "{id}",
    "record_version": "{ver}",
    "fields": {
        "case_no": {"path": "caseNo", "transform": "trim", "required": True},
        "sequence": {"path": "step", "transform": "int", "required": True},
        "type": {"path": "code", "code_table": "steps", "required": True},
        "occurred_at": {"path": "time", "transform": "datetime", "required": True},
        "department": {"const": "housing"},
        "applicant.kind": {"const": "person"},
        "applicant.name": "person.name",
        "applicant.id_type": {"const": "resident_id"},
        "applicant.id_number": {"path": "person.idno", "transform": ["trim", "halfwidth", "upper"]},
        "applicant.phone": {"path": "person.mobile", "transform": ["trim", "none_if_empty"]},
    },
    "code_tables": {"steps": {"1": "submitted", "2": "accepted"}},
}


def doc(**changes) -> dict:
    d = copy.deepcopy(BASE)
    for k, v in changes.items():
        if v is None:
            d.pop(k, None)
        else:
            d[k] = v
    return d


def person_record(**changes) -> dict:
    rec = {"id": "HS-88", "ver": "3", "caseNo": "ZJ2026030500088", "step": "2", "code": "2",
           "time": "2026-03-05 09:30:00", "person": {"name": "沈嘉怡", "idno": RESIDENT_ID, "mobile": "15867123490"}}
    rec.update(changes)
    return rec


# --- compiling ---------------------------------------------------------------------------------------

def test_a_good_mapping_compiles_and_runs():
    m = compile_mapping(doc(), WHERE)
    env = m.run(person_record())
    assert m.ref == "test.person_event@2"
    assert env.payload.type == "accepted" and env.payload.applicant.id_number == RESIDENT_ID
    assert env.routing_key == "housing.case_event.accepted"


def test_unknown_transform_names_file_field_and_transform():
    d = doc()
    d["fields"]["case_no"]["transform"] = ["trim", "strip_spaces"]
    with pytest.raises(ValueError) as info:
        compile_mapping(d, WHERE)
    msg = str(info.value)
    assert str(WHERE) in msg and "case_no" in msg and "'strip_spaces'" in msg and "known:" in msg


def test_unknown_code_table_names_file_field_and_table():
    d = doc()
    d["fields"]["type"]["code_table"] = "step_codes"
    with pytest.raises(ValueError) as info:
        compile_mapping(d, WHERE)
    msg = str(info.value)
    assert str(WHERE) in msg and "field type" in msg and "'step_codes'" in msg


@pytest.mark.parametrize("key", ["name", "version", "department", "system", "kind", "record_key", "fields"])
def test_missing_top_level_key_names_file_and_key(key):
    with pytest.raises(ValueError) as info:
        compile_mapping(doc(**{key: None}), WHERE)
    assert str(info.value) == f"{WHERE}: missing top-level key {key!r}"


def test_unknown_field_spec_key_and_unknown_kind_name_the_file():
    d = doc()
    d["fields"]["case_no"] = {"pth": "caseNo"}
    with pytest.raises(ValueError, match=r"person_event\.yaml \(fields\.case_no\.pth\): field case_no: unknown keys \['pth'\]; did you mean 'path'\?"):
        compile_mapping(d, WHERE)
    with pytest.raises(ValueError, match=r"person_event\.yaml \(kind\): unknown kind 'event'"):
        compile_mapping(doc(kind="event"), WHERE)
    with pytest.raises(ValueError, match=r"person_event\.yaml \(fields\.case_no\): field case_no: needs 'path' or 'const'"):
        compile_mapping(doc(fields={"case_no": {"transform": "trim"}}), WHERE)


@pytest.mark.parametrize("changes", [
    pytest.param({"when": {"path": "code"}}, id="when-without-equals-or-in"),
    pytest.param({"when": {"equals": "2"}}, id="when-without-path"),
    pytest.param({"record_key": "{id"}, id="record-key-unbalanced-brace"),
    pytest.param({"version": "v2"}, id="version-not-a-number"),
])
def test_every_compile_error_names_the_file(changes):
    # BUG hub/mapping/compiler.py compile_mapping() lines 123-130: the `when` condition, the
    # record_key/record_version templates and int(version) are compiled outside the try that
    # prefixes the file name, so these errors say e.g. "a 'when' condition needs 'equals' or
    # 'in'" (or raise a bare KeyError 'path') without naming the file.
    with pytest.raises(ValueError) as info:
        compile_mapping(doc(**changes), WHERE)
    assert str(WHERE) in str(info.value)


def test_an_empty_mapping_file_is_a_clear_error(tmp_path):
    # BUG hub/mapping/compiler.py compile_mapping(): yaml.safe_load of an empty file is None and
    # `key not in doc` raises TypeError "argument of type 'NoneType' is not iterable".
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing yet\n", encoding="utf-8")
    with pytest.raises(ValueError) as info:
        load_file(path)
    assert str(path) in str(info.value)


def test_load_file_names_the_file_it_read(tmp_path):
    import yaml
    d = doc()
    d["fields"]["occurred_at"]["transform"] = "timestamp"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(d, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValueError, match=rf"{path}:\d+ \(fields\.occurred_at\.transform\): field occurred_at: unknown transform 'timestamp'"):
        load_file(path)


def test_mapping_set_skips_underscored_files_and_names_known_systems(tmp_path):
    import yaml
    (tmp_path / "housing").mkdir()
    (tmp_path / "housing" / "person_event.yaml").write_text(yaml.safe_dump(doc(), allow_unicode=True), "utf-8")
    (tmp_path / "housing" / "_draft.yaml").write_text("not: [a mapping", "utf-8")
    ms = MappingSet.load(tmp_path)
    assert [m.ref for m in ms.mappings] == ["test.person_event@2"]
    with pytest.raises(KeyError, match="housing-test"):
        ms.for_system("housing-registry")


# --- record errors -----------------------------------------------------------------------------------

def test_unknown_event_code_is_a_map_error_naming_the_field(mappings):
    # A row with a code no mapping's `when` accepts must be refused, never dropped (invariant 3):
    # the error is the system's, names the field the conditions read, and lists the conditions.
    with pytest.raises(RecordError) as info:
        mappings.apply(SYSTEM, commerce_row(eventCode="04"))
    err = info.value
    assert (err.stage, err.mapping, err.record_key) == ("map", "commerce-registry", "104217")
    assert [p["field"] for p in err.problems] == ["eventCode"]
    assert "no mapping accepts this record" in err.problems[0]["reason"]
    assert "commerce.case_event@1: eventCode in" in err.problems[0]["reason"]
    assert str(err).startswith("map failed in commerce-registry for record 104217: eventCode: ")


def test_missing_required_value_is_a_map_error(mappings):
    row = commerce_row()
    del row["applyNo"]
    with pytest.raises(RecordError) as info:
        mappings.apply(SYSTEM, row)
    assert info.value.stage == "map" and info.value.record_key == "104217"
    assert info.value.problems[0]["field"] == "applyNo"
    assert info.value.problems[0]["reason"] == "required value is missing"


def test_missing_record_key_is_a_map_error_without_a_key(mappings):
    row = commerce_row()
    del row["eventId"]
    with pytest.raises(RecordError) as info:
        mappings.apply(SYSTEM, row)
    assert info.value.stage == "map" and info.value.record_key is None
    assert info.value.problems[0]["field"] == "{eventId}"


def test_invalid_credit_code_is_a_validate_error_with_a_masked_value(mappings):
    row = commerce_row()
    row["registration"]["uniscid"] = USCC_BAD
    with pytest.raises(RecordError) as info:
        mappings.apply(SYSTEM, row)
    err = info.value
    assert (err.stage, err.record_key) == ("validate", "104217")
    assert [p["field"] for p in err.problems] == ["applicant.id_number"]
    assert err.problems[0]["value"] == "913301********R395"


def test_invalid_phone_is_a_validate_error_that_does_not_echo_the_number(mappings):
    with pytest.raises(RecordError) as info:
        mappings.apply(SYSTEM, commerce_row(contactPhone="1586712349"))
    err = info.value
    assert err.stage == "validate" and [p["field"] for p in err.problems] == ["applicant.phone"]
    assert "1586712349" not in str(err)
    assert err.problems[0]["value"] == "********49"


def test_invalid_resident_id_never_appears_in_a_record_error():
    m = compile_mapping(doc(), WHERE)
    bad = RESIDENT_ID[:-1] + "7"
    with pytest.raises(RecordError) as info:
        m.run(person_record(person={"name": "沈嘉怡", "idno": bad, "mobile": "15867123490"}))
    err = info.value
    assert err.stage == "validate" and err.record_key == "HS-88"
    assert [p["field"] for p in err.problems] == ["applicant.id_number"]
    assert bad not in str(err) and "330106********1237" in str(err)


def test_a_transform_failure_names_the_source_field_and_masks_its_value():
    get = compile_field("applicant.id_number", {"path": "person.idno", "transform": "int"}, {})
    with pytest.raises(FieldError) as info:
        get({"person": {"idno": RESIDENT_ID_X}})
    assert info.value.field == "person.idno"
    assert info.value.reason == "not a whole number"
    assert info.value.value == "330106********100X"


def test_impossible_date_is_a_map_error(mappings):
    with pytest.raises(RecordError) as info:
        mappings.apply(SYSTEM, commerce_row(eventTime="2026-02-30 09:00:00"))
    assert info.value.stage == "map" and info.value.problems[0]["field"] == "eventTime"
    assert "impossible date" in info.value.problems[0]["reason"]


@pytest.mark.parametrize("field, value", [("opinion", ["准予", "设立"]), ("operator", {"name": "陈丽华"}),
                                          ("eventTime", ["2026-03-05", "08:42:17"])])
def test_a_list_or_object_where_text_is_expected_is_a_record_error(mappings, field, value):
    # BUG hub/mapping/spec.py compile_field() line 84: `value in nulls` hashes the value, so a
    # list or dict in any mapped field raises TypeError "unhashable type" out of Mapping.run().
    # SourceWorker.poll_once only catches RecordError, so one such row stops the whole feed
    # (the cursor never passes it) instead of being dead-lettered.
    with pytest.raises(RecordError) as info:
        mappings.apply(SYSTEM, commerce_row(**{field: value}))
    assert info.value.record_key == "104217"


def test_a_minimal_record_without_optional_fields_maps(mappings):
    # BUG hub/mapping/compiler.py _nest() lines 101-105: a sub-object whose values are all None
    # becomes None; for `attributes.*` that gives attributes=None, which CaseEvent refuses
    # ("attributes: Input should be a valid dictionary"), so a row with every required field but
    # no itemName/registration details is dead-lettered.
    row = {"eventId": 9001, "applyNo": "SCJG202600319001", "stepNo": 1, "eventCode": "01",
           "eventTime": "2026-03-05 08:42:17", "updatedAt": "2026-03-05T08:42:19.000001",
           "registration": {"uniscid": USCC, "entname": "杭州瑞博网络科技有限公司"}}
    [env] = mappings.apply(SYSTEM, row)
    assert env.payload.case_no == "SCJG202600319001"
    assert isinstance(env.payload.attributes, dict)
    assert all(v is None for v in env.payload.attributes.values())


def test_long_term_with_surrounding_spaces_is_still_long_term(mappings):
    # BUG hub/mapping/spec.py compile_field() line 84: null_values are compared with the raw
    # value before any transform, so "长期 " / "\u3000长期" reach the date transform and the
    # whole 发照 record is refused (map error on validTo) instead of giving valid_to None.
    for padded in ("长期 ", "\u3000长期"):
        envs = mappings.apply(SYSTEM, commerce_row(step=3, validTo=padded))
        assert [e.kind for e in envs] == ["case_event", "certificate"]
        assert envs[1].payload.valid_to is None


# --- when ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("step, code, kinds", [(1, " 01", ["case_event"]), (2, "02\u3000", ["case_event"]),
                                               (3, "03 ", ["case_event", "certificate"])])
def test_a_padded_event_code_is_not_dropped(mappings, step, code, kinds):
    # BUG hub/mapping/spec.py compile_condition(): `when` compares the raw value, while the
    # `type` field trims it. certificate.yaml's `equals: "03"` then skips the licence of a
    # "03 " row (the case event still says certificate_issued), and case_event.yaml's new
    # `in: [...]` skips the whole row: silent drops. The condition should see the value the
    # same way the fields do (e.g. a `transform` key on `when`, or trim before comparing).
    envs = mappings.apply(SYSTEM, commerce_row(step=step, eventCode=code))
    assert [e.kind for e in envs] == kinds


@pytest.mark.parametrize("step, kinds", [(1, ["case_event"]), (2, ["case_event"]),
                                         (3, ["case_event", "certificate"])])
def test_certificate_only_for_step_03(mappings, step, kinds):
    assert [e.kind for e in mappings.apply(SYSTEM, commerce_row(step=step))] == kinds


def test_when_equals_and_in_conditions():
    m_eq = compile_mapping(doc(when={"path": "code", "equals": "2"}), WHERE)
    m_in = compile_mapping(doc(when={"path": "person.kind", "in": ["citizen", "resident"]}), WHERE)
    assert m_eq.when(person_record()) and not m_eq.when(person_record(code="1"))
    assert not m_eq.when({"id": 1})
    rec = person_record()
    assert not m_in.when(rec)
    rec["person"]["kind"] = "resident"
    assert m_in.when(rec)
    assert compile_mapping(doc(), WHERE).when({})  # no condition: always


def test_mapping_set_applies_only_mappings_whose_condition_holds(tmp_path):
    import yaml
    (tmp_path / "housing").mkdir()
    only_two = doc(name="test.only_accepted", when={"path": "code", "equals": "2"})
    (tmp_path / "housing" / "a_event.yaml").write_text(yaml.safe_dump(doc(), allow_unicode=True), "utf-8")
    (tmp_path / "housing" / "b_accepted.yaml").write_text(yaml.safe_dump(only_two, allow_unicode=True), "utf-8")
    ms = MappingSet.load(tmp_path)
    assert [e.mapping for e in ms.apply("housing-test", person_record(code="1"))] == ["test.person_event@2"]
    assert [e.mapping for e in ms.apply("housing-test", person_record(code="2"))] == [
        "test.person_event@2", "test.only_accepted@2"]


# --- lineage and identity -------------------------------------------------------------------------------

def test_every_envelope_carries_mapping_version_and_record_key(mappings):
    envs = mappings.apply(SYSTEM, commerce_row(step=3), track="new")
    assert [e.mapping for e in envs] == ["commerce.case_event@1", "commerce.certificate@1"]
    for env in envs:
        assert env.record_key == "104402"
        assert env.source.system == SYSTEM and env.source.department == "commerce" and env.source.track == "new"
        assert env.schema_name == f"tongban.{env.kind}" and env.schema_version == 1
        assert env.case_no == "SCJG202600312045" and env.sequence == 3
        assert env.produced_at.tzinfo is not None and env.signature is None
    assert envs[0].trace_id == envs[1].trace_id, "messages made from one record share a trace"


def test_the_same_record_gives_the_same_message_ids(mappings):
    first = mappings.apply(SYSTEM, commerce_row(step=3))
    again = mappings.apply(SYSTEM, commerce_row(step=3))
    assert [e.message_id for e in first] == [e.message_id for e in again]
    assert first[0].trace_id != again[0].trace_id
    assert first[0].message_id == message_id(SYSTEM, "commerce.case_event", "104402", "2026-03-06T10:53:12.031877")
    assert first[1].message_id == message_id(SYSTEM, "commerce.certificate", "104402", "2026-03-06T10:53:12.031877")
    assert first[0].message_id != first[1].message_id
    assert isinstance(first[0].message_id, uuid.UUID)


def test_a_new_updated_at_gives_a_new_message_id(mappings):
    before = mappings.apply(SYSTEM, commerce_row())[0]
    after = mappings.apply(SYSTEM, commerce_row(updatedAt="2026-03-05T09:10:00.000001", opinion="更正后受理意见"))[0]
    other = mappings.apply(SYSTEM, commerce_row(eventId=104218))[0]
    assert len({before.message_id, after.message_id, other.message_id}) == 3
    assert after.record_key == before.record_key == "104217"


def test_occurred_at_is_the_event_time_in_shanghai(mappings):
    case_event, certificate = mappings.apply(SYSTEM, commerce_row(step=3, eventTime="2026/3/6 10:53"))
    assert case_event.occurred_at == certificate.occurred_at == certificate.payload.issued_at
    assert case_event.occurred_at.isoformat() == "2026-03-06T10:53:00+08:00"
    assert case_event.occurred_at.utcoffset() == SHANGHAI.utcoffset(case_event.occurred_at)


def test_mapping_normalises_a_full_width_padded_record(mappings):
    row = commerce_row(applyNo="\u3000ＳＣＪＧ２０２６００３１２０４５ ", contactPhone=" １５８６７１２３４９０")
    row["registration"]["uniscid"] = "９１３３０１０６ｍａ２ｋｑ８ｒ３９１\u3000"
    [env] = mappings.apply(SYSTEM, row)
    assert env.case_no == env.payload.case_no == "SCJG202600312045"
    assert env.payload.applicant.id_number == USCC
    assert env.payload.applicant.phone == "15867123490"
    assert env.payload.attributes["registered_capital"] == "100.000000"   # the scale as written (issue 10)
    assert env.payload.attributes["registration_state"] == "active"
