"""Each style the scaffold writes passes the whole conformance suite on the real broker, and its
records are delivered end to end: through the hub's source worker onto the broker and from the
platform's partition queues by the delivery worker to the platform simulator."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hub.kit.scaffold import WRITTEN, new

ROOT = Path(__file__).resolve().parents[2]

RUN = """
import json, sys
from hub.kit.conformance import run
results = run("{name}", broker_url=sys.argv[1])
print(json.dumps([r.as_dict() for r in results], ensure_ascii=False))
"""


@pytest.fixture(scope="module", params=WRITTEN)
def package(request, tmp_path_factory):
    style = request.param
    tmp = tmp_path_factory.mktemp(f"style-{style}")
    name = f"kit{style}"
    new(name, style, tmp / "pkg", label_zh="测试局", label_en="test bureau")
    site = tmp / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target",
                    str(site), str(tmp / "pkg")], check=True, timeout=300)
    return name, site


def _python(site, code, *args, timeout=300):
    env = {"PYTHONPATH": f"{ROOT}:{site}", "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_the_scaffolded_adapter_passes_the_whole_suite(package, broker_url):
    import json
    name, site = package
    out = _python(site, RUN.format(name=name), broker_url)
    assert out.returncode == 0, out.stderr[-3000:]
    results = json.loads(out.stdout.strip().splitlines()[-1])
    assert len(results) == 9
    assert all(r["ok"] for r in results), [r for r in results if not r["ok"]]


DELIVER = """
import json, sys
from hub import bus
from hub.adapter import registry
from hub.config import load_settings
from hub.kit.conformance import Subject
from hub.runtime.runner import declare_topology
from hub.runtime.source_worker import SourceWorker
from hub.store import Store

name, url = sys.argv[1], sys.argv[2]
settings = load_settings()
settings["broker_url"] = url
queues = declare_topology(settings)
platform = [q for q in queues if q.startswith(bus.names.partition_queue("platform", 0, 1).rsplit(".", 1)[0] + ".")]
conn = bus.connect(url)
bus.purge(conn, platform)
subject = Subject(name, broker_url=url)
sim = subject.simulator()
config = sim.start()
made = sim.load(2)
store, publisher = Store.open("sqlite://"), bus.ConfirmingPublisher(conn)
adapter = subject.cls(config)
worker = SourceWorker(name=name + ":old", department=adapter.department, system=adapter.system, track="old",
                      source=adapter.source(), mappings=subject.mappings, publisher=publisher, store=store,
                      page_size=4)
while worker.poll_once().has_more:
    pass
arrived = sum(bus.queue_depth(conn, q)[0] for q in platform)
bus.purge(conn, platform)
sim.stop()
print(json.dumps({"made": made, "arrived": arrived, "checkpoint": store.get_checkpoint(name + ":old")}))
"""


def test_its_records_reach_the_platform_queues_through_the_hub(package, broker_url):
    import json
    name, site = package
    out = _python(site, DELIVER, name, broker_url)
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["made"] > 0 and got["arrived"] == got["made"] and got["checkpoint"], got
