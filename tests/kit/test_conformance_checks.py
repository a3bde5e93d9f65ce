"""Each conformance check can fail: an adapter broken in one way fails the check for that way,
with a reason naming what is wrong (tests/kit/broken.py), on the real broker."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from hub.kit.conformance import run

from . import broken

ROOT = Path(__file__).resolve().parents[2]


def verdict(cls, check, broker_url, **options):
    (result,) = run(cls, broker_url=broker_url, only=[check], **options)
    return result


@pytest.mark.parametrize("cls, check, reason", [
    (broken.Skipping, "cursor", "skipped"),
    (broken.Restamping, "cursor", "makes other message ids"),
    (broken.Restamping, "at_least_once", "different message ids"),
    (broken.Dropping, "bad_input", "dead letters by stage"),
    (broken.Doubling, "sink", "made 2 effect(s)"),
    (broken.Frozen, "versions", "keeps its message id"),
    (broken.Raising, "connection", "raised ConnectionError"),
    (broken.Undocumented, "spec", "style 'grpc' is not one of"),
    (broken.Undocumented, "spec", "setting url has no description"),
    (broken.NoSimulator, "cursor", "names no simulator"),
])
def test_a_broken_adapter_fails_its_check_saying_why(cls, check, reason, broker_url):
    result = verdict(cls, check, broker_url)
    assert not result.ok and reason in result.reason, result


def test_the_unbroken_adapter_passes_the_same_checks(broker_url):
    from adapters.commerce import CommerceAdapter
    results = run(CommerceAdapter, broker_url=broker_url, only=["cursor", "versions", "at_least_once", "sink"])
    assert all(r.ok for r in results), [r for r in results if not r.ok]


def test_a_sample_with_a_wrong_expected_output_fails(tmp_path, broker_url):
    tree = tmp_path / "mappings"
    shutil.copytree(ROOT / "mappings", tree)
    sample = sorted((tree / "commerce" / "samples").glob("*.expected.json"))[0]
    doc = json.loads(sample.read_text(encoding="utf-8"))
    doc[0]["case_no"] = "NOT-THE-CASE" if isinstance(doc, list) else doc
    sample.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    from adapters.commerce import CommerceAdapter
    result = verdict(CommerceAdapter, "samples", broker_url, mappings_dir=tree)
    assert not result.ok and "1 of" in result.reason and sample.name.split(".")[0] in result.reason


def test_a_slow_page_fails_the_timing_check(broker_url):
    from adapters.commerce import CommerceAdapter
    result = verdict(CommerceAdapter, "timing", broker_url, page_budget=0.0)
    assert not result.ok and "over the page budget" in result.reason


def test_an_unknown_check_is_refused():
    with pytest.raises(ValueError, match="no conformance check named nosuch"):
        run("commerce", only=["nosuch"])
