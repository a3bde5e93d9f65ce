"""No delivery without evidence (issue 13, item 1): a message reaches a destination only once
its row is in the message log, the hash-chained record of what the hub sent onward.

A source publishes a page (confirmed) before it writes the page's log rows and checkpoint
in one transaction (invariant 1 needs the confirms first). When that transaction fails the
messages are already queued; the source stops and writes the rows as soon as it can, or,
after a restart, reads the page again and logs the same deterministic message ids. The
delivery worker therefore asks the log, once per batch (one IN query on its primary key), for
the messages it is about to send. One without a row goes to a retry queue and holds its
case like a transient failure (its count in its headers, invariant 7; the destination and
its breaker are not involved); at the retry limit it is dead-lettered at stage `deliver`,
its reason starting "evidence:" (a stage of its own would widen the released dead-letter
header schema's enum, a change strict consumers could refuse: docs/wire.md).

Who publishes to a destination's queues, and why each has its row or is exempt:
- the source worker (hub/runtime/source_worker.py): logs the page after its confirms;
- a takeover's late routing (hub/runtime/takeover.py): logs what it routed, after it;
- retry copies, and a released case's first parked message (hub/ops/replay.py
  release_case): the same message id as the logged original;
- southbound applications: the platform's own source worker, so logged like any other;
- an operator's replay (x-tongban-replayed-from): exempt. A replayed record mapped again
  has a new envelope that no source logged; its evidence is the dead letter it came from
  and the audit row naming who replayed it and why (Store.mark_dead_letters)."""
from __future__ import annotations

import time

from hub.bus import names

REASON = "evidence: "  # the start of the reason of a hold or dead letter for a missing log row


def exempt(headers: dict) -> bool:
    return bool(headers.get(names.H_REPLAYED_FROM))


def missing_reason(message_id: str) -> str:
    return (f"{REASON}message {message_id} has no row in the message log (its source has not written it): "
            "not delivered without evidence")


# The source commits a page's log rows just after the broker confirmed the page, so a delivery
# worker quick enough often holds messages whose rows land a few milliseconds later: those are
# waited for, this long, before a message goes the retry way (a retry tier costs seconds and
# holds its case).
GRACE_SECONDS = 1.0
_POLL = 0.01


def await_rows(store, items, grace: float = GRACE_SECONDS) -> set[str]:
    """The ids of ``items`` the message log holds, after waiting up to ``grace`` seconds for
    those it does not hold yet. Each query sees what committed since: call it outside a read
    transaction (``store.reading()``), whose snapshot would not."""
    ids = {i.message_id for i in items if not exempt(i.headers)}
    logged = store.logged_ids(list(ids)) if ids else set()
    deadline = time.monotonic() + grace
    while ids - logged and time.monotonic() < deadline:
        time.sleep(_POLL)
        logged |= store.logged_ids(list(ids - logged))
    return logged


class Evidence:
    """Which of a batch's messages the message log holds: known for the batch's messages
    (``logged``, from await_rows) or asked once for them, then for parked messages (drained
    from the store) as they come up."""

    def __init__(self, store, items, done: set[str], logged: set[str] | None = None):
        self.store, self.logged, self.asked = store, set(), set()
        if logged is not None:
            self.logged = set(logged)
            self.asked = {i.message_id for i in items}
        else:
            self.ask([i for i in items if i.message_id not in done])

    def ask(self, items) -> None:
        ids = [i.message_id for i in items if i.message_id not in self.asked and not exempt(i.headers)]
        if ids:
            self.asked.update(ids)
            self.logged |= self.store.logged_ids(ids)

    def kept(self, item) -> bool:
        if exempt(item.headers):
            return True
        self.ask([item])
        return item.message_id in self.logged
