"""Stand-ins for the broker's side of a delivery worker, for the tests that run its logic
without a broker: a message that records its ack, a publisher that records what it sent."""
from __future__ import annotations


class Msg:
    def __init__(self):
        self.acked = False

    def ack(self):
        self.acked = True


class Publisher:
    """sent: (routing key, message id, headers) in publish order."""

    def __init__(self):
        self.sent = []

    def publish(self, body, exchange, routing_key, *, message_id=None, headers=None, **_):
        self.sent.append((routing_key, message_id, dict(headers or {})))

    def flush(self):
        pass


def log_first(store, worker):
    """Make the worker's batches as the source does: each message logged before it is queued
    (no delivery without evidence, hub/runtime/evidence.py). Returns the worker."""
    from datetime import datetime, timezone
    handle = worker.handle

    def logged_then_handled(batch):
        known = store.logged_ids([d.message_id for d in batch])
        rows = {d.message_id: {"message_id": d.message_id, "kind": d.headers.get("x-tongban-kind") or "case_event",
                               "department": d.headers.get("x-tongban-department") or "commerce",
                               "case_no": d.headers.get("x-tongban-case-no"), "routing_key": d.routing_key,
                               "produced_at": datetime.now(timezone.utc)}
                for d in batch if d.message_id not in known}
        if rows:
            store.log_messages(list(rows.values()))
        return handle(batch)
    worker.handle = logged_then_handled
    return worker
