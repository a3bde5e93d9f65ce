"""Queue depths, rates and ledger counts for `tongban status` and the console, per
destination its circuit breaker and the cases held behind a retry or a dead letter, and per
source whether its message log is written (hub/ops/evidence.py).

The RabbitMQ management API gives rates and consumer counts when the plugin is on;
without it, a passive declare still gives depths, so status never depends on it."""
from __future__ import annotations

from hub import bus
from hub.bus.inventory import management_queues
from hub.ops import evidence

QUEUES_OF_INTEREST = ("tongban.",)


def queues_from_management(broker_url: str) -> list[dict] | None:
    listed = management_queues(broker_url)
    if listed is None:
        return None
    out = []
    for q in listed:
        if not q["name"].startswith(QUEUES_OF_INTEREST) or q["name"].startswith("tongban.lock."):
            continue   # lock queues (which process holds a delivery queue) carry no messages
        stats = q.get("message_stats") or {}
        out.append({
            "queue": q["name"], "ready": q.get("messages_ready", 0), "unacked": q.get("messages_unacknowledged", 0),
            "consumers": q.get("consumers", 0),
            "publish_rate": round((stats.get("publish_details") or {}).get("rate", 0.0), 1),
            "deliver_rate": round((stats.get("deliver_get_details") or {}).get("rate", 0.0), 1),
            "ack_rate": round((stats.get("ack_details") or {}).get("rate", 0.0), 1),
        })
    return sorted(out, key=lambda q: q["queue"])


def queues_by_declare(broker_url: str, names: list[str]) -> list[dict]:
    conn = bus.connect(broker_url)
    out = []
    try:
        for name in names:
            try:
                ready, consumers = bus.queue_depth(conn, name)
            except Exception:  # the queue does not exist yet
                continue
            out.append({"queue": name, "ready": ready, "unacked": None, "consumers": consumers})
    finally:
        conn.release()
    return out


def queue_report(settings: dict, store) -> tuple[list[dict], str]:
    """(queues, where the figures came from: management or declare)."""
    url = bus.credentials.url_for(settings, bus.credentials.CONSOLE)   # a reader's user
    queues = queues_from_management(url)
    if queues is not None:
        return queues, "management"
    names = [q for d, layout in store.layouts().items()
             for p in [layout["active"], *layout["draining"]] if p is not None
             for q in (bus.names.partition_queues(d, p) if p else [bus.names.destination_queue(d)])]
    queues = queues_by_declare(url, names + [bus.names.DEAD_QUEUE, bus.names.UNROUTED_QUEUE])
    return queues + queues_by_declare(url, _retry_queues(settings)), "declare"


def status(settings: dict, store, counts: dict | None = None) -> dict:
    """``counts``: the store's counts (Store.counts()) if the caller has them already (the
    console gathers them in parallel with its other figures)."""
    queues, source = queue_report(settings, store)
    return {"queues": queues, "queue_source": source, "store": counts if counts is not None else store.counts(),
            "destinations": delivery_state(store), "partitions": partitions_report(store),
            "message_log": evidence.message_log_health(settings)}


def _retry_queues(settings: dict) -> list[str]:
    from hub.runtime.retry import retry_delays_ms
    delays = retry_delays_ms(settings)
    return [bus.names.retry_queue(d, ms) for d in settings.get("destinations") or {} for ms in delays]


def partitions_report(store) -> dict:
    """Per destination: its partition layout (active, draining) and the workers holding its
    partitions now (from their heartbeats)."""
    workers = store.live_workers(3.0)
    holders: dict[str, str] = {}
    for w in workers:
        for unit in (w.get("holds") or {}):
            holders[unit] = w["worker"]
    out = {}
    for dest, layout in sorted(store.layouts().items()):
        active = layout["active"]
        out[dest] = {"partitions": active, "draining": layout["draining"],
                     "holders": {q: holders.get(q) for q in bus.names.partition_queues(dest, active)} if active else {}}
    return {"workers": [w["worker"] for w in workers], "destinations": out,
            "sources": {u: w for u, w in holders.items() if u.startswith("tongban.source.")}}


def delivery_state(store) -> dict[str, dict]:
    """Per destination: its circuit breaker (closed, open, half_open; closed when it never
    opened) and its held cases (waiting for a retry, dead until replayed) with the
    messages parked behind them."""
    out: dict[str, dict] = {}
    for b in store.breakers():
        out[b["destination"]] = {"breaker": b["state"], "since": b["opened_at"] if b["state"] != "closed" else None,
                                 "probe_at": b["probe_at"] if b["state"] == "open" else None,
                                 "reason": b["reason"] if b["state"] != "closed" else None}
    for dest, counts in store.hold_summary().items():
        entry = out.setdefault(dest, {"breaker": "closed", "since": None, "probe_at": None, "reason": None})
        entry["held_retrying"] = counts.get("retrying", 0) + counts.get("released", 0)
        entry["held_dead"] = counts.get("dead", 0)
        entry["held_waiting"] = counts.get("waiting", 0)   # for an earlier step of the case
        entry["parked"] = counts.get("parked", 0)
    return out


def render(report: dict) -> str:
    lines = [f"{'queue':<34}{'ready':>8}{'unacked':>9}{'consumers':>10}{'in/s':>8}{'out/s':>8}"]
    for q in report["queues"]:
        lines.append(f"{q['queue']:<34}{q['ready']:>8}{q['unacked'] if q['unacked'] is not None else '-':>9}"
                     f"{q['consumers']:>10}{q.get('publish_rate', '-'):>8}{q.get('ack_rate', '-'):>8}")
    dests = report.get("destinations") or {}
    if dests:
        lines.append(f"{'destination':<16}{'breaker':<11}{'held (retry)':>13}{'held (dead)':>12}"
                     f"{'held (step)':>12}{'parked':>8}  since")
        for name, d in sorted(dests.items()):
            since = d["since"].isoformat(timespec="seconds") if d.get("since") else ""
            probe = f", probe at {d['probe_at'].isoformat(timespec='seconds')}" if d.get("probe_at") else ""
            lines.append(f"{name:<16}{d['breaker'].replace('_', '-'):<11}{d.get('held_retrying', 0):>13}"
                         f"{d.get('held_dead', 0):>12}{d.get('held_waiting', 0):>12}{d.get('parked', 0):>8}"
                         f"  {since}{probe}")
    s = report["store"]
    parts = report.get("partitions") or {}
    if parts.get("destinations"):
        lines.append(f"worker processes live: {len(parts.get('workers') or [])}")
        lines.append(f"{'destination':<16}{'partitions':>11}  {'draining':<10} held by")
        for name, d in parts["destinations"].items():
            held = {}
            for q, w in d["holders"].items():
                held.setdefault(w or "(free)", []).append(q.rsplit(".", 1)[1])
            who = "; ".join(f"{w}: {' '.join(qs)}" for w, qs in sorted(held.items()))
            lines.append(f"{name:<16}{d['partitions'] or '-':>11}  {','.join(map(str, d['draining'])) or '-':<10} {who}")
    if report.get("message_log"):
        lines += evidence.render(report["message_log"])
    lines.append(f"messages logged {s.get('messages', 0)}")
    for dest, n in sorted((s.get("deliveries") or {}).items()):
        lines.append(f"delivered to {dest}: {n}")
    for st, n in sorted((s.get("dead_letters") or {}).items()):
        lines.append(f"dead letters ({st}): {n}")
    return "\n".join(lines)
