"""Taking over as primary: the steps the other track left unrouted at a switch.

At a cutover (or a rollback) the track that becomes primary may already have read steps
the old primary had not read yet. Until the switch they went to the comparison only, and
the old primary will not route them either: it reads them after the switch, as the
shadow. Unless someone routes them, they reach no destination.

So before a source routes anything as the new primary, it:
1. publishes a fence to tongban.compare and waits until the compare loop has passed it:
   every message either track sent to the comparison before now is then in the store;
2. routes what it read and nobody routed, case by case in sequence order, exactly as it
   would have routed it then (hub/runtime/outbound.py): its waiting twins (read by this
   track, not yet by the other) and, since the switch, pairs where neither side was
   routed (the other track read it as the shadow after the switch, this one before its
   own source had noticed the switch).
Until both are done the source reads nothing, so its later steps cannot overtake these.
The opposite overlap, a step both tracks route around the switch, is dropped at each
destination by the ledger (outcome "twin", hub/runtime/delivery_worker.py).

What a source has done is kept under the checkpoint "<source>#takeover", keyed by the
stored mode change it answers, so a restart neither skips a takeover nor repeats it; a
department whose mode was never changed (it comes from the file) has nothing to take over."""
from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from hub.bus import names
from hub.dualtrack.matcher import OTHER
from hub.model import Envelope
from hub.runtime.outbound import exchange_of, headers_of, log_row

log = logging.getLogger("tongban.takeover")

# Pairs decided a little before the recorded change count too: hub processes' clocks differ.
CLOCK_MARGIN = timedelta(seconds=60)


def fence_key(source: str) -> str:
    """The checkpoint where the compare loop notes the last fence of ``source`` it passed."""
    return f"{source}#fence"


class Takeover:
    def __init__(self, *, name: str, department: str, system: str, track: str, store, publisher, change_of,
                 sequence_mode=lambda _ref: "none"):
        self.name, self.department, self.system, self.track = name, department, system, track
        self.sequence_mode = sequence_mode
        self.store, self.publisher = store, publisher
        self.change_of = change_of   # department -> id of its last stored mode change, or None
        self._settled_for: str | None = None

    def settled(self) -> bool:
        """True when this source may route: no switch is pending, or its takeover is done."""
        change = self.change_of(self.department)
        if change is None or change == self._settled_for:
            return True
        key = f"{self.name}#takeover"
        marker = self.store.get_checkpoint(key) or {}
        if marker.get("change") == change and marker.get("done"):
            self._settled_for = change
            return True
        if marker.get("change") != change:
            fence = str(uuid.uuid4())
            # Published before it is noted: a crash in between only costs another fence.
            self.publisher.publish(b"{}", names.COMPARE, f"{self.department}.fence", message_id=fence, headers={
                names.H_KIND: names.FENCE, names.H_DEPARTMENT: self.department, names.H_FENCE_FOR: self.name})
            self.publisher.flush()
            self.store.save_checkpoint(key, {"change": change, "fence": fence, "done": False})
            log.info("source %s: now primary (mode change %s); waiting for the comparison to catch up",
                     self.name, change)
            return False
        if (self.store.get_checkpoint(fence_key(self.name)) or {}).get("fence") != marker["fence"]:
            return False
        routed = self._route_unrouted(datetime.fromisoformat(change) - CLOCK_MARGIN)
        self.store.save_checkpoint(key, dict(marker, done=True, routed=routed))
        self._settled_for = change
        log.info("source %s: took over as primary; routed %d step(s) the other track had not", self.name, routed)
        return True

    def _route_unrouted(self, since: datetime) -> int:
        mine, other = self.track, OTHER[self.track]
        rows = [r for r in self.store.dualtrack_twins_since(self.department, since)
                if r[f"{mine}_message_id"] and r[f"{mine}_envelope"]
                and (r["state"] == "waiting" or r[f"{other}_message_id"])]   # not a twin the other never had
        routed = self.store.logged_ids([r[f"{t}_message_id"] for r in rows for t in (mine, other)
                                        if r[f"{t}_message_id"]])
        envelopes = [Envelope.model_validate(r[f"{mine}_envelope"]) for r in rows
                     if r[f"{mine}_message_id"] not in routed and r[f"{other}_message_id"] not in routed]
        envelopes.sort(key=lambda e: (e.case_no or "", e.sequence or 0))
        for env in envelopes:
            self.publisher.publish(env.model_dump_json().encode("utf-8"), exchange_of(env), env.routing_key,
                                   message_id=str(env.message_id), headers=headers_of(env, self.department, mine,
                                                                       self.sequence_mode(env.mapping)))
        self.publisher.flush()
        self.store.log_messages([log_row(env, self.department, self.system, mine) for env in envelopes])
        return len(envelopes)
