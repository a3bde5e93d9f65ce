"""RabbitMQ restarted under a running hub (`rabbitmqctl stop_app`, then `start_app`):
every loop loses its connection, backs off, reconnects and carries on; nothing is lost
(unconfirmed publishes are published again, unacked deliveries redelivered) and nothing
takes effect twice (the ledger and the idempotency keys). The restart is of a node of
the test's own (tests/reliability/broker_node.py), so other runs on the machine's
RabbitMQ are not disturbed."""
from __future__ import annotations

import time

import pytest
import requests

from hub.ops.verify import verify
from hub.runtime.runner import Hub
from hub.store import Store
from tests.conftest import partition_queues, wait_until
from tests.reliability.harness import broker_node, fault_settings  # noqa: F401 - broker_node is a fixture

pytestmark = pytest.mark.exclusive_broker


def _load(sims, cases):
    requests.post(sims.urls["commerce"] + "/_admin/load", json={"cases": cases}, timeout=60).raise_for_status()


def test_broker_restart_mid_flow_loses_nothing_and_duplicates_nothing(broker_node, sims, tmp_path):  # noqa: F811
    settings = fault_settings(broker_node, sims, tmp_path)
    # A slow platform keeps deliveries in flight when the broker goes.
    requests.post(sims.urls["platform"] + "/_admin/faults", json={"latency_ms": 3}, timeout=5)
    _load(sims, 300)
    store = Store.open(settings["db_url"])
    hub = Hub(settings, store=store).start()
    try:
        wait_until(lambda: store.counts()["deliveries"].get("platform", 0) > 150, timeout=60,
                   what="deliveries under way")
        with broker_node.down():
            _load(sims, 100)   # the legacy system is up: its source must wait for the broker, not lose this
            time.sleep(3)
            at_restart = store.counts()["deliveries"].get("platform", 0)
            assert at_restart < 1200
            down = {s.name: s.failures for s in hub.supervisors}
        report = wait_until(lambda: (r := verify(settings, store, hub.mappings))["ok"]
                            and r["destinations"]["platform"]["missing"] == 0 and r,
                            timeout=120, interval=1, what="complete delivery after the restart")
        reconnects = {s.name: s.failures for s in hub.supervisors}
    finally:
        hub.shutdown()
    # Every loop lost the broker and came back by itself (the supervisor's back-off): each
    # partition of the platform's
    platform_loops = [f"deliver:{q}" for q in partition_queues(settings, "platform")]
    assert all(down[n] >= 1 and reconnects[n] >= 1 for n in platform_loops), (down, reconnects)
    assert any(n.startswith("source:commerce") and f >= 1 for n, f in reconnects.items())
    platform, province = report["destinations"]["platform"], report["destinations"]["province"]
    assert platform["delivered"] == platform["expected"] == 1200
    assert province["delivered"] == province["expected"] == 800
    for d in (platform, province):
        assert d["duplicates"] == 0 and d["out_of_order"] == 0 and d["unexpected"] == 0
    assert store.counts()["deliveries"] == {"platform": 1200, "province": 800}
    stats = requests.get(sims.urls["platform"] + "/_admin/stats", timeout=10).json()
    assert stats["accepted"] == 1200
