"""The destination interface: send one canonical message, say how it went.

Retries inside one attempt are for blips (a reset connection, a 503); anything longer
is the worker's business (backoff, requeue, dead letter). Re-sending is safe because
every call carries the message id as its idempotency key (invariant 4)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class MessageMeta:
    message_id: str
    kind: str
    case_no: str | None
    sequence: int | None
    department: str
    track: str | None = None    # "old"/"new" for a dual-track department's message
    supersedes: str | None = None   # an update: the message id of the version it replaces


class DeliveryError(Exception):
    def __init__(self, reason: str, transient: bool):
        self.reason, self.transient = reason, transient
        super().__init__(reason)


ACCEPTED = "accepted"
DUPLICATE = "duplicate"   # the destination already had it: the effect happened once, count it delivered


class Destination(Protocol):
    name: str

    def send(self, body: bytes, meta: MessageMeta) -> str:
        """Returns ACCEPTED or DUPLICATE; raises DeliveryError."""

    def close(self) -> None: ...
