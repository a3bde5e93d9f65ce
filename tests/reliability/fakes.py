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
