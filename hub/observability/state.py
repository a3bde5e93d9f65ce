"""Gauges read when /metrics is scraped, from the store and the broker: queue depth, holds,
breaker state, cursor lag. Read there rather than kept by the workers, because they are
the system's state, not one process's: with N worker processes (or several machines)
each would know only its own partitions; the store and the broker know them all, and a
scrape every 15 s costs a handful of small queries and one management API call.

Labels are destination and department/track only (metrics.LABELS)."""
from __future__ import annotations

import logging
import re
import time

import requests
from prometheus_client.core import GaugeMetricFamily

from hub.observability.metrics import CAUGHT_UP

log = logging.getLogger("tongban.metrics")

BREAKER_VALUE = {"closed": 0, "half_open": 1, "open": 2}

_PARTITION = re.compile(r"^tongban\.to\.(?P<dest>.+?)(?:\.\d+of\d+)?$")
_RETRY = re.compile(r"^tongban\.(?:delay|retry)\.(?P<dest>.+)\.\d+(?:ms|s|m)$")
_SHARED = {"tongban.dead": "tongban_dead_letter_queue_messages", "tongban.unrouted": "tongban_unrouted_queue_messages",
           "tongban.compare": "tongban_compare_queue_messages"}


def _queues(broker_url: str) -> list[dict] | None:
    """Depth of every queue of the vhost (management API, only the columns needed)."""
    from hub.bus.inventory import management_url
    base, auth, vhost = management_url(broker_url)
    try:
        resp = requests.get(f"{base}/api/queues/{vhost}", auth=auth, timeout=2,
                            params={"columns": "name,messages_ready,messages_unacknowledged"})
    except requests.RequestException:
        return None
    return resp.json() if resp.status_code == 200 else None


def queue_families(broker_url: str) -> list[GaugeMetricFamily]:
    listed = _queues(broker_url)
    if listed is None:
        return []
    work = GaugeMetricFamily("tongban_queue_messages", "Messages in a destination's partition queues "
                             "(ready and unacked)", labels=["destination"])
    retry = GaugeMetricFamily("tongban_retry_queue_messages", "Messages waiting in a destination's retry queues",
                              labels=["destination"])
    shared = {name: GaugeMetricFamily(metric, f"Messages in {queue}") for queue, name in _SHARED.items()
              for metric in [name]}
    per_work: dict[str, int] = {}
    per_retry: dict[str, int] = {}
    for q in listed:
        name, n = q["name"], int(q.get("messages_ready") or 0) + int(q.get("messages_unacknowledged") or 0)
        if name in _SHARED:
            shared[_SHARED[name]].add_metric([], n)
        elif m := _RETRY.match(name):
            per_retry[m["dest"]] = per_retry.get(m["dest"], 0) + n
        elif name.startswith("tongban.to.") and (m := _PARTITION.match(name)):
            per_work[m["dest"]] = per_work.get(m["dest"], 0) + n
    for dest, n in sorted(per_work.items()):
        work.add_metric([dest], n)
    for dest, n in sorted(per_retry.items()):
        retry.add_metric([dest], n)
    return [work, retry, *shared.values()]


def store_families(store, destinations: list[str]) -> list[GaugeMetricFamily]:
    breaker = GaugeMetricFamily("tongban_breaker_state", "Circuit breaker per destination: 0 closed, 1 half-open, "
                                "2 open", labels=["destination"])
    states = {b["destination"]: b["state"] for b in store.breakers()}
    for dest in sorted(set(destinations) | set(states)):
        breaker.add_metric([dest], BREAKER_VALUE.get(states.get(dest, "closed"), 0))
    held = {kind: GaugeMetricFamily(f"tongban_held_cases_{kind}", help_, labels=["destination"])
            for kind, help_ in (("retrying", "Cases held behind a message waiting for a retry"),
                                ("dead", "Cases held behind a dead letter until it is replayed or released"),
                                ("waiting", "Cases held for an earlier step the source has not sent yet"))}
    parked = GaugeMetricFamily("tongban_parked_messages", "Messages parked behind a held case", labels=["destination"])
    for dest, counts in sorted(store.hold_summary().items()):
        held["retrying"].add_metric([dest], counts.get("retrying", 0) + counts.get("released", 0))
        held["dead"].add_metric([dest], counts.get("dead", 0))
        held["waiting"].add_metric([dest], counts.get("waiting", 0))
        parked.add_metric([dest], counts.get("parked", 0))
    return [breaker, *held.values(), parked]


def lag_family(caught_up: dict[tuple[str, str], float], now: float | None = None) -> GaugeMetricFamily:
    """Cursor lag: seconds since each source last read to the end of its feed (0 while it keeps up
    within its poll interval; growing while it is behind, or its system is down)."""
    now = time.time() if now is None else now
    lag = GaugeMetricFamily("tongban_source_lag_seconds", "Seconds since a source last read to the end of its feed",
                            labels=["department", "track"])
    for (dept, track), ts in sorted(caught_up.items()):
        lag.add_metric([dept, track], round(max(0.0, now - ts), 3))
    return lag


def caught_up_of(families) -> dict[tuple[str, str], float]:
    """The caught-up timestamps among collected families (single or multi-process)."""
    out: dict[tuple[str, str], float] = {}
    for fam in families:
        if fam.name != CAUGHT_UP._name:
            continue
        for s in fam.samples:
            key = (s.labels.get("department", ""), s.labels.get("track", ""))
            out[key] = max(out.get(key, 0.0), s.value)
    return out
