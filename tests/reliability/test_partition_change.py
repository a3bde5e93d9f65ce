"""Changing P on a running system (`tongban partitions set`, drain and switch): two worker
processes deliver under load while the platform goes from 4 partitions to 8 and the
province from 4 to 2. Nothing is lost, duplicated or reordered; the old queues drain and
are deleted; the new ones spread over the workers. And a store that is new to a broker
with another layout (the store moved) drains that layout first instead of leaving it bound.
On SQLite and on PostgreSQL."""
from __future__ import annotations

import math
import subprocess
import sys
import uuid

import pytest
import requests

from hub import bus
from hub.runtime.runner import declare_topology
from hub.store import Store
from tests.conftest import ROOT, _ctl, hub_env, wait_until, wait_delivered
from tests.reliability.harness import Worker

CHANGES = {"platform": 8, "province": 2}


@pytest.fixture
def own_vhost(settings):
    """These tests leave layouts on the broker that other tests' fresh stores must not meet."""
    vhost = f"tongban-pchange-{uuid.uuid4().hex[:8]}"
    _ctl("add_vhost", vhost)
    _ctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    settings["broker_url"] = f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    yield settings
    subprocess.run(["rabbitmqctl", "delete_vhost", vhost], capture_output=True, timeout=60)


def _tongban(settings, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hub.cli.main", *args], cwd=ROOT, env=hub_env(settings),
                          capture_output=True, text=True, timeout=120)


def _exists(settings, queues) -> list[bool]:
    conn = bus.connect(settings["broker_url"])
    try:
        return [bus.exists(conn, q) for q in queues]
    finally:
        conn.release()


def _held_by_worker(store, dest: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for w in store.live_workers(3.0):
        out[w["worker"]] = sum(1 for group in (w.get("holds") or {}).values() if group == dest)
    return out


def _switched(settings, store):
    layouts = store.layouts()
    return all(layouts[d] == {"active": p, "draining": []} for d, p in CHANGES.items()) and not any(
        _exists(settings, [q for d in CHANGES for q in bus.names.partition_queues(d, 4)]))


def test_changing_p_under_load_loses_and_reorders_nothing(own_vhost, sims, tmp_path, shared_db_url):
    settings = own_vhost
    settings["db_url"] = shared_db_url
    declare_topology(settings)
    requests.post(sims.urls["platform"] + "/_admin/faults", json={"latency_ms": 4}, timeout=5)
    requests.post(sims.urls["commerce"] + "/_admin/load", json={"cases": 300}, timeout=60).raise_for_status()
    store = Store.open(settings["db_url"])
    workers = [Worker(settings, tmp_path, 0), Worker(settings, tmp_path, 1)]
    try:
        wait_until(lambda: store.counts()["deliveries"].get("platform", 0) > 60, timeout=90, what="deliveries")
        for dest, p in CHANGES.items():
            out = _tongban(settings, "partitions", "set", dest, str(p), "--reason", "test: more cases")
            assert out.returncode == 0, out.stderr[-2000:]
        # more cases while the old layouts drain: they go to the new queues and wait there
        requests.post(sims.urls["commerce"] + "/_admin/load", json={"cases": 100}, timeout=60).raise_for_status()
        requests.post(sims.urls["platform"] + "/_admin/faults", json={"latency_ms": 0}, timeout=5)
        wait_until(lambda: _switched(settings, store), timeout=120, interval=0.5,
                   what="the old layouts drained and deleted")
        report = wait_delivered(settings, store, timeout=180, what="everything delivered")
        for d in report["destinations"].values():
            assert d["duplicates"] == d["out_of_order"] == d["unexpected"] == 0, d
        assert report["destinations"]["platform"]["delivered"] == 3 * 400
        assert all(_exists(settings, [q for d, p in CHANGES.items() for q in bus.names.partition_queues(d, p)]))
        for dest, p in CHANGES.items():   # the new layout spreads as evenly as the old one did
            # (the first process to see the new layout takes what is free; the other's share is
            # handed over one partition per steady interval of the allotment)
            wait_until(lambda: (h := _held_by_worker(store, dest)) and sum(h.values()) == p and len(h) == 2
                       and max(h.values()) <= math.ceil(p / 2) and h, timeout=60, interval=0.5,
                       what=f"{dest}'s {p} partitions spread over the two workers")
        shown = _tongban(settings, "partitions", "show")
        assert "platform         8 partition(s)" in shown.stdout and "draining" not in shown.stdout, shown.stdout
        audit = store.audit_log("partitions.set", target="platform")
        assert [(a["reason"], a["details"]) for a in audit] == [("test: more cases", {"from": 4, "to": 8})], audit
        for w in workers:
            assert w.terminate() == 0, w.tail()
    finally:
        for w in workers:
            if w.alive():
                w.kill()
        store.close()


def _logged(store, messages) -> None:
    from hub.model import Envelope
    from hub.runtime.outbound import log_row
    store.log_messages([log_row(Envelope.model_validate_json(body), "platform", "platform-applications", "old")
                        for body, _ in messages])


def _envelope(no: str) -> tuple[bytes, str]:
    from datetime import datetime

    from hub.model import SHANGHAI, Applicant, Application, Envelope, Source, message_id
    from hub.model.envelope import now
    app = Application(application_no=no, item_code="000116001000", department="land",
                      applicant=Applicant(kind="organisation", name="杭州恒达置业有限公司", id_type="uscc",
                                          id_number="91330106MA2H7K3P2R"),
                      submitted_at=datetime.now(SHANGHAI), form={"item_name": "建设用地规划许可证核发"})
    mid = str(message_id("platform-applications", "platform.application", no, "1"))
    env = Envelope(message_id=mid, schema_name="tongban.application", kind="application",
                   source=Source(department="platform", system="platform-applications"), case_no=no,
                   mapping="platform.application@1", record_key=no, occurred_at=app.submitted_at,
                   produced_at=now(), trace_id=uuid.uuid4().hex, payload=app)
    return env.model_dump_json().encode(), mid


def test_a_new_store_drains_a_layout_it_does_not_know(own_vhost, sims, tmp_path):
    from hub.ops.partitions import set_partitions
    from tests.conftest import slot_headers
    settings = own_vhost
    for name, conf in settings["adapters"].items():   # nothing but what this test puts on the bus
        conf["enabled"] = False
    first = Store.open(f"sqlite:///{tmp_path / 'first.db'}")
    declare_topology(settings, first)
    set_partitions(settings, first, "platform", 2, actor="test", reason="an earlier change")
    first.close()
    # Messages routed by the 2-partition layout, never worked: the hub that made it is gone.
    envelopes = {f"ZJWB2026112600{n:04d}": _envelope(f"ZJWB2026112600{n:04d}") for n in range(20)}
    conn = bus.connect(settings["broker_url"])
    pub = bus.ConfirmingPublisher(conn)
    try:
        for no, (body, mid) in envelopes.items():
            pub.publish(body, bus.names.destination_exchange("platform"), "land.application.submitted",
                        message_id=mid, headers=slot_headers(no))
        pub.flush()
    finally:
        pub.close()
        conn.release()
    settings["db_url"] = f"sqlite:///{tmp_path / 'moved.db'}"   # the store moved; the broker kept both layouts
    moved = Store.open(settings["db_url"])
    declare_topology(settings, moved)
    _logged(moved, envelopes.values())    # the log moved with it: no delivery without evidence
    assert moved.layouts()["platform"] == {"active": 4, "draining": [2]}
    moved.close()
    worker = Worker(settings, tmp_path, 0)
    try:
        store = Store.open(settings["db_url"])
        wait_until(lambda: store.layouts()["platform"] == {"active": 4, "draining": []}
                   and not any(_exists(settings, bus.names.partition_queues("platform", 2))), timeout=60,
                   what="the unknown layout drained and deleted")
        got = requests.get(sims.urls["platform"] + "/_admin/received", timeout=10).json()["items"]
        assert sorted(i["message_id"] for i in got) == sorted(mid for _, mid in envelopes.values())
        store.close()
        assert worker.terminate() == 0, worker.tail()
    finally:
        if worker.alive():
            worker.kill()
