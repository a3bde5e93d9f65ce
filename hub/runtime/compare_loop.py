"""Feeds both tracks' canonical messages from tongban.compare to the dual-track matcher,
and expires twins that waited past the lag window."""
from __future__ import annotations

import json
import logging
import time

from hub import bus
from hub.observability import metrics
from hub.runtime.takeover import fence_key

log = logging.getLogger("tongban.compare")


class CompareLoop:
    def __init__(self, *, store, settings, broker_url, prefetch, batch_size):
        from hub.dualtrack import DualTrack
        self.dualtrack = DualTrack(store, settings)
        self.store = store
        self.conn = bus.connect(broker_url)
        self.consumer = bus.BatchConsumer(self.conn, bus.names.COMPARE_QUEUE, self.handle, prefetch=prefetch,
                                          batch_size=batch_size)
        self._expired_at = 0.0

    def handle(self, batch: list[bus.Delivery]) -> None:
        envelopes, fences = [], []
        for d in batch:
            if d.headers.get(bus.names.H_KIND) == bus.names.FENCE:
                fences.append(d)
                continue
            try:
                envelopes.append(json.loads(d.body))
            except ValueError:
                log.warning("not JSON on the compare queue (message %s); nothing to compare", d.message_id)
        try:
            metrics.compared(self.dualtrack.offer_many(envelopes))     # one transaction per batch
        except ValueError as exc:
            # One malformed envelope refuses the batch before anything is written: offer one by one.
            log.warning("compare batch refused (%s); offering one by one", exc)
            for env in envelopes:
                try:
                    metrics.compared(self.dualtrack.offer(env))
                except ValueError as one:
                    log.warning("not comparable, skipped: %s", one)
        # After the offers: a source taking over as primary waits for its fence to pass, so that
        # everything sent to the comparison before it is in the store (hub/runtime/takeover.py).
        for d in fences:
            self.store.save_checkpoint(fence_key(str(d.headers.get(bus.names.H_FENCE_FOR))), {"fence": d.message_id})
        bus.ack_all(batch)

    def step(self) -> float:
        self.consumer.poll(timeout=0.5)
        if time.monotonic() - self._expired_at > 1.0:
            metrics.compared(self.dualtrack.expire())
            self._expired_at = time.monotonic()
        return 0

    def close(self) -> None:
        self.consumer.cancel()
        self.conn.release()
