"""`tongban run` killed with SIGKILL while it is inside a large batch file, again and again;
restarted, the file is read on from its checkpoint: no record lost, none repeated."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
import requests

from hub.store import Store
from tests.conftest import ROOT, hub_env, wait_until, wait_delivered, empty_queues

PAGE = 10


@pytest.fixture
def land_settings(settings):
    settings["adapters"]["land"].update(enabled=True, poll_interval=0.1)
    empty_queues(settings)
    return settings


def _start(settings, log_path):
    land = settings["adapters"]["land"]
    env = hub_env(settings)
    env.update({"TONGBAN__ADAPTERS__LAND__ENABLED": "true", "TONGBAN__ADAPTERS__LAND__OUTBOX": land["outbox"],
                "TONGBAN__ADAPTERS__LAND__INBOX": land["inbox"], "TONGBAN__ADAPTERS__LAND__POLL_INTERVAL": "0.1",
                "TONGBAN__ADAPTERS__LAND__PAGE_SIZE": str(PAGE)})
    # Only land runs: hub_env carries no other department's endpoints, and their default
    # ports may be held by another run's simulators.
    env.update({f"TONGBAN__ADAPTERS__{other.upper()}__ENABLED": "false"
                for other in settings["adapters"] if other != "land"})
    # stderr to a file: a pipe nobody reads would fill up and stall the hub
    return subprocess.Popen([sys.executable, "-m", "hub.cli.main", "run"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=open(log_path, "ab"), start_new_session=True)


def test_sigkill_inside_a_large_batch_file_loses_and_repeats_nothing(land_settings, sims, tmp_path):
    made = requests.post(sims.urls["land"] + "/_admin/load", json={"cases": 300, "batch_records": 100_000},
                         timeout=120).json()
    [name] = made["files"]
    total = requests.get(sims.urls["land"] + "/_admin/events", timeout=10).json()["count"]
    processing = ROOT / land_settings["adapters"]["land"]["outbox"] / "processing"
    store = Store.open(land_settings["db_url"])
    log = tmp_path / "hub.log"
    inside = []
    for _ in range(3):
        before = (store.get_checkpoint("land:old") or {}).get("next", 0)
        proc = _start(land_settings, log)
        try:
            wait_until(lambda: (c := store.get_checkpoint("land:old")) and c["next"] >= before + 4 * PAGE,
                       timeout=60, interval=0.02, what="the hub well inside the file")
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        cursor = store.get_checkpoint("land:old")
        if cursor["file"] == name and 0 < cursor["next"] < cursor["total"] and (processing / name).exists():
            inside.append(cursor["next"])
    assert len(inside) >= 2, f"the kills did not land inside the file: {inside} of {total}"
    assert inside == sorted(inside)

    proc = _start(land_settings, log)
    try:
        report = wait_delivered(land_settings, store, timeout=180, what="complete delivery after the restarts")
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0, log.read_text(errors="replace")[-2000:]
    land = report["departments"]["land"]
    assert land["platform"]["expected"] == land["platform"]["delivered"] == total
    for d in land.values():
        assert d["duplicates"] == d["out_of_order"] == d["unexpected"] == d["altered"] == 0
    stats = requests.get(sims.urls["platform"] + "/_admin/stats", timeout=10).json()
    print(f"killed at records {inside} of {total}; platform accepted {stats['accepted']}, "
          f"refused as repeats {stats['duplicates_refused']}")
    assert stats["accepted"] == total
    # Resumed at the checkpoint, not at the file's start: only the last unconfirmed page and
    # the deliveries in flight can have been sent again (and were refused by idempotency key).
    prefetch = int(land_settings["consumer"].get("prefetch", 200))
    assert stats["duplicates_refused"] <= len(inside) * (2 * PAGE + prefetch) < total
    assert not (processing / name).exists()
    assert (processing.parent / "done" / name).exists()
    store.close()
