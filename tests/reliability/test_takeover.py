"""Two `tongban run` processes compete: each delivery queue has exactly one consumer (the
process holding its lock; the other stands by without a registered consumer, which on
RabbitMQ 3.10 would crash the queue when the active one goes, rabbitmq-server#5460), and
when the holder is SIGKILLed the other takes over within seconds and delivers the rest,
once each and in order."""
from __future__ import annotations

import time

import requests

from hub import bus
from hub.ops.verify import verify
from hub.store import Store
from tests.conftest import wait_until
from tests.reliability.harness import Worker

QUEUES = ("tongban.to.platform", "tongban.to.province")


def _consumers(settings) -> dict[str, int]:
    conn = bus.connect(settings["broker_url"])
    try:
        return {q: bus.queue_depth(conn, q)[1] for q in QUEUES}
    finally:
        conn.release()


def test_one_consumer_per_queue_and_the_standby_takes_over(settings, sims, tmp_path):
    requests.post(sims.urls["platform"] + "/_admin/faults", json={"latency_ms": 5}, timeout=5)
    requests.post(sims.urls["commerce"] + "/_admin/load", json={"cases": 400}, timeout=60).raise_for_status()
    store = Store.open(settings["db_url"])
    first = Worker(settings, tmp_path, 0)
    wait_until(lambda: _consumers(settings) == {q: 1 for q in QUEUES}, timeout=30, what="the first worker consuming")
    second = Worker(settings, tmp_path, 1)
    workers = [first, second]
    try:
        wait_until(lambda: store.counts()["deliveries"].get("platform", 0) > 100, timeout=60, what="deliveries")
        time.sleep(3)   # the second worker is up and trying for the queues
        assert _consumers(settings) == {q: 1 for q in QUEUES}
        assert "tongban.to.platform: consuming" not in second.tail(100000)
        before = store.counts()["deliveries"]["platform"]
        first.kill()
        wait_until(lambda: "tongban.to.platform: consuming" in second.tail(100000), timeout=15,
                   what="the standby taking the queue over")
        wait_until(lambda: store.counts()["deliveries"]["platform"] > before + 50, timeout=30,
                   what="deliveries by the second worker")
        requests.post(sims.urls["platform"] + "/_admin/faults", json={"latency_ms": 0}, timeout=5)
        report = wait_until(lambda: (r := verify(settings, store))["ok"] and all(
            d["missing"] == 0 for d in r["destinations"].values()) and r, timeout=120, interval=1,
            what="everything delivered")
        assert second.terminate() == 0, second.tail()
    finally:
        for w in workers:
            if w.alive():
                w.kill()
    for d in report["destinations"].values():
        assert d["duplicates"] == 0 and d["out_of_order"] == 0
    assert report["destinations"]["platform"]["delivered"] == 1200
