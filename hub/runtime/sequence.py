"""Per-case order from the source (invariant 5 for what arrives early): a destination never
gets step n of a case before step n-1, in whatever order the legacy system wrote them.

How a department numbers its steps is declared by its mapping (`sequence:`, carried on
each message as the x-tongban-sequence-mode header by the source worker):
- gap_free (the default): steps 1, 2, 3, ... Step n may go to destination D once every
  earlier step has been read from the source (the message log holds it) and those of them
  routed to D were delivered there. Steps routed elsewhere only (the province receives
  only some) must have been read, not delivered here: that is what the message log tells
  and a per-destination count cannot. An early step is parked behind a *waiting* hold
  naming the step it waits for (hold head "seq:<k>"); the case's later messages park
  behind it as for any hold. After `sequence.gap_seconds` (per department under
  sequence.departments) without step k, the early step is dead-lettered at stage
  `sequence`, the missing step named, and the case is held dead until an operator
  replays it (sent as it is: the operator decided) or releases the case.
- ordered: increasing, with gaps; a missing step cannot be told from a skipped number, so
  nothing waits, but a step that comes after a later one was delivered is refused at
  stage `sequence` instead of being applied out of order.
- none: no order by number (messages still keep their queue order per case).
A replayed message (x-tongban-replayed-from) is not checked: an operator sent it."""
from __future__ import annotations

from dataclasses import dataclass

from hub.bus import names
from hub.routing import destinations_for

GAP_FREE, ORDERED, NONE = "gap_free", "ordered", "none"
SEQ = "seq:"                 # the head of a hold that waits for an earlier step
DEFAULT_GAP_SECONDS = 600.0


@dataclass(frozen=True)
class Verdict:
    ready: bool
    waits_for: int | None = None    # gap_free: the earliest step not yet settled here
    late_after: int | None = None   # a later step was delivered already: refuse this one

    @property
    def late(self) -> bool:
        return self.late_after is not None


READY = Verdict(True)


def mode_of(headers: dict) -> str:
    mode = headers.get(names.H_SEQ_MODE) or NONE
    return mode if mode in (GAP_FREE, ORDERED, NONE) else NONE


def gap_seconds(settings: dict | None, department: str) -> float:
    conf = (settings or {}).get("sequence") or {}
    per = ((conf.get("departments") or {}).get(department) or {}).get("gap_seconds")
    return float(per if per is not None else conf.get("gap_seconds", DEFAULT_GAP_SECONDS))


def awaited_step(hold: dict | None) -> int | None:
    head = (hold or {}).get("head_message_id") or ""
    return int(head[len(SEQ):]) if head.startswith(SEQ) and (hold or {}).get("status") == "waiting" else None


def read_before(steps_read: set[int]) -> tuple[int, int]:
    """(through, highest): the last step n such that 1..n were all read, and the highest read."""
    through = 0
    while through + 1 in steps_read:
        through += 1
    return through, max(steps_read, default=0)


class SequenceCheck:
    """What one batch knows of its cases' steps. Most messages need nothing from the store:
    the source says in two headers what it had read of the case before this step (the steps
    1..through, and the highest), and steps read before this one and routed here were
    published before it, into the same partition, so they are ahead of it in the queue or
    delivered. Only a step the source itself read early (or one of an older hub, without
    the headers) has its case's steps read from the message log and the ledger, once a batch."""

    def __init__(self, store, destination: str, routes, case_nos: list[str], done: set[str]):
        self.store, self.destination, self.routes, self.done = store, destination, routes, done
        self.steps: dict[str, list[dict]] = {}
        self.last: dict[str, int] = {}
        self._loaded: set[str] = set()

    def _load(self, case: str) -> None:
        if case in self._loaded:
            return
        self._loaded.add(case)
        rows = self.store.case_steps([case]).get(case, [])
        self.steps[case] = rows
        if rows:
            self.done |= self.store.delivered_ids(self.destination, [r["message_id"] for r in rows])
        stored = self.store.last_sequences(self.destination, [case]).get(case, 0)
        self.last[case] = max(self.last.get(case, 0), stored)

    def step_of(self, case: str, message_id: str) -> int | None:
        self._load(case)
        return next((r["sequence"] for r in self.steps.get(case, ()) if r["message_id"] == message_id), None)

    def _routed_here(self, routing_key: str | None) -> bool:
        if self.routes is None or not routing_key or routing_key.count(".") < 2:
            return True      # not known: wait for it as if it came here
        department, kind, event = routing_key.split(".", 2)
        return self.destination in destinations_for(self.routes, department, kind, event)

    def verdict(self, item) -> Verdict:
        m, h = item.meta, item.headers
        mode = mode_of(h)
        if mode == NONE or m.sequence is None or not m.case_no or h.get(names.H_REPLAYED_FROM):
            return READY
        through, highest = _int(h.get(names.H_READ_THROUGH)), _int(h.get(names.H_READ_MAX))
        if mode == GAP_FREE and through is not None and through >= m.sequence - 1 \
                and highest is not None and highest <= m.sequence:
            # every earlier step, and no later one, was read before this one: they are ahead of
            # it in the queue or delivered, and nothing later can have gone first
            return READY
        if mode == ORDERED and highest is not None and m.sequence >= highest:
            return READY     # nothing later was read before it, so nothing later went out first
        self._load(m.case_no)
        last = self.last.get(m.case_no, 0)
        rows = self.steps.get(m.case_no, [])
        if m.sequence < last:
            # A new version of a step delivered before (a correction) goes as an update;
            # a step this destination never had, after a later one, would be out of order.
            if any(r["sequence"] == m.sequence and r["message_id"] in self.done for r in rows):
                return READY
            return Verdict(False, late_after=last)
        if mode == ORDERED:
            return READY
        for k in range(last + 1, m.sequence):
            of_k = [r for r in rows if r["sequence"] == k]
            if not of_k or any(self._routed_here(r["routing_key"]) and r["message_id"] not in self.done
                               for r in of_k):
                return Verdict(False, waits_for=k)
        return READY

    def delivered(self, item) -> None:
        m = item.meta
        if m.case_no and m.sequence is not None:
            self.last[m.case_no] = max(self.last.get(m.case_no, 0), m.sequence)


def _int(value) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
