"""Holds: per-case order (invariant 5) when a message has to wait for a retry.

Choice made here, of the two the design allows: one consumer per destination queue at
a time (several hub processes compete for it; one consumes, in order, and another takes
over when it dies: hub/runtime/loops.py), and a failing message does not stop its queue. When
message n of a case fails transiently it goes to a retry queue and its case is *held* at
that destination: later messages of the case that reach the worker are *parked* in the
store, in arrival order, and acked there (the store is as durable as the queue). When n
comes back and is delivered, the worker delivers the parked messages after it, in order,
and lifts the hold. A sequence check could not do this: sequences are not contiguous per
destination (the province receives only some steps), so "n+1 is next" is unknowable.

Parking in the store, rather than behind n in a retry queue, is what keeps order over
several tiers: n moves from the 5 s to the 30 s queue while a later message parked in the
5 s queue would come back first. When n is dead-lettered (after the last attempt, or
refused outright) the hold turns *dead* and the parked messages stay parked: nothing of
the case is delivered until an operator replays n (`tongban dlq replay`), which releases
the hold; the parked messages then follow n in order. `tongban status` shows the holds.

A record of the case that died before it became a message (decode, map, validate: a
*gate*, a dead letter still dead in the store) holds the case the same way: the case's
messages made after it are parked behind a hold whose head is "gate:<dead letter id>",
until the replay of that dead letter arrives (it is the head) or an operator releases the
case. Messages made before it go on. The source writes such a dead letter to the store
before it reads on (hub/runtime/source_worker.py), so no later message can overtake it.

The holds of a destination are written by the process that holds its queue only (and by
an operator: a replay turns dead into released), so a batch can change them in memory and
commit them with its ledger rows in one transaction (`Store.commit_delivery_batch`)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from hub.bus import Delivery, names
from hub.delivery import MessageMeta
from hub.runtime.retry import attempts_of, plain_headers


@dataclass
class Item:
    """One message, from the queue (`delivery` set) or from the parking lot."""
    body: bytes
    headers: dict
    routing_key: str
    message_id: str
    meta: MessageMeta
    delivery: Delivery | None = field(default=None, repr=False)


def meta_of(body: bytes, headers: dict, message_id: str | None) -> MessageMeta:
    """Raises ValueError (UnicodeDecodeError included), KeyError or TypeError when the
    message is not a canonical envelope."""
    text = body.decode("utf-8")  # every destination takes the envelope as UTF-8 JSON
    if message_id and names.H_KIND in headers:
        seq = headers.get(names.H_SEQUENCE)
        return MessageMeta(message_id, headers[names.H_KIND], headers.get(names.H_CASE_NO) or None,
                           int(seq) if seq else None, headers.get(names.H_DEPARTMENT, "unknown"),
                           headers.get(names.H_TRACK) or None, headers.get(names.H_SUPERSEDES) or None)
    env = json.loads(text)  # replayed or hand-published: read the envelope itself
    return MessageMeta(str(env["message_id"]), env["kind"], env.get("case_no"), env.get("sequence"),
                       env["source"]["department"], env["source"].get("track"),
                       headers.get(names.H_SUPERSEDES) or None)


def item_of(d: Delivery) -> Item:
    meta = meta_of(d.body, d.headers, d.message_id)
    return Item(d.body, d.headers, d.routing_key, meta.message_id, meta, d)


def is_live_head(hold: dict, item: Item) -> bool:
    """Whether a copy of the held head is the one to attempt, or a stale copy left by a
    crash between publishing a retry and acking the original (its retry copy, counted
    higher, is the live one; a dead head's dead letter holds it)."""
    if hold["status"] == "released":
        return True
    if hold["status"] == "dead":
        # A replay is recognised by the dead letter it came from, even if it overtook
        # the release (the replay releases first, but a crash may fall in between).
        replayed_from = item.headers.get(names.H_REPLAYED_FROM)
        return bool(replayed_from) and replayed_from == hold.get("dead_letter_id")
    return attempts_of(item.headers) >= int(hold["attempts"])


GATE = "gate:"


def is_gate_replay(hold: dict, item: Item) -> bool:
    """The replay of the dead letter a gate hold waits for: it comes as a new message, so
    it is recognised by the dead letter it came from, not by its id."""
    return hold["head_message_id"].startswith(GATE) and is_live_head(hold, item)


def _pass_key(destination: str, dead_letter_id: str) -> str:
    return f"gate-passed:{destination}:{dead_letter_id}"


def _made_at(item: Item) -> datetime | None:
    try:
        return datetime.fromisoformat(json.loads(item.body)["produced_at"])
    except (ValueError, KeyError, TypeError):
        return None


def step_ordered(rows: list[dict]) -> list[dict]:
    """Parked rows (store rows: headers dict) in arrival order, or by step number where every
    one of them has a numbered step to keep (hub/runtime/sequence.py); stable, so a step's
    kinds keep their order. The delivery worker's drain and an operator's release agree."""
    def step(r):
        h = r.get("headers") or {}
        try:
            return int(h[names.H_SEQUENCE]) if h.get(names.H_SEQ_MODE) in ("gap_free", "ordered") else None
        except (KeyError, TypeError, ValueError):
            return None
    steps = [step(r) for r in rows]
    if rows and all(s is not None for s in steps):
        return [r for _, r in sorted(zip(steps, rows), key=lambda p: p[0])]
    return rows


class HoldBook:
    """The holds of one batch's cases: read once, changed in memory, committed with the batch."""

    def __init__(self, store, destination: str, case_nos: list[str]):
        self.store, self.destination = store, destination
        self.holds = store.holds(destination, case_nos) if any(case_nos) else {}
        self.gates = store.open_gates(case_nos) if any(case_nos) else {}
        # gates whose replay this destination has seen: the dead letter is marked replayed only
        # after the replay is published, and a message made meanwhile must not wait for it again
        self.passed = {g["id"] for gates in self.gates.values() for g in gates
                       if store.get_checkpoint(_pass_key(destination, g["id"]))}
        self.new_passes: list[str] = []
        self.upserts: dict[str, dict] = {}
        self.deletes: set[str] = set()
        self.parks: list[dict] = []
        self.unparks: list[str] = []
        self._positions: dict[str, int] = {}

    def get(self, case_no: str | None) -> dict | None:
        return self.holds.get(case_no) if case_no else None

    def note_replay(self, item: Item) -> None:
        """The replay of a gate's dead letter reached this destination: from here its own
        hold, if it needs one, keeps the case's order."""
        replayed_from = item.headers.get(names.H_REPLAYED_FROM)
        if replayed_from and replayed_from not in self.passed and any(
                g["id"] == replayed_from for g in self.gates.get(item.meta.case_no, ())):
            self.passed.add(replayed_from)
            self.new_passes.append(replayed_from)

    def gate_for(self, item: Item) -> dict | None:
        """The oldest dead letter of the item's case, from before it, that it must wait for."""
        made = _made_at(item)
        gates = self.gates.get(item.meta.case_no, ())
        waits = [g for g in gates if g["department"] == item.meta.department and g["id"] not in self.passed
                 and g.get("track") in (None, item.meta.track)
                 and (made is None or g["first_failed_at"] <= made)]
        return min(waits, key=lambda g: g["first_failed_at"]) if waits else None

    def hold(self, case_no: str, head: str, attempts: int, status: str, reason: str,
             dead_letter_id: str | None = None, fresh: bool = False) -> None:
        """fresh: the hold starts its clock now (a wait for another step than before)."""
        prior = {} if fresh else (self.holds.get(case_no) or {})
        row = {"case_no": case_no, "head_message_id": head, "attempts": attempts, "status": status,
               "reason": reason[:2000], "dead_letter_id": dead_letter_id, "created_at": prior.get("created_at")}
        self.holds[case_no] = self.upserts[case_no] = row
        self.deletes.discard(case_no)

    def release(self, case_no: str) -> None:
        self.holds.pop(case_no, None)
        self.upserts.pop(case_no, None)
        self.deletes.add(case_no)

    def park(self, item: Item) -> None:
        case = item.meta.case_no
        if any(p["message_id"] == item.message_id for p in self.parks):
            return  # a second copy in the same batch
        if case not in self._positions:
            self._positions[case] = self.store.last_parked_positions(self.destination, [case]).get(case, 0)
        self._positions[case] += 1
        self.parks.append({"message_id": item.message_id, "case_no": case, "position": self._positions[case],
                           "routing_key": item.routing_key, "body": item.body.decode("utf-8"),
                           "headers": plain_headers(item.headers)})

    def parked(self, case_no: str) -> list[Item]:
        """The case's parked messages in order: those in the store, then this batch's; by
        step number where every one of them has a numbered step to keep (an early step
        parked before its predecessor arrived goes after it)."""
        rows = [r for r in self.store.parked(self.destination, case_no) if r["message_id"] not in self.unparks]
        rows += [p for p in self.parks if p["case_no"] == case_no]
        out = []
        rows = step_ordered(rows)
        for r in rows:
            body, headers = r["body"].encode("utf-8"), dict(r["headers"] or {})
            out.append(Item(body, headers, r["routing_key"] or "", r["message_id"],
                            meta_of(body, headers, r["message_id"])))
        return out

    def unpark(self, item: Item) -> None:
        pending = [p for p in self.parks if p["message_id"] == item.message_id]
        if pending:
            self.parks.remove(pending[0])
        else:
            self.unparks.append(item.message_id)

    def commit(self, delivered: list[dict]) -> None:
        self.store.commit_delivery_batch(self.destination, delivered=delivered,
                                         hold_upserts=list(self.upserts.values()), hold_deletes=sorted(self.deletes),
                                         parks=self.parks, unparks=self.unparks)
        for dead_letter_id in self.new_passes:
            self.store.save_checkpoint(_pass_key(self.destination, dead_letter_id), {"passed": True})
