"""Each style the scaffold writes (rest, soap, db, file), installed as its own package: its own
tests pass at once, it passes the whole conformance suite on the real broker, and its records are
delivered end to end by a real Hub (source worker, broker, delivery workers) to the platform and
province simulators, its simulator started by the sims cluster as `tongban sims up` starts it.

The four packages are scaffolded and installed once, by one pip call, into one folder that only
the subprocesses see: the test process's own registry stays the hub's five adapters."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hub.kit.scaffold import WRITTEN, new

ROOT = Path(__file__).resolve().parents[2]
NAMES = {style: f"kit{style}" for style in WRITTEN}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("styles")
    for style, name in NAMES.items():
        new(name, style, tmp / name, label_zh="测试局", label_en="test bureau")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target",
                    str(tmp / "site"), *(str(tmp / n) for n in NAMES.values())], check=True, timeout=300)
    return tmp


def python(site: Path, code: str, *args, timeout: float = 300, env: dict | None = None):
    base = {"PYTHONPATH": f"{ROOT}:{site / 'site'}", "PATH": "/usr/bin:/bin", **(env or {})}
    out = subprocess.run([sys.executable, "-c", code, *args], env=base, capture_output=True, text=True,
                         timeout=timeout, cwd=site)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_each_package_s_own_tests_pass_at_once(site):
    others = [NAMES[s] for s in WRITTEN if s != "rest"]   # rest's run in tests/kit/test_scaffold.py
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(site),
                          *(str(site / n / "tests") for n in others)],
                         env={"PYTHONPATH": f"{ROOT}:{site / 'site'}", "PATH": "/usr/bin:/bin"}, cwd=site,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert f"{8 * len(others)} passed" in run.stdout, run.stdout[-500:]


SUITE = """
import json, sys
from hub.kit.conformance import run
print(json.dumps({name: [r.as_dict() for r in run(name, broker_url=sys.argv[1])] for name in sys.argv[2:]},
                 ensure_ascii=False))
"""


@pytest.fixture(scope="module")
def suite(site, broker_url):
    return python(site, SUITE, broker_url, *NAMES.values(), timeout=400)


@pytest.mark.parametrize("style", WRITTEN)
def test_the_scaffolded_adapter_passes_the_whole_suite(suite, style):
    results = suite[NAMES[style]]
    assert [r["check"] for r in results] == ["spec", "samples", "cursor", "versions", "at_least_once", "bad_input",
                                             "sink", "connection", "timing"]
    assert all(r["ok"] for r in results), [r for r in results if not r["ok"]]
    bad = next(r for r in results if r["check"] == "bad_input")["reason"]
    assert "decode 1, map 1, validate 1" in bad   # a malformed record per stage, each dead-lettered
    versions = next(r for r in results if r["check"] == "versions")["reason"]
    assert "has a new id" in versions             # each simulator corrects a record it served


END_TO_END = """
import json, sys, time
from hub import bus
from hub.cli.sign import register_with_simulator
from hub.config import load_settings, with_endpoints
from hub.ops.verify import verify
from hub.runtime.runner import Hub, declare_topology
from hub.store import Store
from sims.cluster import start_all

broker, db, names = sys.argv[1], sys.argv[2], sys.argv[3:]
cluster = start_all(ports=0, names=["platform", "province", *names])   # as `tongban sims up` starts them
try:
    s = load_settings()
    for conf in s["adapters"].values():
        conf["enabled"] = False
    for name in names:
        s["adapters"][name] = {"poll_interval": 0.1}
    s = with_endpoints(s, cluster.endpoints)
    register_with_simulator(s, cluster.urls["province"])
    s.update(broker_url=broker, db_url=db)
    s["consumer"].update(backoff_initial=0.2, backoff_max=1.0)
    conn = bus.connect(broker)
    bus.purge(conn, declare_topology(s) + [bus.names.DEAD_QUEUE, bus.names.UNROUTED_QUEUE])
    made = {name: cluster[name].load(2, bad=1)["records"] for name in names}
    store = Store.open(db)
    hub = Hub(s, store=store).start()
    try:
        deadline, report = time.monotonic() + 120, None
        while time.monotonic() < deadline:
            report = verify(s, store, hub.mappings)
            if report["ok"] and all(d["missing"] == 0 and d["expected"] for d in report["destinations"].values()):
                break
            time.sleep(1)
    finally:
        hub.shutdown()
    departments = {dept: {dest: [r["delivered"], r["expected"], r["duplicates"], r["out_of_order"]]
                          for dest, r in by.items()} for dept, by in report["departments"].items()}
    print(json.dumps({"ok": report["ok"], "made": made, "departments": departments,
                      "unmappable": report["unmappable_records"]}))
finally:
    cluster.stop()
"""


def test_every_style_is_delivered_end_to_end_by_a_hub(site, broker_url):
    names = [NAMES[s] for s in WRITTEN]
    got = python(site, END_TO_END, broker_url, f"sqlite:///{site / 'hub.db'}", *names, timeout=300)
    assert got["ok"], got
    for name in names:
        # two cases, three steps each: every step to the platform, the decision to the province,
        # once each and in order; the bad records (one per stage) were dead-lettered, not delivered
        assert got["made"][name] == 6
        assert got["departments"][name] == {"platform": [6, 6, 0, 0], "province": [2, 2, 0, 0]}, got
    assert got["unmappable"] == 2 * len(names)   # the map and validate ones; decode's is no record
