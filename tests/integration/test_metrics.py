"""/metrics, /healthz and /readyz with real traffic on the real broker: the figures move as
the hub works, agree with the store, break no label rule, and a `tongban run --workers 2`
shows one coherent set (the parent sums both workers)."""
from __future__ import annotations

import signal
import subprocess
import sys

import requests

from hub.observability import server
from hub.ops.verify import verify
from hub.runtime.runner import Hub
from hub.store import Store
from tests.conftest import ROOT, hub_env, wait_until
from tests.metrics_rules import families, label_problems, value
from tests.ports import free_port


def _scrape(port: int) -> tuple[dict, str]:
    text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    return families(text), text


def _case_numbers(store) -> set[str]:
    rows = store.list_dead_letters(limit=1000)
    # record keys too where they are more than a row number ("17" is in many a figure)
    return {r["case_no"] for r in rows if r["case_no"]} | {r["record_key"] for r in rows
                                                          if r["record_key"] and len(r["record_key"]) >= 6}


def test_metrics_move_with_traffic_and_agree_with_the_store(settings, sims):
    store = Store.open(settings["db_url"])
    port = free_port()
    srv = server.serve(settings, port=port, store=store)
    assert srv is not None
    try:
        assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json()["status"] == "ok"
        before, _ = _scrape(port)
        requests.post(settings["adapters"]["commerce"]["url"] + "/_admin/load", json={"cases": 15, "bad": 1},
                      timeout=60).raise_for_status()
        hub = Hub(settings, store=store).start()
        try:
            report = wait_until(lambda: (r := verify(settings, store, hub.mappings))["ok"]
                                and r["dead_letters"] >= 1 and r, timeout=120, interval=1, what="delivered")
            ready = requests.get(f"http://127.0.0.1:{port}/readyz", timeout=10)
            assert ready.status_code == 200 and ready.json()["status"] == "ready", ready.text
            after, text = _scrape(port)
        finally:
            hub.shutdown()
    finally:
        srv.shutdown()

    def moved(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    counts = store.counts()
    for dest in ("platform", "province"):
        assert moved("tongban_deliveries_total", destination=dest) == counts["deliveries"][dest] \
            == report["destinations"][dest]["delivered"]
        assert moved("tongban_delivery_duration_seconds_count", destination=dest) >= counts["deliveries"][dest]
        assert moved("tongban_source_to_destination_seconds_count", destination=dest) >= counts["deliveries"][dest]
        assert value(after, "tongban_breaker_state", destination=dest) == 0
        assert any(s.labels == {"destination": dest} for s in after["tongban_queue_messages"].samples)
    assert moved("tongban_messages_published_total", department="commerce", track="old") == counts["messages"]
    assert moved("tongban_records_read_total", department="commerce") >= 16 * 3
    assert moved("tongban_dead_letters_total", department="commerce") >= 1
    lag = [s for s in after["tongban_source_lag_seconds"].samples
           if s.labels == {"department": "commerce", "track": "old"}]   # the source this hub ran
    assert lag and lag[0].value < 60
    assert value(after, "tongban_state_read_ok") == 1
    assert not label_problems(text, _case_numbers(store))


def test_two_worker_processes_expose_one_coherent_set(settings, sims):
    port = free_port()
    settings = dict(settings, metrics_port=port)
    requests.post(settings["adapters"]["commerce"]["url"] + "/_admin/load", json={"cases": 12},
                  timeout=60).raise_for_status()
    proc = subprocess.Popen([sys.executable, "-m", "hub.cli.main", "run", "--workers", "2"], cwd=ROOT,
                            env=hub_env(settings), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    store = Store.open(settings["db_url"])
    try:
        wait_until(lambda: verify(settings, store)["ok"], timeout=150, interval=1, what="delivered by 2 workers")
        wait_until(lambda: len(store.live_workers(3.0)) == 2, timeout=30, what="two live workers")
        counts = store.counts()["deliveries"]
        # the ledger's rows were written by both workers (the partitions spread over them);
        # the parent's /metrics counts every one of them
        got = wait_until(lambda: (f := _scrape(port)[0]) and all(
            value(f, "tongban_deliveries_total", destination=d) == counts[d] for d in counts) and f,
            timeout=20, interval=1, what="metrics equal to the ledger")
        assert value(got, "tongban_messages_published_total") == store.counts()["messages"]
        assert requests.get(f"http://127.0.0.1:{port}/readyz", timeout=10).status_code == 200
        assert not label_problems(_scrape(port)[1])
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
