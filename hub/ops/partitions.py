"""Changing the partition count of a destination on a running system (drain and switch).

1. The new layout's queues are declared and bound by slot next to the old ones: from here
   a message reaches both (the old copy goes first; the new one is then a ledger duplicate).
2. The store makes the new layout active and the old one draining: running processes see
   it within a second; they keep working the old queues and hold the new ones back.
3. The old queues are unbound: they get nothing new, and drain.
4. Each old queue, once empty, is deleted by the process working it; when the last is gone
   the layout is dropped from the store and the new partitions start (hub/runtime/layouts.py).

Nothing is lost (every message is in an old queue, a new one, or both), nothing is
reordered (nothing of the new layout is delivered before the old one has drained), and the
pause is the time the old queues take to drain. Running it again after a crash completes
what was left undone."""
from __future__ import annotations

from hub import bus
from hub.routing.partitions import check_partitions
from hub.runtime.runner import layout_queues, queue_type


def set_partitions(settings: dict, store, destination: str, partitions: int, *, actor: str, reason: str) -> dict:
    if not reason or not reason.strip():
        raise ValueError("a change of partitions needs a reason (--reason)")
    partitions = check_partitions(partitions)
    layouts = store.layouts()
    if destination not in layouts:
        known = ", ".join(sorted(layouts)) or "none yet: start the hub once"
        raise ValueError(f"no destination {destination!r} has partitions (known: {known})")
    conn = bus.connect(bus.credentials.url_for(settings, bus.credentials.OPERATOR))
    try:
        channel = conn.channel()
        try:
            bus.bind_partitions(channel, destination, partitions, queue_type(settings))
        finally:
            channel.close()
        former = layouts[destination]["active"]
        if former != partitions:
            store.change_layout(destination, partitions, actor, reason)
        draining = store.layouts()[destination]["draining"]
        channel = conn.channel()
        try:
            for old in draining:
                if old and all(bus.exists(conn, q) for q, _ in layout_queues(destination, old, settings)):
                    bus.unbind_partitions(channel, destination, old)
        finally:
            channel.close()
    finally:
        conn.release()
    return {"destination": destination, "from": former, "to": partitions, "draining": draining}


def show(store) -> list[dict]:
    return [{"destination": d, "partitions": e["active"], "draining": e["draining"]}
            for d, e in sorted(store.layouts().items())]
