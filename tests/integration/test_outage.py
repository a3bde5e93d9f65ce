"""A destination that goes down and comes back: messages wait in their queue (nothing is
consumed while it is down), then arrive once each and in order per case. A legacy
system that is down is backed off and read again from its checkpoint."""
from __future__ import annotations

import time

import requests

from hub.ops.verify import verify
from hub.runtime.runner import Hub
from hub.store import Store
from tests.conftest import wait_until


def _faults(url, **faults):
    requests.post(url + "/_admin/faults", json=faults, timeout=5).raise_for_status()


def test_platform_down_then_up_delivers_everything_once_in_order(settings, sims):
    _faults(sims.urls["platform"], down=True)
    requests.post(sims.urls["commerce"] + "/_admin/load", json={"cases": 50}, timeout=60)
    store = Store.open(settings["db_url"])
    hub = Hub(settings, store=store).start()
    try:
        # The province is up and gets its share while the platform is down.
        wait_until(lambda: store.counts()["deliveries"].get("province", 0) == 100, timeout=60,
                   what="province deliveries")
        time.sleep(2)
        assert store.counts()["deliveries"].get("platform", 0) == 0
        _faults(sims.urls["platform"], down=False)
        report = wait_until(lambda: (r := verify(settings, store, hub.mappings))["ok"] and
                            r["destinations"]["platform"]["missing"] == 0 and r, timeout=60, interval=0.5,
                            what="platform caught up")
    finally:
        hub.shutdown()
    assert report["destinations"]["platform"]["delivered"] == 150
    assert report["destinations"]["platform"]["out_of_order"] == 0
    assert report["destinations"]["platform"]["duplicates"] == 0


def test_legacy_system_down_is_backed_off_and_resumed_from_checkpoint(settings, sims):
    requests.post(sims.urls["commerce"] + "/_admin/load", json={"cases": 10}, timeout=60)
    store = Store.open(settings["db_url"])
    hub = Hub(settings, store=store).start()
    try:
        wait_until(lambda: store.counts()["deliveries"].get("platform", 0) == 30, timeout=60, what="first load")
        _faults(sims.urls["commerce"], down=True)
        requests.post(sims.urls["commerce"] + "/_admin/load", json={"cases": 10}, timeout=60)
        time.sleep(1.5)
        source = next(s for s in hub.supervisors if s.name == "source:commerce:old")
        assert source.failures >= 1 and "unreachable" in (source.last_error or "")
        _faults(sims.urls["commerce"], down=False)
        report = wait_until(lambda: (r := verify(settings, store, hub.mappings))["ok"] and
                            r["destinations"]["platform"]["delivered"] == 60 and r, timeout=60,
                            what="second load after the outage")
    finally:
        hub.shutdown()
    assert report["destinations"]["platform"]["duplicates"] == 0
    assert store.counts()["messages"] == 80
