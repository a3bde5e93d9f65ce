"""The broker's queues as the console's Queues page groups them: each destination's
partitions (with their totals), its retry queues, and the hub's own dead-letter, unrouted
and comparison queues. Read from the RabbitMQ management HTTP API (hub/ops/status.py);
without it, depths from passive declares, and no rates."""
from __future__ import annotations

from hub import bus

from .status import queue_report

TOTALS = ("ready", "unacked", "consumers", "publish_rate", "deliver_rate", "ack_rate")


def _group_of(name: str) -> tuple[str, str]:
    """(kind, destination) of a queue name."""
    if name.startswith("tongban.delay.") or name.startswith("tongban.retry."):
        return "retry", name.split(".")[2]
    if name.startswith("tongban.to."):
        rest = name[len("tongban.to."):]
        if bus.names.partition_of_queue(name) is not None:
            return "partition", rest.rsplit(".", 1)[0]
        return "partition", rest
    return "hub", ""


def grouped_queues(settings: dict, store) -> dict:
    queues, source = queue_report(settings, store)
    destinations: dict[str, dict] = {}
    hub_queues = []
    for q in queues:
        kind, dest = _group_of(q["queue"])
        if kind == "hub":
            hub_queues.append(q | {"role": _role(q["queue"])})
            continue
        d = destinations.setdefault(dest, {"destination": dest, "partitions": [], "retry": []})
        part = bus.names.partition_of_queue(q["queue"]) if kind == "partition" else None
        d["partitions" if kind == "partition" else "retry"].append(
            q | {"partition": f"{part[0]}/{part[1]}" if part else None})
    for d in destinations.values():
        d["total"] = {k: _sum(q.get(k) for q in d["partitions"]) for k in TOTALS}
        d["retry_total"] = _sum(q.get("ready") for q in d["retry"])
    return {"source": source, "destinations": [destinations[k] for k in sorted(destinations)],
            "hub": hub_queues}


def _role(name: str) -> str:
    return {bus.names.DEAD_QUEUE: "dead", bus.names.UNROUTED_QUEUE: "unrouted",
            bus.names.COMPARE_QUEUE: "compare"}.get(name, "other")


def _sum(values):
    values = [v for v in values if v is not None]
    return round(sum(values), 1) if values else None
