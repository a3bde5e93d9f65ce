"""A record that fails validation ends in the dead-letter queue and the store with its
reason and record key (personal data masked); the other records flow on; an operator
can list, show and replay it."""
from __future__ import annotations

import json
import subprocess
import sys

import requests

from hub.ops.verify import verify
from hub.runtime.runner import Hub
from hub.store import Store
from tests.conftest import ROOT, wait_until


def test_invalid_credit_code_is_dead_lettered_and_others_flow(settings, sims):
    loaded = requests.post(sims.urls["commerce"] + "/_admin/load", json={"cases": 20, "bad": 1},
                           timeout=60).json()
    bad_case = loaded["bad"][0]
    store = Store.open(settings["db_url"])
    hub = Hub(settings, store=store).start()
    try:
        wait_until(lambda: len(store.list_dead_letters()) == 3, timeout=60, what="three dead letters (one per step)")
        # ok covers the province too, which may still be delivering when the platform has all
        report = wait_until(lambda: (r := verify(settings, store, hub.mappings))["ok"] and r["destinations"][
            "platform"]["missing"] == 0 and r, timeout=60, what="the good cases delivered")
    finally:
        hub.shutdown()

    assert report["ok"] and report["unmappable_records"] == 3
    assert report["destinations"]["platform"]["delivered"] == 60
    dead = store.list_dead_letters()
    legacy = {str(e["eventId"]): e for e in
              requests.get(sims.urls["commerce"] + "/_admin/events", timeout=10).json()["items"]}
    for row in dead:
        assert row["stage"] == "validate"
        assert row["department"] == "commerce"
        assert legacy[row["record_key"]]["applyNo"] == bad_case
        assert row["case_no"] == bad_case
        assert "applicant.id_number" in row["reason"]
        assert "unified social credit code" in row["reason"]
        # The original payload is kept as received, for replay.
        assert json.loads(row["payload"]) == legacy[row["record_key"]]
    # Nothing of the bad case reached a destination.
    arrived = requests.get(sims.urls["platform"] + "/_admin/received", timeout=10).json()["items"]
    assert all(i["case_no"] != bad_case for i in arrived)


def test_dlq_cli_lists_shows_masked_and_replay_keeps_it_dead_while_still_invalid(settings, sims, tmp_path):
    requests.post(sims.urls["commerce"] + "/_admin/load", json={"cases": 2, "bad": 1}, timeout=60)
    store = Store.open(settings["db_url"])
    hub = Hub(settings, store=store).start()
    try:
        wait_until(lambda: len(store.list_dead_letters()) == 3, timeout=60, what="dead letters recorded")
    finally:
        hub.shutdown()
    env = {"TONGBAN_DB_URL": settings["db_url"], "TONGBAN_BROKER_URL": settings["broker_url"],
           "PATH": "/usr/bin:/bin"}

    def tongban(*args):
        return subprocess.run([sys.executable, "-m", "hub.cli.main", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60)

    listed = tongban("dlq", "list", "--stage", "validate")
    assert listed.returncode == 0, listed.stderr
    assert "3 dead letter(s)" in listed.stdout
    first = store.list_dead_letters()[0]
    shown = tongban("dlq", "show", first["id"][:8])
    assert shown.returncode == 0, shown.stderr
    body = json.loads(shown.stdout)
    phone = json.loads(first["payload"])["contactPhone"]
    assert phone not in shown.stdout and body["payload"]["contactPhone"] == phone[:3] + "****" + phone[-4:]
    # Replaying an unchanged invalid record maps it again and fails again: it stays dead.
    replayed = tongban("dlq", "replay", first["id"], "--reason", "check after mapping fix")
    assert json.loads(replayed.stdout)["replayed"] == 0
    assert store.get_dead_letter(first["id"])["status"] == "dead"
