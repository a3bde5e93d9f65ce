"""Delivery worker: consume a destination queue, deliver, record in the ledger, then ack.

Invariant 2: a message is acked only after the destination accepted it and the ledger
recorded it. Invariant 4: the ledger (unique on message id and destination) skips what
was delivered before a crash; the idempotency key covers the window between the
destination's answer and the ledger's commit. Invariant 5: messages are handled one
after another in queue order; when the destination fails transiently the worker stops
at that message and gives back everything not yet settled (closing the channel
returns it to the queue in order), so nothing overtakes it."""
from __future__ import annotations

import json
import logging

from hub.bus import ConfirmingPublisher, Delivery, names
from hub.delivery import DeliveryError, MessageMeta
from hub.runtime.deadletters import publish_dead_letter

log = logging.getLogger("tongban.delivery")


class DestinationUnavailable(Exception):
    """The destination failed transiently; the batch's unsettled rest goes back to the queue."""


def meta_of(d: Delivery) -> MessageMeta:
    h = d.headers
    if d.message_id and names.H_KIND in h:
        seq = h.get(names.H_SEQUENCE)
        return MessageMeta(d.message_id, h[names.H_KIND], h.get(names.H_CASE_NO) or None,
                           int(seq) if seq else None, h.get(names.H_DEPARTMENT, "unknown"))
    env = json.loads(d.body)  # replayed or hand-published: read the envelope itself
    return MessageMeta(str(env["message_id"]), env["kind"], env.get("case_no"), env.get("sequence"),
                       env["source"]["department"])


class DeliveryWorker:
    def __init__(self, destination, store, dead_letters: ConfirmingPublisher):
        self.destination = destination
        self.store = store
        self.dead_letters = dead_letters
        self.delivered = 0

    def handle(self, batch: list[Delivery]) -> None:
        metas: list[MessageMeta | None] = []
        for d in batch:
            try:
                metas.append(meta_of(d))
            except (ValueError, KeyError, TypeError) as exc:
                metas.append(None)
                log.warning("malformed message on %s: %s", self.destination.name, exc)
        done = self.store.delivered_ids(self.destination.name, [m.message_id for m in metas if m])
        rows, settled, dead, failure = [], [], 0, None
        for d, meta in zip(batch, metas):
            if meta is None:
                self._dead(d, None, "message is not a canonical envelope (no message id or kind)")
                dead += 1
            elif meta.message_id in done:
                pass  # delivered before a crash or a replay: the ledger says so, do not send again
            else:
                try:
                    outcome = self.destination.send(d.body, meta)
                except DeliveryError as err:
                    if err.transient:
                        failure = err
                        break
                    self._dead(d, meta, err.reason)
                    dead += 1
                else:
                    done.add(meta.message_id)
                    rows.append({"message_id": meta.message_id, "case_no": meta.case_no,
                                 "sequence": meta.sequence, "kind": meta.kind, "outcome": outcome})
            settled.append(d)
        if rows:
            self.store.record_deliveries(self.destination.name, rows)
            self.delivered += len(rows)
        if dead:
            self.dead_letters.flush()
        for d in settled:
            d.ack()
        if failure is not None:
            raise DestinationUnavailable(f"{self.destination.name}: {failure.reason}")

    def _dead(self, d: Delivery, meta: MessageMeta | None, reason: str) -> None:
        publish_dead_letter(self.dead_letters, d.body, stage="deliver", reason=reason,
                            department=meta.department if meta else d.headers.get(names.H_DEPARTMENT, "unknown"),
                            destination=self.destination.name, record_key=d.headers.get(names.H_RECORD_KEY),
                            case_no=meta.case_no if meta else None, message_id=d.message_id,
                            routing_key=d.routing_key, prior=d.headers)
