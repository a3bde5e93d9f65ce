"""Delivery under faults: holds on cases (invariant 5 with retries), the messages parked
behind them, and the circuit breaker state of each destination.

A destination queue is consumed by one process at a time, so one process writes the
holds and parked messages of a destination; `commit_delivery_batch` writes a batch's
ledger rows and its hold changes in one transaction, so a crash leaves either all of a
batch's effects or none (and the batch is redelivered)."""

from __future__ import annotations

from sqlalchemy import delete, func, select, update

from .audit import audit_row, write_audit
from .ledger import ledger_row
from .schema import breaker_states, deliveries, delivery_holds, parked_messages
from .sql import StoreBase, chunks, insert_ignore, unique_by, upsert
from .types import utcnow

HOLD_STATUSES = ("retrying", "dead", "released", "waiting")   # waiting: for an earlier step (hub/runtime/sequence.py)
BREAKER_STATES = ("closed", "open", "half_open")


PARKED_COLUMN = "parked_messages.body"   # associated data of a sealed body (hub/store/keyring.py)

class Resilience(StoreBase):
    # --- holds ---------------------------------------------------------------------
    def holds(self, destination: str, case_nos: list[str]) -> dict[str, dict]:
        """The holds on any of ``case_nos`` at ``destination``, by case number."""
        out: dict[str, dict] = {}
        cases = [c for c in dict.fromkeys(case_nos) if c]
        if not cases:
            return out
        c = delivery_holds.c
        with self._read() as conn:
            for part in chunks(cases):
                q = select(delivery_holds).where(c.destination == destination, c.case_no.in_(part))
                out.update({r.case_no: dict(r._mapping) for r in conn.execute(q)})
        return out

    def list_holds(self, destination: str | None = None, status: str | None = None) -> list[dict]:
        c = delivery_holds.c
        q = select(delivery_holds).order_by(c.destination, c.created_at)
        if destination is not None:
            q = q.where(c.destination == destination)
        if status is not None:
            q = q.where(c.status == status)
        with self._read() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    def parked(self, destination: str, case_no: str) -> list[dict]:
        """The messages parked behind a case's hold, in the order they arrived."""
        c = parked_messages.c
        q = (select(parked_messages).where(c.destination == destination, c.case_no == case_no)
             .order_by(c.position))
        with self._read() as conn:
            rows = [dict(r._mapping) for r in conn.execute(q)]
        # a body sealed with a missing key raises (naming it): the case stays held, nothing lost
        for row in rows:
            row["body"] = self.payload_keys.open(row["body"], PARKED_COLUMN)
        return rows

    def parked_ids(self, destination: str) -> set[str]:
        """Every message parked at ``destination``: held behind its case's head, not lost."""
        c = parked_messages.c
        with self._read() as conn:
            return set(conn.scalars(select(c.message_id).where(c.destination == destination)))

    def last_parked_positions(self, destination: str, case_nos: list[str]) -> dict[str, int]:
        c = parked_messages.c
        out: dict[str, int] = {}
        with self._read() as conn:
            for part in chunks([x for x in dict.fromkeys(case_nos) if x]):
                q = (select(c.case_no, func.max(c.position))
                     .where(c.destination == destination, c.case_no.in_(part)).group_by(c.case_no))
                out.update({case: pos for case, pos in conn.execute(q)})
        return out

    def release_hold(self, destination: str, case_no: str, head_message_id: str, actor: str, reason: str) -> bool:
        """A replay of a dead head: the hold lets the head through when it comes back (the
        delivery worker then delivers the parked messages after it, in order). Only a
        dead hold whose head is that message changes; returns whether one did."""
        now = utcnow()
        c = delivery_holds.c
        with self._write() as conn:
            changed = conn.execute(
                update(delivery_holds)
                .where(c.destination == destination, c.case_no == case_no,
                       c.head_message_id == head_message_id, c.status.in_(("dead", "released")))
                .values(status="released", updated_at=now)
            ).rowcount
            if changed:
                write_audit(conn, [audit_row(actor, "hold.release", f"{destination}/{case_no}", reason,
                                             {"head_message_id": head_message_id}, now)])
        return bool(changed)

    def give_up_head(self, destination: str, case_no: str, new_head: str | None, actor: str, reason: str) -> bool:
        """An operator gives up a dead head (e.g. its dead letter was purged): the hold is
        released for ``new_head`` (the first parked message, which the caller puts back on
        the queue) or, with nothing parked, removed. Only a dead hold, or one already
        released by an earlier call, changes; returns whether one did."""
        now = utcnow()
        c = delivery_holds.c
        # waiting: a case held for an earlier step (hub/runtime/sequence.py) the operator lets go on without
        where = (c.destination == destination, c.case_no == case_no, c.status.in_(("dead", "released", "waiting")))
        with self._write() as conn:
            if new_head is None:
                changed = conn.execute(delete(delivery_holds).where(*where)).rowcount
            else:
                changed = conn.execute(update(delivery_holds).where(*where).values(
                    status="released", head_message_id=new_head, updated_at=now)).rowcount
            if changed:
                write_audit(conn, [audit_row(actor, "hold.give_up", f"{destination}/{case_no}", reason,
                                             {"new_head_message_id": new_head}, now)])
        return bool(changed)

    def hold_summary(self) -> dict[str, dict]:
        """{destination: {"retrying": n, "dead": n, "released": n, "parked": n}} for status."""
        out: dict[str, dict] = {}
        with self._read() as conn:
            for dest, status, n in conn.execute(
                    select(delivery_holds.c.destination, delivery_holds.c.status, func.count())
                    .group_by(delivery_holds.c.destination, delivery_holds.c.status)):
                out.setdefault(dest, {})[status] = n
            for dest, n in conn.execute(
                    select(parked_messages.c.destination, func.count()).group_by(parked_messages.c.destination)):
                out.setdefault(dest, {})["parked"] = n
        return out

    def commit_delivery_batch(self, destination: str, *, delivered: list[dict] = (), hold_upserts: list[dict] = (),
                              hold_deletes: list[str] = (), parks: list[dict] = (),
                              unparks: list[str] = ()) -> None:
        """One transaction for everything a delivery batch changed: ledger rows (as
        ``record_deliveries``), holds written whole or deleted by case, messages parked
        (dicts with message_id, case_no, position, routing_key, body, headers) and
        unparked by message id."""
        now = utcnow()
        ledger = [ledger_row(destination, row, now, "commit_delivery_batch") for row in delivered]
        for hold in hold_upserts:
            if hold["status"] not in HOLD_STATUSES:
                raise ValueError(f"hold status must be one of {HOLD_STATUSES}, got {hold['status']!r}")
        with self._write() as conn:
            if ledger:
                insert_ignore(conn, deliveries, unique_by(ledger, "message_id"))
            if unparks:
                for part in chunks(list(unparks)):
                    conn.execute(delete(parked_messages).where(parked_messages.c.destination == destination,
                                                               parked_messages.c.message_id.in_(part)))
            if parks:
                insert_ignore(conn, parked_messages, unique_by(
                    [{**p, "destination": destination, "parked_at": now,
                      "body": self.payload_keys.seal(p["body"], PARKED_COLUMN)} for p in parks], "message_id"))
            for hold in hold_upserts:
                row = {"destination": destination, "case_no": hold["case_no"],
                       "head_message_id": hold["head_message_id"], "status": hold["status"],
                       "attempts": int(hold["attempts"]), "reason": hold.get("reason"),
                       "dead_letter_id": hold.get("dead_letter_id"),
                       "created_at": hold.get("created_at") or now, "updated_at": now}
                upsert(conn, delivery_holds, row, ("destination", "case_no"))
            if hold_deletes:
                for part in chunks(list(hold_deletes)):
                    conn.execute(delete(delivery_holds).where(delivery_holds.c.destination == destination,
                                                              delivery_holds.c.case_no.in_(part)))

    # --- circuit breakers -----------------------------------------------------------
    def get_breaker(self, destination: str) -> dict | None:
        with self._read() as conn:
            row = conn.execute(select(breaker_states).where(breaker_states.c.destination == destination)).first()
        return dict(row._mapping) if row is not None else None

    def save_breaker(self, destination: str, *, state: str, failures: int, cooldown_ms: int, opened_at=None,
                     probe_at=None, reason: str | None = None, worker: str | None = None) -> None:
        if state not in BREAKER_STATES:
            raise ValueError(f"breaker state must be one of {BREAKER_STATES}, got {state!r}")
        row = {"destination": destination, "state": state, "failures": int(failures), "cooldown_ms": int(cooldown_ms),
               "opened_at": opened_at, "probe_at": probe_at, "reason": reason, "worker": worker,
               "updated_at": utcnow()}
        with self._write() as conn:
            upsert(conn, breaker_states, row, ("destination",))

    def breakers(self) -> list[dict]:
        with self._read() as conn:
            rows = conn.execute(select(breaker_states).order_by(breaker_states.c.destination))
            return [dict(r._mapping) for r in rows]
