"""The fault suite: a stream of cases through two competing hub processes while things
break, then a reconciliation that must find nothing lost, nothing twice, nothing out of
order. What breaks, while cases keep being loaded:

- a worker process is SIGKILLed, several times, and started again;
- a worker is stopped with SIGTERM (it must finish its batch and exit 0) and started again;
- RabbitMQ is restarted (`rabbitmqctl stop_app`, then `start_app`; a node of the suite's
  own, see broker_node.py; restored in a `finally` whatever happens);
- the platform destination is down (its circuit breaker opens, messages wait);
- the commerce legacy system fails 20% of its calls all along (its source backs off and
  resumes from its checkpoint).

Short variant by default (about 3,000 events; part of the normal test run), the long
one with TONGBAN_FAULTS_LONG=1 (21,000 events, a 30 s platform outage). It prints one line:
FAULTS events=N lost=0 duplicates=0 out_of_order=0 dead_lettered=K restarts=R
where events counts the legacy system's events, dead_lettered the dead letters in the
store (the invalid records loaded on purpose; a delivery dead letter would be a loss),
and restarts the worker restarts plus the broker restarts.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass

import pytest
import requests

from hub.ops.verify import verify
from hub.store import Store
from tests.reliability.harness import Worker, broker_node, fault_settings, figures  # noqa: F401 - fixture

pytestmark = pytest.mark.exclusive_broker
LONG = os.environ.get("TONGBAN_FAULTS_LONG") == "1"


@dataclass(frozen=True)
class Plan:
    cases: int             # good commerce cases (3 events each); other departments get a tenth each
    bad: int               # cases with an invalid credit code: dead-lettered at validate, 3 each
    chunks: int            # loaded in this many parts, one before each fault
    platform_down: float   # seconds
    broker_down: float
    timeout: float         # for everything to arrive after the last fault


PLAN = Plan(7000, 10, 8, 30, 10, 900) if LONG else Plan(1000, 3, 6, 8, 3, 240)


def _post(url, path, body):
    requests.post(url + path, json=body, timeout=120).raise_for_status()


def _delivered(store) -> int:
    return sum(store.counts()["deliveries"].values())


def test_faults(broker_node, sims, tmp_path, capsys):  # noqa: F811
    settings = fault_settings(broker_node, sims, tmp_path,
                              # shorter waits than production's, so the suite ends soon; same logic
                              retry={"tiers": [2, 5, 15], "max_attempts": 8},
                              breaker={"failures": 5, "cooldown": 2, "cooldown_max": 8})
    commerce, platform = sims.urls["commerce"], sims.urls["platform"]
    store = Store.open(settings["db_url"])
    workers: list[Worker] = []
    restarts = 0
    per_chunk, loaded = PLAN.cases // PLAN.chunks, 0

    others = [d for d in _departments(settings) if d != "commerce"]

    def load():
        # Commerce (the system that fails 20% of its calls) gets most of the cases; every
        # other department enabled gets a share, so each adapter runs through the faults.
        nonlocal loaded
        n = min(per_chunk, PLAN.cases - loaded)
        if n > 0:
            _post(commerce, "/_admin/load", {"cases": n, "bad": PLAN.bad if loaded == 0 else 0})
            for dept in others:
                _post(sims.urls[dept], "/_admin/load", {"cases": max(1, n // 10)})
            loaded += n

    def start():
        workers.append(Worker(settings, tmp_path, len(workers)))
        return workers[-1]

    def progress(more: int, timeout: float = 120):
        target = _delivered(store) + more
        deadline = time.monotonic() + timeout
        while _delivered(store) < target:
            assert time.monotonic() < deadline, f"no progress; worker log:\n{workers[-1].tail()}"
            time.sleep(0.2)

    _post(commerce, "/_admin/faults", {"error_rate": 0.2})
    a, b = start(), start()
    try:
        load()
        progress(200)
        a.kill()                                      # 1: SIGKILL mid-flow
        a, restarts = start(), restarts + 1
        load()
        progress(200)
        _post(platform, "/_admin/faults", {"down": True})   # 2: platform down
        load()
        time.sleep(PLAN.platform_down / 2)
        b.kill()                                      # 3: SIGKILL while the breaker is open
        b, restarts = start(), restarts + 1
        time.sleep(PLAN.platform_down / 2)
        _post(platform, "/_admin/faults", {"down": False})
        load()
        progress(300)
        with broker_node.down():                      # 4: broker restart, cases still arriving
            load()
            time.sleep(PLAN.broker_down)
        restarts += 1
        progress(200)
        assert a.terminate() == 0, a.tail()           # 5: graceful stop
        a, restarts = start(), restarts + 1
        while loaded < PLAN.cases:
            load()
            progress(300)
            b.kill()                                  # 6: more SIGKILLs while the last chunks flow
            b, restarts = start(), restarts + 1
        report = _wait_complete(settings, store, PLAN.timeout, workers)
        for w in (a, b):
            assert w.terminate() == 0, w.tail()
    finally:
        for w in workers:
            if w.alive():
                w.kill()
        _post(commerce, "/_admin/faults", {"error_rate": 0})
    events = sum(len(requests.get(sims.urls[d] + "/_admin/events", timeout=60).json()["items"])
                 for d in ["commerce", *others])
    dead = store.list_dead_letters(status=None, limit=None)
    line, n = figures(report, len(dead), restarts)
    line = line.replace(f"events={n['events']}", f"events={events}")
    with capsys.disabled():
        print(f"\n{line}")
    assert n["lost"] == 0 and n["duplicates"] == 0 and n["out_of_order"] == 0, report
    assert all(d["unexpected"] == 0 and d["altered"] == 0 for d in report["destinations"].values()), report
    # Only the invalid records loaded on purpose: nothing died on the way out.
    assert {r["stage"] for r in dead} <= {"validate"} and len(dead) == 3 * PLAN.bad
    assert not LONG or events >= 20000
    assert store.list_holds() == [], "a case is still held"
    # The faults bit: the platform's breaker opened, deliveries went through retry queues,
    # every loop lost the broker and came back.
    logs = "".join(w.log.read_text(errors="replace") for w in workers)
    assert store.get_breaker("platform")["opened_at"] is not None and "breaker platform half-open" in logs
    assert "retry via tongban.delay.platform." in logs
    assert "CONNECTION_FORCED" in logs or "Connection reset" in logs


def _departments(settings) -> list[str]:
    from hub.adapter import registry
    from hub.runtime.runner import enabled_adapters
    return [n for n in enabled_adapters(settings) if registry.load(n).department != "platform"]


def _wait_complete(settings, store, timeout, workers) -> dict:
    # verify() reads every legacy event and every delivery from the simulators, which
    # share this process: run it once for the targets, watch the ledger, then verify.
    deadline = time.monotonic() + timeout
    targets = {d: r["expected"] for d, r in verify(settings, store)["destinations"].items()}
    report, counts = None, {}
    while time.monotonic() < deadline:
        counts = store.counts()["deliveries"]
        if all(counts.get(d, 0) >= n for d, n in targets.items()):
            report = verify(settings, store)
            if report["ok"] and all(d["missing"] == 0 for d in report["destinations"].values()):
                return report
        time.sleep(1)
    raise AssertionError(f"not everything arrived within {timeout}s: {report or counts} of {targets}\n"
                         f"{workers[-1].tail()}")
