"""The built-in simulators as the conformance kit drives them (hub.adapter.simulator.Simulator):
each adapter in adapters/ names its simulator here, by its name in the registry.

Records are counted by the simulator's own /_admin/events listing, not by reading the feed, so
a source that loses records is caught. Which stage each kind of bad record dies at is what the
hub's mappings and model say of it; the tables below are that knowledge, checked by
tests/kit/test_conformance_builtin.py."""
from __future__ import annotations

from collections import Counter

import requests

from hub.adapter.simulator import Simulator

from .cluster import REGISTRY

# what the first bad case of each simulator leaves to be dead-lettered, given its record count
BAD = {
    "commerce": lambda n: Counter(validate=n),   # a credit code with a wrong check character, on each event
    "ndrc": lambda n: Counter(validate=n),       # the same, in the project's JSON
    # the unit row with that credit code is refused when read (records.precheck), its case's steps on mapping
    "housing": lambda n: Counter(decode=1, validate=n - 1),
    "land": lambda n: Counter(map=n),            # a parcel code (ZDDM) out of its format
}


class BuiltinSimulator(Simulator):
    def __init__(self, name: str, seed: int = 7):
        self.name, self.seed, self.server = name, seed, None

    def start(self) -> dict:
        self.server = REGISTRY[self.name].factory(host="127.0.0.1", port=0, seed=self.seed).start()
        found = self.server.endpoints() if hasattr(self.server, "endpoints") else {"url": self.server.url}
        return dict(found)

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    def _admin(self, path: str) -> dict:
        resp = requests.get(self.server.url + path, timeout=10)
        resp.raise_for_status()
        return resp.json()

    def _events(self) -> int:
        return int(self._admin("/_admin/events")["count"])

    def load(self, cases: int) -> int:
        before = self._events()
        self.server.load(cases, 0)
        return self._events() - before

    def load_bad(self) -> Counter:
        before = self._events()
        self.server.load(0, 1)
        return BAD[self.name](self._events() - before)

    def applications(self) -> list[dict]:
        return list(self._admin("/_admin/applications")["items"])

    def touch(self) -> str | None:
        """commerce: the first event corrected, as its feed shows a correction: the row moves to the
        feed's end with a new updatedAt. The other simulators never change a row they served
        (housing and land correct by new rows, which are new records)."""
        if self.name != "commerce":
            return None
        s = self.server
        with s.lock:
            event = s.events.pop(0)
            s.keys.pop(0)
            s.visible_at.pop(0)
            stamp = s._stamp()
            event["opinion"] = f"{event.get('opinion') or ''}（更正）"
            event["updatedAt"] = stamp.isoformat(timespec="microseconds")
            s.events.append(event)
            s.keys.append((stamp, event["eventId"]))
            s.visible_at.append(stamp)
        return str(event["eventId"])


class PlatformFeedSimulator(BuiltinSimulator):
    """The unified platform's application feed: its records are applications submitted online."""

    def __init__(self, seed: int = 7):
        super().__init__("platform", seed)

    def _events(self) -> int:
        return int(self._admin("/_admin/applications")["count"])

    def load(self, cases: int) -> int:
        with self.server.lock:
            self.server.desk.generate(cases)
        return cases

    def load_bad(self) -> Counter:
        with self.server.lock:
            made = self.server.desk.generate(1)[0]
            made["certType"], made["certNo"] = "111", "33010619900307123X"   # a resident ID whose check digit is wrong
        return Counter(validate=1)
