"""What the real-broker dual-track tests share: run a department in shadow mode until the
old track is delivered and every twin is decided, then check nothing of the shadow leaked."""
from __future__ import annotations

import json

import requests

from hub.dualtrack.report import department_summary
from hub.ops.verify import verify
from hub.runtime.runner import Hub
from hub.store import Store
from tests.conftest import wait_until


def received_bodies(url: str) -> list[dict]:
    """The canonical envelopes a destination simulator received (REST keeps the body, SOAP the payload)."""
    items = requests.get(url + "/_admin/received", timeout=10).json()["items"]
    return [i["body"] if "body" in i else json.loads(i["payload"]) for i in items]


def run_shadow(settings: dict, department: str, twins: int, timeout: float = 60) -> tuple[Store, dict, dict]:
    """Run the hub until the old track is delivered and ``twins`` twins are compared or expired:
    (store, verify's report, the department's dual-track summary)."""
    store = Store.open(settings["db_url"])
    hub = Hub(settings, store=store).start()
    try:
        report = wait_until(lambda: (r := verify(settings, store, hub.mappings))["ok"] and
                            r["destinations"]["platform"]["missing"] == 0 and r, timeout=90, what="old delivered")
        summary = wait_until(lambda: (s := department_summary(store, settings, department))["waiting"] == 0 and
                             s["pairs"] + s["missing_new"] + s["missing_old"] >= twins and s, timeout=timeout,
                             what="every twin compared or expired")
    finally:
        hub.shutdown()
    return store, report, summary


def assert_old_track_only(sims, report: dict, department: str) -> None:
    """Invariant 6: the destinations got the old track's messages, each once, and nothing of the shadow."""
    for dest in ("platform", "province"):
        bodies = received_bodies(sims.urls[dest])
        tracks = {b["source"]["track"] for b in bodies if b["source"]["department"] == department}
        assert tracks == {"old"}, f"the shadow track leaked to {dest}"
        assert len(bodies) == report["destinations"][dest]["expected"]
    assert report["destinations"]["platform"]["duplicates"] == 0
