"""The circuit breaker of a destination: closed -> open after K failures in a row (the
queue is no longer consumed, messages wait there), half-open after the cool-down (one
probe), open again with a longer cool-down while probes fail, closed when one succeeds;
visible in `tongban status`. Failed probes cost the messages no attempts."""
from __future__ import annotations

import time

import requests

from hub import bus
from hub.ops.status import render, status
from hub.ops.verify import verify
from hub.runtime.evidence import REASON as EVIDENCE
from hub.runtime.runner import Hub
from hub.store import Store
from tests.conftest import partition_queues, wait_until
from tests.reliability import flaky


def _faults(url, **faults):
    requests.post(url + "/_admin/faults", json=faults, timeout=5).raise_for_status()


def _depth(settings, queue):
    conn = bus.connect(settings["broker_url"])
    try:
        return bus.queue_depth(conn, queue)[0]
    finally:
        conn.release()


def test_breaker_opens_probes_and_closes_and_messages_wait_uncounted(settings, sims, monkeypatch):
    settings["breaker"] = {"failures": 3, "cooldown": 1, "cooldown_max": 2}
    settings["retry"] = {"tiers": [1, 2], "max_attempts": 3}
    dest = flaky.install(monkeypatch, settings)
    _faults(sims.urls["platform"], down=True)
    requests.post(sims.urls["commerce"] + "/_admin/load", json={"cases": 40}, timeout=60).raise_for_status()
    store = Store.open(settings["db_url"])
    transitions = []
    save = store.save_breaker
    monkeypatch.setattr(store, "save_breaker", lambda d, **kw: (transitions.append((d, kw["state"], kw["cooldown_ms"])),
                                                               save(d, **kw)))
    hub = Hub(settings, store=store).start()
    try:
        wait_until(lambda: (b := store.get_breaker("platform")) and b["state"] == "open", timeout=30,
                   what="the breaker open")
        report = status(settings, store)
        # with a 1 s cool-down a loaded machine may see it probing already: not closed, either way
        shown = report["destinations"]["platform"]["breaker"]
        assert shown in ("open", "half_open"), shown
        assert "platform" in render(report) and shown in render(report)
        # While it is open the queue is not consumed: messages wait in it.
        wait_until(lambda: sum(_depth(settings, q) for q in partition_queues(settings, "platform")) > 0, timeout=15,
                   what="messages waiting")
        # A probe after the cool-down fails and reopens it with the cool-down doubled.
        wait_until(lambda: ("platform", "open", 2000) in transitions, timeout=30, what="a failed probe")
        time.sleep(3)   # several failed probes: none of them counts against its message
        assert ("platform", "half_open", 1000) in transitions
        calls_while_open = len(dest.calls)
        # holds of the destination's failures: a message that came before its source logged it
        # (a slow page commit on a loaded machine) waits for its evidence, not for the platform
        holds = [h for h in store.list_holds("platform") if not (h["reason"] or "").startswith(EVIDENCE)]
        # K failures open it; the other partitions may each have one call in flight then
        concurrent = len(partition_queues(settings, "platform")) - 1
        assert len(holds) <= 3 + concurrent and all(h["attempts"] == 1 for h in holds)
        assert store.list_dead_letters() == []
        _faults(sims.urls["platform"], down=False)
        wait_until(lambda: store.get_breaker("platform")["state"] == "closed", timeout=30, what="the breaker closed")
        result = wait_until(lambda: (r := verify(settings, store, hub.mappings))["ok"] and
                            r["destinations"]["platform"]["missing"] == 0 and r, timeout=60, interval=0.5,
                            what="everything delivered")
    finally:
        hub.shutdown()
    states = [s for d, s, _ in transitions if d == "platform"]
    assert states[0] == "open" and states[-1] == "closed" and "half_open" in states
    # Few calls reached the dead destination: the K that opened it and one per probe.
    # (one probe at a time: the partitions share the breaker)
    assert calls_while_open <= 3 + concurrent + states.count("half_open")
    platform = result["destinations"]["platform"]
    assert platform["delivered"] == 120 and platform["duplicates"] == 0 and platform["out_of_order"] == 0
    assert store.list_dead_letters() == [] and store.list_holds() == []
    assert status(settings, store)["destinations"]["platform"]["breaker"] == "closed"
