"""No delivery without evidence, on the real broker (issue 13, item 1): the commerce source
publishes a page and then cannot write its message-log rows. The destinations get nothing of
it while the rows are missing, and say why (their cases held, the reason starting "evidence:"); /readyz is not ready
and names the source, and `tongban status` shows it; once the store takes the rows again
every message arrives exactly once, in order, and the hub is ready again."""
from __future__ import annotations

import threading
from collections import Counter

import requests
from sqlalchemy.exc import OperationalError

from hub.observability import metrics, server
from hub.ops.status import render, status
from hub.ops.verify import verify
from hub.runtime.runner import Hub
from hub.store import Store
from tests.conftest import wait_until
from tests.ports import free_port


def _received(sims, dest: str, cases: set[str]) -> list[str]:
    items = requests.get(sims.urls[dest] + "/_admin/received", timeout=10).json()["items"]
    return [i["message_id"] for i in items if (i.get("case_no") or i.get("caseNo")) in cases]


def test_nothing_is_delivered_before_its_log_row_then_everything_once(settings, sims):
    for name, conf in settings["adapters"].items():
        conf["enabled"] = name == "commerce"
    settings["retry"] = {"tiers": [1], "max_attempts": 1000}   # re-check the log every second, never give up here
    settings["metrics_port"] = free_port()
    resp = requests.post(sims.urls["commerce"] + "/_admin/load", json={"cases": 6}, timeout=60)
    resp.raise_for_status()
    cases = set(resp.json()["applyNos"])

    store = Store.open(settings["db_url"])
    broken = threading.Event()
    broken.set()
    real = store.log_messages

    def log_messages(rows, **kw):
        if broken.is_set():
            raise OperationalError("INSERT INTO message_log", {}, Exception("disk I/O error"))
        return real(rows, **kw)
    store.log_messages = log_messages
    # /readyz reads the process's gauges: a source an earlier test ran in this process (not
    # through a loop, which removes its own) would be listed beside this hub's
    metrics.LOG_WRITABLE.clear()
    health = server.serve(settings)
    readyz = f"http://127.0.0.1:{health.server_port}/readyz"
    hub = Hub(settings, store=store).start()
    try:
        # published and confirmed, not logged: the platform's worker holds every case for its evidence
        wait_until(lambda: len({h["case_no"] for h in store.list_holds("platform")
                                if (h["reason"] or "").startswith("evidence:") and h["attempts"] >= 2
                                and h["case_no"] in cases}) == len(cases),
                   timeout=90, what="every case held for its log row, checked at least twice")
        assert _received(sims, "platform", cases) == [] and _received(sims, "province", cases) == []
        r = requests.get(readyz, timeout=10)
        assert r.status_code == 503 and r.json()["message_log"] == {"commerce:old": False}
        assert any("source commerce:old cannot write its message log" in p for p in r.json()["problems"])
        report = status(settings, store)
        assert report["message_log"]["sources"] == {"commerce:old": False}
        assert "commerce:old" in render(report) and "NOT WRITABLE" in render(report)

        broken.clear()                        # the store takes the rows again
        done = wait_until(lambda: (v := verify(settings, store, hub.mappings))["ok"] and all(
            d["missing"] == 0 for d in v["destinations"].values()) and v, timeout=120, interval=1,
            what="every message delivered")
        r = requests.get(readyz, timeout=10)
        assert r.json()["message_log"] == {"commerce:old": True}
        text = render(status(settings, store))
        assert "commerce:old            written" in text and "NOT WRITABLE" not in text
    finally:
        hub.shutdown()
    try:
        for dest in ("platform", "province"):
            got = Counter(_received(sims, dest, cases))
            assert got and set(got.values()) == {1}, (dest, got)      # each once
            assert done["destinations"][dest]["out_of_order"] == 0
        assert store.logged_ids(list(Counter(_received(sims, "platform", cases)))) == \
            set(_received(sims, "platform", cases))                   # nothing delivered without its row
        assert store.list_dead_letters() == []
        # the hub stopped: it no longer speaks for the source
        assert requests.get(readyz, timeout=10).json()["message_log"] == {}
    finally:
        health.shutdown()
        store.close()
