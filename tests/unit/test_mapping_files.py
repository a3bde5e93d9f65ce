"""A mapping file that does not compile names the file, the line and the key, with the nearest
known name (issue 12 item 4): a deliberately broken copy of the scaffold's mapping."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from hub.mapping import MappingSet, load_file
from hub.mapping.errors import MappingFileError

GOOD = """\
name: socialsec.case_event
version: 1
department: socialsec
system: socialsec-system
kind: case_event
when: {path: stepCode, in: ["01", "02"]}
record_key: "{eventId}"
record_version: "{updatedAt}"
fields:
  case_no: {path: caseNo, transform: [trim, upper], required: true}
  sequence: {path: stepNo, transform: int, required: true}
  type: {path: stepCode, transform: trim, code_table: step_code, required: true}
  occurred_at: {path: stepTime, transform: [trim, datetime], required: true}
  department: {const: socialsec}
code_tables:
  step_code:
    "01": accepted
    "02": decided
"""


def broken(tmp_path: Path, old: str, new: str) -> Path:
    assert old in GOOD
    path = tmp_path / "socialsec" / "case_event.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(GOOD.replace(old, new, 1), encoding="utf-8")
    return path


def error_of(path: Path) -> MappingFileError:
    with pytest.raises(MappingFileError) as info:
        load_file(path)
    return info.value


def test_the_good_file_compiles(tmp_path):
    assert load_file(broken(tmp_path, "", "")).ref == "socialsec.case_event@1"


@pytest.mark.parametrize("old, new, line, key, words", [
    ("[trim, datetime]", "[trim, datetme]", 13, "fields.occurred_at.transform.1",
     ["unknown transform 'datetme'", "did you mean 'datetime'?"]),
    ("transform: int, required", "transform: int, requird", 11, "fields.sequence.requird",
     ["unknown keys ['requird']", "did you mean 'required'?"]),
    ("code_table: step_code", "code_table: step_codes", 12, "fields.type.code_table",
     ["code table 'step_codes' is not defined", "did you mean 'step_code'?"]),
    ("code_tables:", "code_table:", 15, "code_table",
     ["unknown top-level key 'code_table'", "did you mean 'code_tables'?"]),
    ("kind: case_event", "kind: case_events", 5, "kind", ["unknown kind 'case_events'", "did you mean 'case_event'?"]),
    ("in: [", "inn: [", 6, "when.inn", ["no key 'inn'", "did you mean 'in'?"]),
    ("transform: int,", "transform: {int: {base: 10}},", 11, "fields.sequence.transform.int",
     ["transform 'int' takes no parameters"]),
    ("  department: {const: socialsec}\n", "  department: {const: socialsec}\n  sequence: stepNo\n", 15,
     "fields.sequence", ["key 'sequence' is written twice (first on line 11)"]),
])
def test_an_error_names_file_line_and_key(tmp_path, old, new, line, key, words):
    path = broken(tmp_path, old, new)
    err = error_of(path)
    assert (err.file, err.line, ".".join(map(str, err.key))) == (str(path), line, key), str(err)
    text = str(err)
    assert text.startswith(f"{path}:{line} ({key}): "), text
    for w in words:
        assert w in text


def test_a_yaml_syntax_error_names_its_line(tmp_path):
    err = error_of(broken(tmp_path, 'record_key: "{eventId}"', 'record_key: "{eventId}'))
    assert err.line is not None and err.line >= 7 and "not valid YAML" in str(err)


def test_the_hub_refuses_to_load_a_tree_holding_the_broken_file(tmp_path):
    broken(tmp_path, "[trim, datetime]", "[trim, datetme]")
    with pytest.raises(ValueError, match=re.escape("case_event.yaml:13 (fields.occurred_at.transform.1)")):
        MappingSet.load(tmp_path)


def test_the_cli_prints_the_location(tmp_path, capsys):
    from hub.cli.main import main
    broken(tmp_path, "code_table: step_code", "code_table: step_codes")
    assert main(["mapping", "test", str(tmp_path)]) == 2
    assert "case_event.yaml:12 (fields.type.code_table)" in capsys.readouterr().err


def test_the_same_mapping_twice_is_refused(tmp_path):
    broken(tmp_path, "", "")
    copy = tmp_path / "other" / "case_event.yaml"
    copy.parent.mkdir()
    copy.write_text(GOOD, encoding="utf-8")
    with pytest.raises(ValueError, match="socialsec.case_event@1 is defined twice"):
        MappingSet.load(tmp_path)
