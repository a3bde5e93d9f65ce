"""The hub killed with SIGKILL while deliveries are in flight (sent to the destination,
not yet in the ledger, not yet acked) and while a source page is published but not
checkpointed; restarted, it loses nothing and causes no duplicate effect."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import requests

from hub.store import Store
from tests.conftest import ROOT, hub_env, wait_until, wait_delivered


def _start(settings):
    return subprocess.Popen([sys.executable, "-m", "hub.cli.main", "run"], cwd=ROOT, env=hub_env(settings),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)


def _accepted(url: str) -> int:
    return requests.get(url + "/_admin/stats", timeout=10).json()["accepted"]


def test_sigkill_between_send_and_ack_loses_nothing_and_duplicates_nothing(settings, sims):
    # A slow platform keeps a batch half-sent for long enough to kill the hub inside it.
    requests.post(sims.urls["platform"] + "/_admin/faults", json={"latency_ms": 15}, timeout=5)
    requests.post(sims.urls["commerce"] + "/_admin/load", json={"cases": 200}, timeout=60).raise_for_status()
    store = Store.open(settings["db_url"])
    kills, windows_hit = 0, 0
    for _ in range(3):
        proc = _start(settings)
        before = _accepted(sims.urls["platform"])
        wait_until(lambda: _accepted(sims.urls["platform"]) > before + 20, timeout=60, what="deliveries under way")
        time.sleep(0.3)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
        kills += 1
        # The platform has messages the ledger does not: the kill landed between send and ack.
        if _accepted(sims.urls["platform"]) > store.counts()["deliveries"].get("platform", 0):
            windows_hit += 1
    assert windows_hit >= 1, "no kill landed between a send and its ledger entry; the test proved nothing"

    requests.post(sims.urls["platform"] + "/_admin/faults", json={"latency_ms": 0}, timeout=5)
    proc = _start(settings)
    try:
        report = wait_delivered(settings, store, timeout=120, what="complete delivery after the restarts")
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0, proc.stderr.read().decode()[-2000:]
    platform = report["destinations"]["platform"]
    assert platform["delivered"] == platform["expected"] == 600
    assert report["destinations"]["province"]["delivered"] == 400
    assert all(d["duplicates"] == 0 and d["out_of_order"] == 0 for d in report["destinations"].values())
    # Re-sent messages were refused by idempotency key, and counted once in the ledger.
    assert store.counts()["deliveries"]["platform"] == 600
    stats = requests.get(sims.urls["platform"] + "/_admin/stats", timeout=10).json()
    assert stats["accepted"] == 600
    assert stats["duplicates_refused"] >= 1, "the restart re-sent nothing: the crash window was not exercised"
