"""The catalogue check applied after mapping.

The provincial catalogue is the authority on which items exist; a case naming an item
it does not list is dead-lettered (stage validate) with the code in the reason, so the
operator can sync the catalogue (`tongban catalog sync`, hub/ops/catalog.py) and replay."""
from __future__ import annotations

import logging
import threading
import time

from hub.mapping import RecordError

log = logging.getLogger("tongban.catalog")


class CatalogueCheck:
    """Refuses envelopes whose item_code the synchronised catalogue does not list.
    Until a catalogue has been synchronised there is nothing to check against, and
    nothing is refused (a warning says so once)."""

    def __init__(self, store, refresh_seconds: float = 30.0):
        self.store = store
        self.refresh_seconds = refresh_seconds
        self._codes: set[str] = set()
        self._loaded_at = 0.0
        self._lock = threading.Lock()
        self._warned = False

    def codes(self) -> set[str]:
        with self._lock:
            if time.monotonic() - self._loaded_at > self.refresh_seconds:
                self._codes = self.store.catalogue_codes()
                self._loaded_at = time.monotonic()
            return self._codes

    def __call__(self, env) -> None:
        code = getattr(env.payload, "item_code", None)
        if code is None:
            return
        codes = self.codes()
        if not codes:
            if not self._warned:
                log.warning("the item catalogue is empty: run `tongban catalog sync`; items are not checked")
                self._warned = True
            return
        if code not in codes:
            raise RecordError("validate", env.mapping, env.record_key, [{
                "record": env.record_key, "field": "payload.item_code",
                "reason": f"item {code} is not in the provincial catalogue", "value": code}])
