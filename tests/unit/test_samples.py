"""The sample pairs beside each mapping (`tongban mapping test`), and the runner itself."""
from __future__ import annotations

import json
import shutil

import pytest

from hub.mapping.samples import run_samples
from unit_data import MAPPINGS_DIR

SAMPLES = MAPPINGS_DIR / "commerce" / "samples"


def test_every_sample_passes():
    results = run_samples(MAPPINGS_DIR)
    failed = [r for r in results if not r.ok]
    assert results, "no samples found"
    assert not failed, "\n\n".join(f"{r.name}\n{r.diff}" for r in failed)


def test_commerce_has_at_least_15_complete_sample_pairs():
    inputs = sorted(SAMPLES.glob("*.input.json"))
    expected = sorted(SAMPLES.glob("*.expected.json"))
    assert len(inputs) >= 15
    assert [p.name.replace(".input.", ".") for p in inputs] == [p.name.replace(".expected.", ".") for p in expected]
    commerce = [r for r in run_samples(MAPPINGS_DIR) if r.name.startswith("commerce/")]
    assert len(commerce) == len(inputs)


def test_samples_cover_each_event_code_the_certificate_and_both_refusal_stages():
    types, kinds, stages, error_fields, valid_to = set(), set(), set(), set(), set()
    for path in SAMPLES.glob("*.expected.json"):
        expected = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(expected, dict):
            stages.add(expected["error"]["stage"])
            error_fields.update(expected["error"]["fields"])
            continue
        for env in expected:
            kinds.add(env["kind"])
            if env["kind"] == "case_event":
                types.add(env["payload"]["type"])
            else:
                valid_to.add(env["payload"]["valid_to"] is None)
    assert types >= {"accepted", "decided", "certificate_issued"}
    assert kinds == {"case_event", "certificate"}
    assert stages == {"decode", "map", "validate"}   # decode: a lossy name (refused_lossy_company_name)
    assert error_fields >= {"eventCode", "eventTime", "applyNo", "applicant.id_number"}
    assert valid_to == {True, False}, "both long-term (长期) and fixed-term licences"


def test_expected_files_leave_out_the_volatile_fields():
    for path in SAMPLES.glob("*.expected.json"):
        expected = json.loads(path.read_text(encoding="utf-8"))
        for env in expected if isinstance(expected, list) else []:
            assert not {"produced_at", "trace_id", "signature"} & set(env), path.name
            assert env["occurred_at"].endswith("+08:00"), path.name


@pytest.fixture
def tree(tmp_path):
    """A copy of the mappings folder the test may spoil."""
    root = tmp_path / "mappings"
    shutil.copytree(MAPPINGS_DIR, root)
    return root


def test_a_wrong_expected_file_fails_with_a_readable_diff(tree):
    path = tree / "commerce" / "samples" / "accepted_establish.expected.json"
    expected = json.loads(path.read_text(encoding="utf-8"))
    expected[0]["payload"]["opinion"] = "不予受理"
    expected[0]["payload"]["applicant"]["phone"] = "13900000000"
    path.write_text(json.dumps(expected, ensure_ascii=False, indent=2), encoding="utf-8")

    results = {r.name: r for r in run_samples(tree)}
    bad = results["commerce/accepted_establish"]
    assert not bad.ok
    lines = bad.diff.splitlines()
    assert lines[0] == "--- expected" and lines[1] == "+++ actual"
    changed = {line[0] + line[1:].strip() for line in lines[2:] if line[:1] in "+-"}
    assert changed == {'-"opinion": "不予受理",', '+"opinion": "申请材料齐全，符合法定形式，予以受理",',
                       '-"phone": "13900000000"', '+"phone": "15867123490"'}
    assert sum(line.startswith("@@") for line in lines) == 2, "only the two changed places, with context"
    # the rest of the folder is unaffected
    assert results["commerce/decided_slash_time"].ok


def test_an_expected_error_that_does_not_happen_fails(tree):
    path = tree / "commerce" / "samples" / "decided_slash_time.expected.json"
    path.write_text(json.dumps({"error": {"stage": "map", "fields": ["eventTime"]}}), encoding="utf-8")
    result = {r.name: r for r in run_samples(tree)}["commerce/decided_slash_time"]
    assert not result.ok
    assert '-  "error": {' in result.diff and '"kind": "case_event"' in result.diff


def test_a_refusal_at_the_wrong_stage_or_field_fails(tree):
    path = tree / "commerce" / "samples" / "refused_invalid_credit_code.expected.json"
    path.write_text(json.dumps({"error": {"stage": "map", "fields": ["registration.uniscid"]}}), encoding="utf-8")
    result = {r.name: r for r in run_samples(tree)}["commerce/refused_invalid_credit_code"]
    assert not result.ok
    changed = {line[0] + line[1:].strip() for line in result.diff.splitlines()[2:] if line[:1] in "+-"}
    assert {'-"stage": "map"', '+"stage": "validate"', '+"applicant.id_number"'} <= changed


def test_an_input_without_expected_file_fails(tree):
    (tree / "commerce" / "samples" / "accepted_establish.expected.json").unlink()
    result = {r.name: r for r in run_samples(tree)}["commerce/accepted_establish"]
    assert not result.ok and "missing accepted_establish.expected.json" in result.diff
