"""`tongban adapters new` (hub/kit/scaffold.py): the package it writes installs, registers itself,
and its records map through the hub's source worker; bad requests are refused."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hub.kit.scaffold import ScaffoldError, new

ROOT = Path(__file__).resolve().parents[2]


def _env(*paths) -> dict:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *map(str, paths)])}


@pytest.fixture(scope="module")
def installed(scaffolded):
    """The rest package (socialsec) of the session's scaffolded set (tests/kit/conftest.py); its own
    tests are run with the other styles' in tests/kit/test_scaffold_styles.py."""
    return scaffolded / "socialsec", scaffolded / "site"


def test_the_hub_finds_it_by_its_entry_point_and_labels_its_department(installed):
    _, site = installed
    code = ("from hub.adapter import departments, registry; "
            "print(registry.load('socialsec').__module__, departments.label('socialsec'))")
    out = subprocess.run([sys.executable, "-c", code], env=_env(site), capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "tongban_socialsec 人力资源和社会保障局 human resources and social security", out.stderr


def test_its_records_map_through_the_source_worker(installed):
    pkg, site = installed
    code = f"""
import json
from hub.adapter import registry
from hub.mapping import MappingSet
from hub.runtime.source_worker import SourceWorker
from hub.store import Store
from tongban_socialsec.sim import Sim

class Pub:
    sent = []
    def publish(self, body, exchange, key, **kw): self.sent.append((exchange, key))
    def flush(self): pass

sim = Sim(cases=2).start()
adapter = registry.create("socialsec", {{"url": sim.url}})
store = Store.open("sqlite://")
worker = SourceWorker(name="socialsec:old", department=adapter.department, system=adapter.system, track="old",
                      source=adapter.source(), mappings=MappingSet.load({str(pkg / 'tongban_socialsec' / 'mappings')!r}),
                      publisher=Pub(), store=store, page_size=100)
r = worker.poll_once()
print(json.dumps([r.records, r.published, r.dead_lettered, sorted(set(Pub.sent))]))
sim.stop()
"""
    out = subprocess.run([sys.executable, "-c", code], env=_env(site), capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    records, published, dead, sent = __import__("json").loads(out.stdout.strip().splitlines()[-1])
    assert (records, published, dead) == (6, 6, 0)
    assert sorted({k for _, k in sent}) == ["socialsec.case_event.accepted", "socialsec.case_event.completed",
                                            "socialsec.case_event.decided"]


@pytest.mark.parametrize("args, message", [
    (("Social Sec", "rest"), "must be a lower-case identifier"),
    (("socialsec", "grpc"), "is not one of rest, soap, db, file"),
    (("socialsec", "rest", None, "Social"), "department 'Social' must be a lower-case identifier"),
])
def test_bad_requests_are_refused_saying_why(tmp_path, args, message):
    name, style, *rest = args
    with pytest.raises(ScaffoldError, match=message):
        new(name, style, tmp_path / "x", department=rest[1] if rest else None)


def test_a_folder_in_use_is_not_overwritten(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(ScaffoldError, match="not empty"):
        new("socialsec", "rest", tmp_path)
    assert (tmp_path / "keep.txt").read_text() == "mine"
