"""Which track a source publishes where, by the department's dual-track mode.

Invariant 6 (shadow never leaks) is decided here and nowhere else: only the primary
track's messages go to tongban.events (and so to destinations); in the comparing modes
both tracks also go to tongban.compare, and a track that the mode leaves out is not
read at all."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from hub.adapter import registry

MODES = ("off", "shadow", "cutover", "retired")


@dataclass(frozen=True)
class TrackPolicy:
    active: bool       # read this track's system at all
    to_events: bool    # route onward to destinations (primary only)
    to_compare: bool   # copy to the comparator


_POLICY = {
    ("off", "old"): TrackPolicy(True, True, False),
    ("off", "new"): TrackPolicy(False, False, False),
    ("shadow", "old"): TrackPolicy(True, True, True),
    ("shadow", "new"): TrackPolicy(True, False, True),
    ("cutover", "old"): TrackPolicy(True, False, True),
    ("cutover", "new"): TrackPolicy(True, True, True),
    ("retired", "old"): TrackPolicy(False, False, False),
    ("retired", "new"): TrackPolicy(True, True, False),
}


def policy(mode: str, track: str) -> TrackPolicy:
    try:
        return _POLICY[(mode, track)]
    except KeyError:
        raise ValueError(f"unknown dual-track mode {mode!r} or track {track!r} (modes: {', '.join(MODES)})") from None


def new_track_overrides(settings: dict, name: str) -> dict | None:
    """adapters.<name>.tracks.new of an enabled adapter: where its department's cloud copy is."""
    conf = (settings.get("adapters") or {}).get(name) or {}
    if not conf.get("enabled", True):
        return None
    return (conf.get("tracks") or {}).get("new") or None


def twin_departments(settings: dict) -> frozenset[str]:
    """The departments read on two tracks (an adapter's department, which its name need not be)."""
    return frozenset(registry.load(n).department for n in (settings.get("adapters") or {})
                     if new_track_overrides(settings, n))


def primary(mode: str) -> str:
    return "new" if mode in ("cutover", "retired") else "old"


class ModeCache:
    """The current mode of each department, re-read every few seconds, so a cutover or a
    rollback recorded in the store takes effect in a running hub without a restart."""

    def __init__(self, lookup, ttl: float = 2.0):
        self.lookup = lookup          # department -> mode
        self.ttl = ttl
        self._cache: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()

    def __call__(self, department: str) -> str:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(department)
            if hit and now - hit[0] < self.ttl:
                return hit[1]
        mode = self.lookup(department)
        with self._lock:
            self._cache[department] = (now, mode)
        return mode


class TrackSink:
    """A department sink that sends only while its track takes part in the current mode:
    the write mirror of the comparing modes sends each application to both tracks; in
    "off" the new system gets nothing, once "retired" the old one gets nothing."""

    def __init__(self, sink, department: str, track: str, mode_of):
        self.sink, self.department, self.track, self.mode_of = sink, department, track, mode_of
        self.name = sink.name

    def send(self, body: bytes, meta) -> str:
        if not policy(self.mode_of(self.department), self.track).active:
            return "skipped"
        return self.sink.send(body, meta)

    def close(self) -> None:
        self.sink.close()
