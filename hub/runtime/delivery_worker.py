"""Delivery worker: consume a destination queue, deliver, record in the ledger, then ack.

Invariant 2: a message is acked only after the destination accepted it and the ledger
recorded it, or after it was put somewhere as durable: a retry queue (confirmed), the
dead-letter exchange (confirmed) or the parking lot in the store (committed).
Invariant 4: the ledger (unique on message id and destination) skips what was delivered
before a crash; the idempotency key covers the window between the destination's answer
and the ledger's commit.
Invariant 5: messages are handled in queue order by the one process holding the queue;
a message that must wait for a retry holds its case, and the case's later messages wait
behind it (hub/runtime/hold.py).
Invariant 6 across a switch: in a dual-track department each step (case, kind, sequence)
reaches a destination from one track only. Around a cutover or rollback both tracks may
route the same step (the old primary read it just before, the new one just after); the
ledger keeps the track, and a step already delivered from the other track is recorded
as "twin" and not sent again (hub/runtime/takeover.py covers the opposite gap).
Invariant 5 for what the source sends early: a numbered step waits for the steps before it
(hub/runtime/sequence.py), parked behind a *waiting* hold.
No delivery without evidence: a message whose message-log row is not written yet waits in a
retry queue, its case held, until it is (hub/runtime/evidence.py).
Invariant 7: a transient failure sends a copy counted one higher to a retry queue
(hub/runtime/retry.py); at the limit the message is dead-lettered with stage deliver.
Many failures in a row open the destination's circuit breaker (hub/runtime/breaker.py):
the batch stops and its unsettled rest goes back to the queue, in order, uncounted.

Order of effects in a batch, so that a crash at any point loses nothing: destination
calls, then every publish confirmed (retries, dead letters), then one store transaction
(ledger rows, holds, parked messages), then the acks."""
from __future__ import annotations

import logging
import time
from datetime import datetime, timezone

from hub import bus
from hub.bus import ConfirmingPublisher, Delivery, names
from hub.delivery import DeliveryError
from hub.observability import metrics
from hub.runtime.breaker import CircuitBreaker
from hub.runtime.deadletters import publish_dead_letter
from hub.runtime.evidence import Evidence, await_rows, missing_reason
from hub.runtime.hold import GATE, HoldBook, Item, is_gate_replay, is_live_head, item_of, meta_of
from hub.runtime.retry import RetryPolicy, attempts_of, retry_headers
from hub.runtime.sequence import SEQ, SequenceCheck, awaited_step, gap_seconds

log = logging.getLogger("tongban.delivery")

GAVE_UP = "sequence: "   # the reason of a hold whose early step gave up waiting for an earlier one

__all__ = ["BreakerOpen", "DeliveryWorker", "meta_of"]


def _unix(header) -> float | None:
    """x-tongban-produced (ISO 8601, +08:00, as every header time) as POSIX seconds."""
    try:
        return datetime.fromisoformat(header).timestamp() if header else None
    except (TypeError, ValueError):
        return None      # a header from an older hub or another publisher: no latency sample


class BreakerOpen(Exception):
    """The destination's breaker is open: stop consuming; the batch's unsettled rest goes back."""


class _Stop(Exception):
    pass


class _Batch:
    """What one batch knows and changes: the ledger's ids and steps for its messages, the
    rows it adds, and its cases' holds. Read from the store when the batch starts (an
    operator's replay, or another process that held the queue meanwhile, may have changed
    them), committed in one transaction when it ends."""

    def __init__(self, store, destination: str, items: list[Item], twin_departments: frozenset[str],
                 routes=None, cases: list[str] | None = None, logged: set[str] | None = None):
        self.destination, self.twin_departments = destination, twin_departments
        self.done = store.delivered_ids(destination, [i.message_id for i in items])
        self.rows: list[dict] = []
        self.tally: dict[tuple[str, str | None], int] = {}   # (department, track) -> delivered: the metric, per batch
        twins = [i.meta.case_no for i in items if i.meta.department in twin_departments]
        self.steps = store.delivered_steps(destination, twins) if twins else {}
        cases = [i.meta.case_no for i in items] if cases is None else cases
        self.book = HoldBook(store, destination, cases)
        self.seq = SequenceCheck(store, destination, routes, cases, self.done)
        self.evidence = Evidence(store, items, self.done, logged)   # their log rows (hub/runtime/evidence.py)

    def parked(self, case: str) -> list[Item]:
        """The case's parked messages, their message-log rows asked for in one query."""
        parked = self.book.parked(case)
        self.evidence.ask(parked)
        return parked

    def twin_delivered(self, item: Item) -> bool:
        m = item.meta
        if m.track is None or m.sequence is None or m.department not in self.twin_departments:
            return False
        return bool(self.steps.get((m.case_no, m.kind, m.sequence), set()) - {m.track})

    def record(self, item: Item, outcome: str) -> None:
        m = item.meta
        if outcome == "twin":
            log.info("%s: %s step %s/%s/%s already delivered from the other track; not sent again",
                     self.destination, item.message_id, m.case_no, m.kind, m.sequence)
        elif outcome in ("accepted", "duplicate") and m.track and m.case_no and m.sequence is not None:
            self.steps.setdefault((m.case_no, m.kind, m.sequence), set()).add(m.track)
        self.done.add(item.message_id)
        self.tally[(m.department, m.track)] = self.tally.get((m.department, m.track), 0) + 1
        self.seq.delivered(item)
        self.rows.append({"message_id": item.message_id, "case_no": m.case_no, "track": m.track,
                          "sequence": m.sequence, "kind": m.kind, "outcome": outcome})

    def commit(self) -> None:
        self.book.commit(self.rows)


class DeliveryWorker:
    def __init__(self, destination, store, dead_letters: ConfirmingPublisher, policy: RetryPolicy | None = None,
                 breaker: CircuitBreaker | None = None, twin_departments: frozenset[str] = frozenset(),
                 queue_type: str = "classic", routes=None, settings: dict | None = None):
        self.destination = destination
        self.store = store
        self.dead_letters = dead_letters      # publishes dead letters and retry copies
        self.policy = policy or RetryPolicy()
        self.breaker = breaker or CircuitBreaker(destination.name, store)
        self.delivered = 0
        self.retried = 0
        # departments read on two tracks: only their messages need the cross-track step check
        self.twin_departments = twin_departments
        self.queue_type = queue_type
        self.routes = routes            # which steps come here (hub/runtime/sequence.py); None: all
        self.settings = settings
        self._ticked = 0.0
        self._may_wait = True      # a case of this partition may be waiting (checked once at start)

    def prepare(self, conn) -> None:
        """Declare this destination's retry queues (a retry published to a missing queue
        would be dropped by the default exchange)."""
        bus.declare_retry_queues(conn, self.destination.name, self.policy.delays_ms, self.queue_type)

    def handle(self, batch: list[Delivery]) -> None:
        if self.breaker.is_open:  # opened while this batch was being fetched
            raise BreakerOpen(self.destination.name)
        retried = self.retried
        items: list[Item | None] = []
        for d in batch:
            try:
                items.append(item_of(d))
            except (ValueError, KeyError, TypeError) as exc:
                items.append(None)
                log.warning("malformed message on %s: %s", self.destination.name, exc)
        known = [i for i in items if i]
        logged = await_rows(self.store, known)   # before the read transaction: it sees rows committed meanwhile
        with self.store.reading():
            b = _Batch(self.store, self.destination.name, known, self.twin_departments, self.routes, logged=logged)
        settled, stopped = [], False
        for d, item in zip(batch, items):
            if self.breaker.is_open:
                stopped = True
                break
            try:
                if item is None:
                    self._dead_letter(d.body, d.headers, d.routing_key, d.message_id, None,
                                      "message is not a canonical envelope (no message id or kind)", 1)
                else:
                    self._one(item, b)
            except _Stop:
                stopped = True
                break
            settled.append(d)
        self.dead_letters.flush()
        b.commit()
        self.delivered += len(b.rows)
        bus.ack_all(settled)
        metrics.delivery_batch(self.destination.name, b.tally, self.retried - retried)
        if stopped:
            raise BreakerOpen(f"{self.destination.name}: breaker open")

    # --- one message ------------------------------------------------------------------
    def _one(self, item: Item, b: _Batch) -> None:
        case, mid, book = item.meta.case_no, item.message_id, b.book
        book.note_replay(item)
        hold = book.get(case)
        if hold is None:
            if mid in b.done:
                return
            gate = book.gate_for(item)
            if gate is None:
                self._in_order(item, b)
                return
            book.hold(case, GATE + gate["id"], 0, "dead", f"waiting for dead letter {gate['id']} of this case "
                      f"(stage {gate['stage']}): {gate['reason']}", dead_letter_id=gate["id"])
            book.park(item)
        elif mid == hold["head_message_id"] or is_gate_replay(hold, item):
            if mid in b.done:       # delivered, but the batch that did it died before lifting the hold
                self._drain(case, b)
            elif is_live_head(hold, item):
                if self._gave_up(hold) and not self._send_below(case, item.meta.sequence, b):
                    book.park(item)   # a step before it failed: it holds the case now; this one waits
                elif self._send(item, b):
                    self._drain(case, b)
            else:
                log.info("%s: stale copy of held message %s dropped", self.destination.name, mid)
        elif mid in b.done:
            return
        elif (awaited := awaited_step(hold)) is not None and item.meta.sequence is not None \
                and item.meta.sequence <= awaited:
            book.park(item)          # the step the case waits for: it goes first if it may
            self._drain(case, b)
        elif (head := self._given_up_step(hold, b, case)) is not None and item.meta.sequence is not None \
                and item.meta.sequence < head:
            # the step that was missing (or one before it), come at last: in order, before the dead one
            book.park(item)
            self._send_below(case, head, b)
        else:
            book.park(item)

    @staticmethod
    def _gave_up(hold: dict) -> bool:
        return hold["status"] in ("dead", "released") and (hold.get("reason") or "").startswith(GAVE_UP)

    def _given_up_step(self, hold: dict, b: _Batch, case: str) -> int | None:
        """The step of a case held dead because it gave up waiting for an earlier one."""
        if hold["status"] != "dead" or not self._gave_up(hold):
            return None
        return b.seq.step_of(case, hold["head_message_id"])

    def _send_below(self, case: str, head: int | None, b: _Batch) -> bool:
        """Send the case's parked steps before `head` (the step that gave up) that may go now,
        in step order; False when one failed (it holds the case: retrying or dead)."""
        if head is None:
            return True
        for p in b.parked(case):
            if p.meta.sequence is None or p.meta.sequence >= head:
                break
            if p.message_id in b.done:
                b.book.unpark(p)
                continue
            if not b.seq.verdict(p).ready:
                break
            b.book.unpark(p)
            if not self._send(p, b):
                return False
        return True

    def _in_order(self, item: Item, b: _Batch) -> None:
        """Send a message no hold stops, if its case's earlier steps are settled here."""
        v = b.seq.verdict(item)
        if v.ready:
            self._send(item, b)
        elif v.late:
            self._refuse_late(item, b, v.late_after)
        else:
            self._wait(item, b, v.waits_for)
            b.book.park(item)

    def _wait(self, item: Item, b: _Batch, step: int, fresh: bool | None = None) -> None:
        self._may_wait = True
        m = item.meta
        b.book.hold(m.case_no, f"{SEQ}{step}", 0, "waiting",
                    f"step {step} of case {m.case_no} has not arrived (step {m.sequence} came first)",
                    fresh=awaited_step(b.book.get(m.case_no)) != step if fresh is None else fresh)
        log.info("%s: %s is step %s of case %s; waiting for step %d", self.destination.name, item.message_id,
                 m.sequence, m.case_no, step)

    def _refuse_late(self, item: Item, b: _Batch, after: int) -> None:
        self._dead_letter(item.body, item.headers, item.routing_key, item.message_id, item.meta,
                          f"step {item.meta.sequence} of case {item.meta.case_no} arrived after step {after} "
                          f"was delivered", 1, stage="sequence")

    def _drain(self, case: str, b: _Batch) -> None:
        """The head got through (or the step the case waited for came): deliver what was
        parked behind it, in order, each once its earlier steps are settled; the first that
        fails becomes the new head, the first that must wait for a step the new wait, and
        the rest stay parked."""
        for p in b.parked(case):
            if p.message_id in b.done:
                b.book.unpark(p)
                continue
            v = b.seq.verdict(p)
            if v.late:
                b.book.unpark(p)
                self._refuse_late(p, b, v.late_after)
                continue
            if not v.ready:
                self._wait(p, b, v.waits_for)
                return
            b.book.unpark(p)
            if not self._send(p, b):
                return
        b.book.release(case)

    # --- time ---------------------------------------------------------------------------
    def tick(self, owns=lambda case_no: True) -> None:
        """Between batches: a case waiting for a step that went only elsewhere goes on once
        the step was read; one waiting longer than its department's gap gives up (its early
        step dead-lettered at stage sequence, naming the missing one). At most once a second."""
        if not self._may_wait or time.monotonic() - self._ticked < 1.0 or self.breaker.is_open:
            return
        self._ticked = time.monotonic()
        # owns: the cases of the partition this worker holds (holds are written by it alone)
        waiting = [h for h in self.store.list_holds(self.destination.name, status="waiting")
                   if h["head_message_id"].startswith(SEQ) and owns(h["case_no"])]
        if not waiting:
            self._may_wait = False   # until a step of this partition has to wait again
            return
        b = _Batch(self.store, self.destination.name, [], self.twin_departments, self.routes,
                   cases=[h["case_no"] for h in waiting])
        lots = {h["case_no"]: b.book.parked(h["case_no"]) for h in waiting}
        b.done |= self.store.delivered_ids(self.destination.name, [p.message_id for ps in lots.values() for p in ps])
        now = datetime.now(timezone.utc)
        for h in waiting:
            parked = lots[h["case_no"]]
            if not parked:
                b.book.release(h["case_no"])
                continue
            first = parked[0]
            v = b.seq.verdict(first)
            if v.ready or v.late:
                self._drain(h["case_no"], b)   # it goes, or is refused as late, with what follows it
                continue
            step = v.waits_for
            if step != awaited_step(h):
                # The step it waited for was read since (its log row committed after the early
                # step reached us): it waits for the next missing one, on the same clock.
                self._wait(first, b, step, fresh=False)
            created = h["created_at"] if h["created_at"].tzinfo else h["created_at"].replace(tzinfo=timezone.utc)
            limit = gap_seconds(self.settings, first.meta.department)
            if (now - created).total_seconds() >= limit:
                b.book.unpark(first)
                reason = (f"{GAVE_UP}step {step} of case {first.meta.case_no} did not arrive within {limit:g} s "
                          f"(step {first.meta.sequence} came first)")
                dl = self._dead_letter(first.body, first.headers, first.routing_key, first.message_id,
                                       first.meta, reason, 1, stage="sequence")
                b.book.hold(first.meta.case_no, first.message_id, 1, "dead", reason, dead_letter_id=dl)
                log.warning("%s: %s", self.destination.name, reason)
        self.dead_letters.flush()
        b.commit()
        self.delivered += len(b.rows)
        metrics.delivery_batch(self.destination.name, b.tally, 0)

    def _send(self, item: Item, b: _Batch) -> bool:
        """Send one message and settle what came of it. True: the destination has it (now, or
        from the other track before). False: it failed and holds its case, retrying or dead."""
        if b.twin_delivered(item):
            b.record(item, "twin")
            return True
        if not b.evidence.kept(item):   # not before its log row: it waits, its case held, uncounted by the breaker
            self._retry(item, b.book, missing_reason(item.message_id), failure=False)
            return False
        # Only a message from the queue can go back to it; a parked one failing in a probe is retried.
        probing = self.breaker.probing and item.delivery is not None
        began = time.perf_counter()
        try:
            outcome = self.destination.send(item.body, item.meta)
        except DeliveryError as err:
            if not err.transient:
                self.breaker.success()   # it answered; the message is at fault
                self._dead(item, b.book, err.reason, attempts_of(item.headers) + 1)
                return False
            self.breaker.failure(err.reason)
            if probing:
                raise _Stop from None    # the probe goes back to the head of the queue, uncounted
            self._retry(item, b.book, err.reason)
            return False
        self.breaker.success()
        produced = item.headers.get(names.H_PRODUCED)
        metrics.delivered_one(self.destination.name, time.perf_counter() - began, _unix(produced))
        b.record(item, outcome)
        return True

    # --- outcomes ---------------------------------------------------------------------
    def _retry(self, item: Item, book: HoldBook, reason: str, failure: bool = True) -> None:
        """failure: the destination's (counted in tongban_retries_total); False: the hub's own
        wait, for the message's log row (hub/runtime/evidence.py)."""
        attempts = attempts_of(item.headers) + 1
        if self.policy.exhausted(attempts):
            self._dead(item, book, f"gave up after {attempts} attempts: {reason}", attempts)
            return
        exchange, pick = self.policy.target(self.destination.name, attempts)
        queue = pick[names.H_DELAY]
        self.dead_letters.publish(item.body, exchange, item.routing_key, message_id=item.message_id,
                                  headers={**retry_headers(item.headers, attempts, reason, item.message_id), **pick})
        self.retried += failure
        if item.meta.case_no:
            book.hold(item.meta.case_no, item.message_id, attempts, "retrying", reason)
        log.info("%s: %s attempt %d failed (%s); retry via %s", self.destination.name, item.message_id,
                 attempts, reason, queue)

    def _dead(self, item: Item, book: HoldBook, reason: str, attempts: int) -> None:
        case = item.meta.case_no
        dl_id = self._dead_letter(item.body, item.headers, item.routing_key, item.message_id, item.meta, reason,
                                  attempts)
        if case:
            # Later messages of the case stay parked until an operator replays this one.
            book.hold(case, item.message_id, attempts, "dead", reason, dead_letter_id=dl_id)

    def _dead_letter(self, body, headers, routing_key, message_id, meta, reason: str, attempts: int,
                     stage: str = "deliver") -> str:
        return publish_dead_letter(
            self.dead_letters, body, stage=stage, reason=reason,
            department=meta.department if meta else headers.get(names.H_DEPARTMENT, "unknown"),
            destination=self.destination.name, record_key=headers.get(names.H_RECORD_KEY),
            case_no=meta.case_no if meta else None, message_id=message_id, attempts=attempts,
            routing_key=routing_key, prior=headers).id
