"""Each style the scaffold writes (rest, soap, db, file), installed as its own package: its own
tests pass at once, it passes the whole conformance suite on the real broker, and its records are
delivered end to end by a real Hub (source worker, broker, delivery workers) to the platform and
province simulators, its simulator started by the sims cluster as `tongban sims up` starts it.

The four packages are the session's (tests/kit/conftest.py): scaffolded and installed once, by one
pip call, into one folder that only the subprocesses see."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hub.kit.scaffold import WRITTEN

from .conftest import PACKAGES

ROOT = Path(__file__).resolve().parents[2]
NAMES = {style: name for style, (name, _, _) in PACKAGES.items()}


@pytest.fixture(scope="module")
def site(scaffolded):
    return scaffolded


def python(site: Path, code: str, *args, timeout: float = 300, env: dict | None = None):
    base = {"PYTHONPATH": f"{ROOT}:{site / 'site'}", "PATH": "/usr/bin:/bin", **(env or {})}
    out = subprocess.run([sys.executable, "-c", code, *args], env=base, capture_output=True, text=True,
                         timeout=timeout, cwd=site)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_package_s_own_tests_pass_at_once(site):
    # The tests are one template for every style (templates/common/test_adapter.py.tmpl): the
    # registration and seven conformance checks. Run here as installed for the db package, by the
    # tutorial (tests/kit/test_tutorial.py) for a rest one; the suite below runs every check on
    # every style.
    others = [NAMES["db"]]
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


FAULTS = """
import json, sys, requests
from hub.adapter import SourceUnavailable, registry
out = {}
for name in sys.argv[1:]:
    cls = registry.load(name)
    sim = cls.simulator()
    adapter = cls(sim.start())
    sim.load(1)
    admin = lambda path, body=None: requests.post(sim.admin_url + path, json=body, timeout=10).json()
    seen = {}
    def fetch(what):
        try:
            seen[what] = len(adapter.source().fetch(None, 10).records)
        except SourceUnavailable as exc:
            seen[what] = "unavailable: " + str(exc)[:80]
    admin("/_admin/faults", {"down": True})
    seen["check_down"] = adapter.check().ok
    fetch("down")
    admin("/_admin/faults", {"down": False})
    seen["check_up"] = adapter.check().ok
    fetch("up")
    if cls.style in ("rest", "soap"):   # the ones whose system answers calls
        admin("/_admin/faults", {"fail": 1})
        fetch("failing")
        fetch("after")
    seen["unknown"] = requests.post(sim.admin_url + "/_admin/faults", json={"fire": 1}, timeout=10).status_code
    sim.stop()
    out[name] = seen
print(json.dumps(out))
"""


def test_each_simulator_goes_down_and_fails_on_request(site):
    got = python(site, FAULTS, *NAMES.values())
    for style, name in NAMES.items():
        seen = got[name]
        assert seen["check_down"] is False and str(seen["down"]).startswith("unavailable"), (style, seen)
        assert seen["check_up"] is True and seen["up"] == 3, (style, seen)   # one case: three steps
        assert seen["unknown"] == 400, (style, seen)                          # a fault it does not know is refused
        if style in ("rest", "soap"):
            assert str(seen["failing"]).startswith("unavailable") and seen["after"] == 3, (style, seen)


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


def _machine(site: Path, ports: dict[str, int]) -> Path:
    """Settings for `tongban sims up` here: every simulator on a free port (so it runs beside a
    demo), the installed ones' ports and adapter settings added as an integrator adds them."""
    import yaml
    from hub.config import load_settings
    from tests.ports import free_port
    s = load_settings()
    for conf in s["adapters"].values():
        conf["enabled"] = False
    s["sims"] = {"host": "127.0.0.1", **{k: free_port() for k in s["sims"] if k.endswith("_port")},
                 **{f"{name}_port": port for name, port in ports.items()}}
    s["adapters"]["kitdb"] = {"db_url": f"sqlite:///file:{site / 'var-kitdb'}/exchange-old.db?mode=rw&uri=true",
                              "admin_url": f"http://127.0.0.1:{ports['kitdb']}"}
    s["adapters"]["kitsoap"] = {"url": f"http://127.0.0.1:{ports['kitsoap']}"}
    path = site / "machine.yaml"
    path.write_text(yaml.safe_dump(s, allow_unicode=True), encoding="utf-8")
    return path


def test_tongban_sims_up_starts_an_installed_package_s_simulator(site):
    import requests
    from tests.ports import free_port
    ports = {name: free_port() for name in ("kitdb", "kitdb_new", "kitsoap")}
    env = {"PYTHONPATH": f"{ROOT}:{site / 'site'}", "PATH": "/usr/bin:/bin",
           "TONGBAN_CONFIG": str(_machine(site, ports)), "TONGBAN_SIM_KITDB_HOME": str(site / "var-kitdb"),
           "TONGBAN_SIM_KITDB_NEW_HOME": str(site / "var-kitdb-new")}

    def tongban(*args):
        return subprocess.run([sys.executable, "-m", "hub.cli.main", *args], env=env, capture_output=True, text=True,
                              timeout=120, cwd=site)

    up = tongban("sims", "up")
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        health = {n: requests.get(f"http://127.0.0.1:{p}/_admin/health", timeout=5).json() for n, p in ports.items()}
        assert health["kitdb"]["track"] == "old" and health["kitdb_new"]["track"] == "new", health
        # the hub's own commands reach them through the adapters' settings: a connection test, new cases
        checked = tongban("adapters", "check", "kitdb")
        assert checked.returncode == 0 and checked.stdout.startswith("ok:"), checked.stdout + checked.stderr
        loaded = tongban("load", "--cases", "2")
        assert loaded.returncode == 0, loaded.stderr
        for name in ("kitdb", "kitsoap"):
            events = requests.get(f"http://127.0.0.1:{ports[name]}/_admin/events", timeout=5).json()
            assert events["count"] == 6, (name, events)
        # the new track is a second instance, with its own database and nothing loaded into it
        assert (site / "var-kitdb-new" / "exchange-new.db").exists()
        assert requests.get(f"http://127.0.0.1:{ports['kitdb_new']}/_admin/events", timeout=5).json()["count"] == 0
    finally:
        down = tongban("sims", "down")
    assert down.returncode == 0, down.stderr
    assert not (site / "var-kitdb" / "exchange-old.db").exists()   # stopped: its database gone with it
