"""Worker processes share the partitions: each partition has exactly one consumer (the
process holding its lock; the others stand by without a registered consumer, which on
RabbitMQ 3.10 would crash the queue when the active one goes, rabbitmq-server#5460); the
partitions spread evenly (no process holds more than ceil(P/W) of a destination's); when
a process is SIGKILLed the others take its partitions over and deliver the rest, once
each and in order. On SQLite and on PostgreSQL (the store of any multi-process deployment)."""
from __future__ import annotations

import math
import time

import requests

from hub import bus
from hub.store import Store
from tests.conftest import partition_queues, wait_until, wait_delivered
from tests.reliability.harness import Worker

DESTS = ("platform", "province")


def _consumers(settings) -> dict[str, int]:
    conn = bus.connect(settings["broker_url"])
    try:
        return {q: bus.queue_depth(conn, q)[1] for d in DESTS for q in partition_queues(settings, d)}
    finally:
        conn.release()


def _holdings(store) -> dict[str, dict[str, int]]:
    """worker -> destination -> partitions it holds (from the heartbeats)."""
    out: dict[str, dict[str, int]] = {}
    for w in store.live_workers(3.0):
        counts = out.setdefault(w["worker"], {})
        for unit, group in (w.get("holds") or {}).items():
            if group in DESTS:
                counts[group] = counts.get(group, 0) + 1
    return out


def _spread_evenly(store, workers: int, partitions: int):
    held = _holdings(store)
    cap = math.ceil(partitions / workers)
    return (len(held) == workers and all(sum(c.get(d, 0) for c in held.values()) == partitions for d in DESTS)
            and all(n <= cap for c in held.values() for n in c.values()) and held)


def _delivered_all(settings, store, cases: int):
    report = wait_delivered(settings, store, timeout=180, what="everything delivered")
    for d in report["destinations"].values():
        assert d["duplicates"] == 0 and d["out_of_order"] == 0
    assert report["destinations"]["platform"]["delivered"] == 3 * cases
    return report


def test_partitions_spread_over_workers_and_a_dead_ones_are_taken_over(settings, sims, tmp_path, shared_db_url):
    settings["db_url"] = shared_db_url
    requests.post(sims.urls["platform"] + "/_admin/faults", json={"latency_ms": 5}, timeout=5)
    requests.post(sims.urls["commerce"] + "/_admin/load", json={"cases": 400}, timeout=60).raise_for_status()
    store = Store.open(settings["db_url"])
    partitions = len(partition_queues(settings, "platform"))
    first = Worker(settings, tmp_path, 0)
    workers = [first]
    try:
        wait_until(lambda: _spread_evenly(store, 1, partitions), timeout=30, what="the first worker holding all")
        second = Worker(settings, tmp_path, 1)
        workers.append(second)
        held = wait_until(lambda: _spread_evenly(store, 2, partitions), timeout=40, interval=0.5,
                          what="the partitions spread over two workers")
        assert all(c == {d: partitions // 2 for d in DESTS} for c in held.values()), held
        assert set(_consumers(settings).values()) == {1}   # one consumer per partition, never two
        wait_until(lambda: store.counts()["deliveries"].get("platform", 0) > 100, timeout=60, what="deliveries")
        before = store.counts()["deliveries"]["platform"]
        first.kill()
        started = time.monotonic()
        # the broker's view first: every partition consumed again; then the store's heartbeats
        wait_until(lambda: set(_consumers(settings).values()) == {1}, timeout=20, interval=0.1,
                   what="every partition consumed again")
        consumed = time.monotonic() - started
        wait_until(lambda: _holdings(store).get(next(iter(_holdings(store))), {}) == {d: partitions for d in DESTS},
                   timeout=20, interval=0.2, what="the survivor holding every partition")
        print(f"TAKEOVER seconds={consumed:.1f} heartbeat_seconds={time.monotonic() - started:.1f} "
              f"store={shared_db_url.split(':')[0]}")
        assert before <= 1200
        requests.post(sims.urls["platform"] + "/_admin/faults", json={"latency_ms": 0}, timeout=5)
        _delivered_all(settings, store, 400)
        assert second.terminate() == 0, second.tail()
    finally:
        for w in workers:
            if w.alive():
                w.kill()


def test_run_workers_2_shares_the_work_and_restarts_a_dead_child(settings, sims, tmp_path, shared_db_url):
    """`tongban run --workers 2`: two processes under one parent; a SIGKILLed child is
    started again by the parent, and nothing is lost, duplicated or reordered."""
    import os
    import signal
    settings["db_url"] = shared_db_url
    requests.post(sims.urls["platform"] + "/_admin/faults", json={"latency_ms": 3}, timeout=5)
    requests.post(sims.urls["commerce"] + "/_admin/load", json={"cases": 300}, timeout=60).raise_for_status()
    store = Store.open(settings["db_url"])
    partitions = len(partition_queues(settings, "platform"))
    parent = Worker(settings, tmp_path, 0, args=("--workers", "2"))
    try:
        wait_until(lambda: _spread_evenly(store, 2, partitions), timeout=60, interval=0.5,
                   what="two children sharing the partitions")
        victim = next(iter(_holdings(store)))
        os.kill(int(victim.split(":")[1]), signal.SIGKILL)
        wait_until(lambda: victim not in _holdings(store) and _spread_evenly(store, 2, partitions), timeout=60,
                   interval=0.5, what="the child started again and the partitions spread again")
        requests.post(sims.urls["platform"] + "/_admin/faults", json={"latency_ms": 0}, timeout=5)
        _delivered_all(settings, store, 300)
        assert parent.terminate() == 0, parent.tail()
    finally:
        if parent.alive():
            parent.kill()
