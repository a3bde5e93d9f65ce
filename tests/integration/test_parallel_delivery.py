"""A destination with P partitions gets up to P requests at once, over keep-alive
connections, and still sees each case in order (verify's out_of_order counts a case's
steps as the destination received them)."""
from __future__ import annotations

import requests

from hub.ops.verify import verify
from hub.runtime.runner import Hub
from hub.store import Store
from tests.conftest import partition_queues, wait_delivered


def _concurrency(sims, name: str) -> dict:
    return requests.get(sims.urls[name] + "/_admin/concurrency", timeout=5).json()


def test_each_partition_sends_at_once_over_its_own_kept_connection(settings, sims):
    for name, conf in settings["adapters"].items():   # only commerce's records: nothing else calls the sims
        conf["enabled"] = name == "commerce"
    for name in ("platform", "province"):
        requests.post(sims.urls[name] + "/_admin/reset", json={}, timeout=5)
        requests.post(sims.urls[name] + "/_admin/faults", json={"latency_ms": 40}, timeout=5)
    requests.post(sims.urls["commerce"] + "/_admin/load", json={"cases": 120}, timeout=60).raise_for_status()
    store = Store.open(settings["db_url"])
    hub = Hub(settings, store=store).start()
    try:
        report = wait_delivered(settings, store, hub.mappings, timeout=180, what="every message delivered")
    finally:
        hub.shutdown()
        store.close()
    for d in report["destinations"].values():
        assert d["out_of_order"] == d["duplicates"] == 0, d
    for name in ("platform", "province"):
        p = len(partition_queues(settings, name))
        seen = _concurrency(sims, name)
        print(f"PARALLEL {name} partitions={p} {seen} delivered={report['destinations'][name]['delivered']}")
        # up to P at once, and more than one: the partitions send side by side
        assert 2 <= seen["max_in_flight"] <= p, (name, seen)
        # hundreds of calls over about one connection per partition (plus verify's and this
        # test's own calls, a connection each): a client without keep-alive opens one a call
        delivered = report["destinations"][name]["delivered"]
        assert delivered >= 200 and seen["connections"] < delivered / 8, (name, seen)
