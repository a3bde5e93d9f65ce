"""Delayed redelivery (invariant 7): how long a message waits after each failed attempt,
how many attempts it gets, and the headers that carry the count.

The count lives in the message (x-tongban-attempts, first and last failure time, last
reason), never in a worker's memory: a retry is a new copy of the message, published
with the count raised to a retry queue whose TTL sends it back to the destination queue.
A restarted or different worker reads the count from the copy it receives."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hub.bus import names
from hub.bus.topology import DEFAULT_RETRY_DELAYS_MS
from hub.model.common import SHANGHAI
from hub.model.masking import mask_text
from hub.routing.partitions import partition_key, slot_of

# Headers the broker adds when a message expires out of a retry queue: they describe the
# previous trip only, and a copy that carried them would grow on every retry.
_BROKER_HEADERS = ("x-death", "x-first-death-exchange", "x-first-death-queue", "x-first-death-reason",
                   "x-last-death-exchange", "x-last-death-queue", "x-last-death-reason")


def _seconds_list(value) -> list[float]:
    # config/hub.yaml gives a list; an environment override (TONGBAN__RETRY__TIERS=1,3,10) a string
    if isinstance(value, str):
        value = [v for v in value.replace(" ", "").split(",") if v]
    elif isinstance(value, (int, float)):
        value = [value]
    return [float(v) for v in value]


@dataclass(frozen=True)
class RetryPolicy:
    delays_ms: tuple[int, ...] = DEFAULT_RETRY_DELAYS_MS
    max_attempts: int = 5      # the first attempt included; the last delay repeats

    def __post_init__(self):
        if not self.delays_ms or any(d <= 0 for d in self.delays_ms):
            raise ValueError("retry tiers must be a non-empty list of positive delays")
        if self.max_attempts < 1:
            raise ValueError("retry max_attempts must be at least 1")

    @classmethod
    def from_settings(cls, settings: dict | None) -> "RetryPolicy":
        conf = (settings or {}).get("retry") or {}
        delays = tuple(int(round(s * 1000)) for s in _seconds_list(conf.get("tiers", [5, 30, 300])))
        return cls(delays_ms=delays, max_attempts=int(conf.get("max_attempts", cls.max_attempts)))

    def exhausted(self, attempts: int) -> bool:
        return attempts >= self.max_attempts

    def queue_for(self, destination: str, attempts: int) -> str:
        """The retry queue after the `attempts`-th failure (1 = the first)."""
        delay = self.delays_ms[min(max(attempts, 1), len(self.delays_ms)) - 1]
        return names.retry_queue(destination, delay)

    def target(self, destination: str, attempts: int) -> tuple[str, dict]:
        """Where a retry copy is published (exchange) and the header that picks its queue."""
        return names.DELAY, {names.H_DELAY: self.queue_for(destination, attempts)}


def retry_delays_ms(settings: dict | None) -> tuple[int, ...]:
    return RetryPolicy.from_settings(settings).delays_ms


def attempts_of(headers: dict) -> int:
    try:
        return max(0, int(headers.get(names.H_ATTEMPTS) or 0))
    except (TypeError, ValueError):
        return 0


def now_iso() -> str:
    """Header times: ISO 8601 in Asia/Shanghai (+08:00), as the envelopes' (docs/wire.md)."""
    return datetime.now(SHANGHAI).isoformat()


def slotted(headers: dict, message_id: str) -> dict:
    """Headers with the partition slot set: a message that came without one (from the
    single queue of before partitions, or hand-published) gets its case's slot, so it
    finds its partition when it goes back to its destination's exchange."""
    if names.H_SLOT in headers:
        return headers
    return {**headers, names.H_SLOT: str(slot_of(partition_key(headers.get(names.H_CASE_NO) or None, message_id)))}


def retry_headers(headers: dict, attempts: int, reason: str, message_id: str = "") -> dict:
    """The headers of the copy that goes to a retry queue after `attempts` failures."""
    now = now_iso()
    out = {k: v for k, v in slotted(headers, message_id).items() if k not in _BROKER_HEADERS}
    out[names.H_ATTEMPTS] = attempts
    out.setdefault(names.H_FIRST_FAILED, now)
    out[names.H_LAST_FAILED] = now
    out[names.H_REASON] = mask_text(reason)[:500]
    return out


def plain_headers(headers: dict) -> dict:
    """Headers that survive a trip through the store as JSON (parked messages)."""
    out = {}
    for k, v in headers.items():
        if k in _BROKER_HEADERS:
            continue
        out[k] = v if isinstance(v, (str, int, float, bool)) or v is None else str(v)
    return out
