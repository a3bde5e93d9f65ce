"""`tongban mapping try`: the canonical output, the lineage of each field, every error with its
canonical and source path and the value masked."""
from __future__ import annotations

import json

from hub.cli.main import main
from unit_data import MAPPINGS_DIR

NDRC = MAPPINGS_DIR / "ndrc"
COMMERCE = MAPPINGS_DIR / "commerce"


def run(capsys, *args) -> tuple[int, str]:
    code = main(["mapping", "try", *map(str, args)])
    return code, capsys.readouterr().out


def test_json_gives_output_and_lineage_of_each_field(capsys):
    code, out = run(capsys, NDRC / "case_event.yaml", "--input", NDRC / "samples/joint_applicants.input.json", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["ok"] and data["output"]["payload"]["type"] == "accepted"
    rows = {r["target"]: r for r in data["lineage"]}
    assert rows["type"]["source"] == "stepCode" and rows["type"]["source_value"] == "20"
    assert rows["type"]["code_table"] == "step_code" and rows["type"]["transforms"] == ["trim", "halfwidth"]
    assert rows["attributes.investment"]["transforms"] == ["decimal(unit=万元)"]
    assert rows["department"]["from"] == "const"
    # personal data masked in the lineage and in the output
    assert rows["applicant.id_number"]["value"] == "913301********R391"
    assert "91330106MA2KQ8R391" not in out and "15867123490" not in out


def test_every_error_is_shown_with_both_paths_and_a_masked_value(capsys):
    record = json.loads((COMMERCE / "samples/refused_invalid_credit_code.input.json").read_text(encoding="utf-8"))
    record["eventTime"] = "2026-02-30 09:00:00"      # a second problem: the hub stops at the first
    path = MAPPINGS_DIR.parent / "var" / "try-two-errors.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    try:
        code, out = run(capsys, "commerce.case_event", "--input", path, "--json")
    finally:
        path.unlink()
    assert code == 1
    errors = {e["target"]: e for e in json.loads(out)["errors"]}
    assert errors["occurred_at"]["source"] == "eventTime" and "impossible date" in errors["occurred_at"]["reason"]


def test_a_validation_error_names_the_canonical_path_and_its_source(capsys):
    code, out = run(capsys, "commerce.case_event", "--input", COMMERCE / "samples/refused_invalid_credit_code.input.json")
    assert code == 1
    line = next(l for l in out.splitlines() if l.startswith("ERROR"))
    assert line.startswith("ERROR validate: applicant.id_number <- registration.uniscid: ")
    assert "(value '913301********" in line and "lineage" in out


def test_list_items_have_a_lineage_row_each(capsys):
    code, out = run(capsys, "platform.application", "--input",
                    MAPPINGS_DIR / "platform/samples/materials_reused_certificate.input.json", "--json")
    assert code == 0
    rows = {r["target"]: r for r in json.loads(out)["lineage"]}
    assert rows["materials.1.name"]["source"] == "materials.1.name" and rows["materials.1.name"]["value"] == "居民身份证"
    assert rows["materials.2.provided"]["from"] == "default"


def test_a_record_the_condition_does_not_take_is_an_error(capsys):
    record = COMMERCE / "samples/refused_unknown_event_code.input.json"
    code, out = run(capsys, "commerce.case_event", "--input", record, "--json")
    assert code == 1 and "the mapping's condition does not hold" in out


def test_an_unknown_mapping_name_suggests_one(capsys):
    assert main(["mapping", "try", "commerce.case_evnt", "--input", "x.json"]) == 2
    assert "did you mean 'commerce.case_event'" in capsys.readouterr().err
