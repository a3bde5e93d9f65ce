"""Issue 12 item 0: a fifth system shipped as its own package needs no edit of hub/. Its
department, label and case-number field come from its adapter and its mappings."""
from __future__ import annotations

import json

import pytest

from hub.adapter import RawRecord, departments, registry  # noqa: F401
from hub.bus import names
from hub.dualtrack.config import DualTrackConfigError, load_config
from hub.mapping import MappingSet
from hub.runtime.source_worker import SourceWorker
from hub.store import Store

from .fifth import install


class Publisher:
    def __init__(self):
        self.sent = []

    def publish(self, body, exchange, routing_key, *, message_id=None, headers=None, **_):
        self.sent.append({"exchange": exchange, "routing_key": routing_key, "headers": dict(headers or {})})

    def flush(self):
        pass


@pytest.fixture
def fifth(tmp_path, monkeypatch):
    return install(tmp_path, monkeypatch)


def test_the_department_and_its_label_come_from_the_installed_adapter(fifth):
    known = departments.departments()
    assert "socialsec" in known and "platform" not in known
    assert known["socialsec"].adapters == ("sisystem",)
    assert departments.label("socialsec") == "人力资源和社会保障局 human resources and social security"
    assert departments.label("commerce") == "市场监督管理局 market regulation"


def test_without_the_package_it_is_unknown():
    assert "socialsec" not in departments.names()
    assert departments.label("socialsec") == "socialsec"


def test_dual_track_settings_accept_it_and_misspellings_are_caught(fifth):
    cfg = load_config({"dualtrack": {"departments": {"socialsec": {"mode": "shadow"}}}})
    assert cfg.department("socialsec").mode == "shadow"
    with pytest.raises(DualTrackConfigError, match="did you mean 'socialsec'"):
        load_config({"dualtrack": {"departments": {"socialsc": {"mode": "shadow"}}}})


def test_its_applications_bind_by_department_not_adapter_name(fifth, monkeypatch):
    from hub.runtime import runner
    cls = registry.load("sisystem")
    monkeypatch.setattr(cls, "has_sink", True)
    monkeypatch.setattr(runner, "load_routes", lambda _file: [])
    binds = runner.bindings({"routes_file": "x", "adapters": {"sisystem": {"url": "http://x"}}})
    assert [(b.destination, b.pattern) for b in binds] == [("sisystem", "socialsec.application.*")]


def test_a_record_it_cannot_map_holds_its_case_by_the_field_its_mapping_names(fifth):
    """The dead letter carries the case number read as the mapping reads case_no (AAZ001 here,
    trimmed and upper-cased), so the case's later steps wait for it at every destination."""
    store, pub = Store.open("sqlite://"), Publisher()
    source = registry.create("sisystem", {"url": "http://x"}).source()
    bad = {"eventId": 1, "AAZ001": " sb-2026-0001 ", "eventCode": "99", "stepNo": 1}   # no mapping takes 99
    source.records = [RawRecord(key="1", data=bad, raw=json.dumps(bad))]
    worker = SourceWorker(name="sisystem:old", department="socialsec", system="socialsec-si", track="old",
                          source=source, mappings=MappingSet.load(fifth), publisher=pub, store=store)
    try:
        result = worker.poll_once()
        assert result.dead_lettered == 1
        dead = [s for s in pub.sent if s["exchange"] == names.DLX]
        assert dead[0]["headers"][names.H_CASE_NO] == "SB-2026-0001"
        assert dead[0]["routing_key"] == "map.socialsec"
    finally:
        store.close()


def test_the_case_number_is_read_by_the_mapping_whose_condition_holds():
    mappings = MappingSet.load()
    # a housing row names its case in SPSXSLBM; its receipt table in SQBH: each as its mapping says
    assert mappings.case_no_of("commerce-registry", {"applyNo": " ab-1 ", "eventCode": "77"}) == "AB-1"
    assert mappings.case_no_of("commerce-registry", {"platformApplyNo": "P-9"}) == "P-9"
    assert mappings.case_no_of("commerce-registry", {"applyNo": "x" * 101}) is None
    assert mappings.case_no_of("commerce-registry", {"other": 1}) is None
    assert mappings.case_no_of("no-such-system", {"applyNo": "A"}) is None
