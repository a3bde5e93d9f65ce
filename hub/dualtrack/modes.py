"""Each department's mode and primary track, and the audited changes to it.

The running hub asks ``current_mode`` / ``primary_track`` for every message it routes
(invariant 6: only the primary track's output goes onward). A mode set by cutover,
rollback or ``tongban dualtrack mode`` is kept in the store and wins over the file, and
each process rereads the store every ``refresh_seconds``: a change made by the CLI
reaches a running hub within that time, with no restart."""
from __future__ import annotations

import threading
import time
import weakref
from datetime import datetime

from .config import MODES, PRIMARY, READ, load_config
from .readiness import Readiness, readiness


class NotReady(ValueError):
    def __init__(self, result: Readiness):
        self.readiness = result
        super().__init__(f"{result.department} is not ready for cutover: " + "; ".join(result.reasons))


_cache: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()   # store -> (expires, {dept: row})
_lock = threading.Lock()


def _stored(store, settings: dict, fresh: bool) -> dict[str, dict]:
    now = time.monotonic()
    with _lock:
        hit = _cache.get(store)
    if hit is not None and not fresh and hit[0] > now:
        return hit[1]
    rows = store.dualtrack_stored_modes()
    with _lock:
        _cache[store] = (now + load_config(settings).refresh_seconds, rows)
    return rows


def mode_info(store, settings: dict, department: str, *, fresh: bool = False) -> dict:
    """The mode and where it comes from: {mode, source: store|config, config_mode,
    actor, reason, changed_at} (the last three only when the store set it)."""
    config_mode = load_config(settings).department(department).mode
    row = _stored(store, settings, fresh).get(department)
    if row is None:
        return {"mode": config_mode, "source": "config", "config_mode": config_mode}
    return {"mode": row["mode"], "source": "store", "config_mode": config_mode, "actor": row["actor"],
            "reason": row["reason"], "changed_at": row["changed_at"]}


def current_mode(store, settings: dict, department: str, *, fresh: bool = False) -> str:
    return mode_info(store, settings, department, fresh=fresh)["mode"]


def primary_track(store, settings: dict, department: str, *, fresh: bool = False) -> str:
    """"old" or "new": the only track whose messages are routed to destinations."""
    return PRIMARY[current_mode(store, settings, department, fresh=fresh)]


def read_tracks(store, settings: dict, department: str) -> tuple[str, ...]:
    """The tracks whose sources run in this mode."""
    return READ[current_mode(store, settings, department)]


def is_primary(store, settings: dict, department: str, track: str) -> bool:
    return primary_track(store, settings, department) == track


def compared(store, settings: dict, department: str) -> bool:
    """Whether both tracks are read and sent to the comparison (shadow, cutover)."""
    return current_mode(store, settings, department) in ("shadow", "cutover")


def cutover(store, settings: dict, department: str, *, actor: str, reason: str, force: bool = False,
            now: datetime | None = None) -> dict:
    """Make the new track primary. Refuses (NotReady) unless the department is ready, or
    ``force`` is given; either way the figures of the moment are recorded."""
    current = current_mode(store, settings, department, fresh=True)
    if current in ("cutover", "retired"):
        raise ValueError(f"{department} is already cut over (mode {current})")
    result = readiness(store, settings, department, now)
    if current == "off" and not force:
        raise ValueError(f"{department} is in mode off: nothing was compared; start with "
                         f"`tongban dualtrack mode {department} shadow`, or --force")
    if not result.ready and not force:
        raise NotReady(result)
    return _change(store, department, "cutover", current, "cutover", actor, reason, force and not result.ready,
                   result)


def rollback(store, settings: dict, department: str, *, actor: str, reason: str,
             now: datetime | None = None) -> dict:
    """Make the old track primary again (mode shadow: both still compared)."""
    current = current_mode(store, settings, department, fresh=True)
    if current not in ("cutover", "retired"):
        raise ValueError(f"{department} is in mode {current}: the old track is already primary")
    return _change(store, department, "rollback", current, "shadow", actor, reason, False,
                   readiness(store, settings, department, now))


def set_mode(store, settings: dict, department: str, mode: str, *, actor: str, reason: str,
             now: datetime | None = None) -> dict:
    """Any other change: start or stop comparing (off <-> shadow), retire the old track
    after a cutover. Cutover and rollback have their own checks, so not through here."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    current = current_mode(store, settings, department, fresh=True)
    if mode == "cutover" or (current in ("cutover", "retired") and mode in ("off", "shadow")):
        raise ValueError(f"{department}: {current} -> {mode} goes through `tongban dualtrack "
                         f"{'cutover' if mode == 'cutover' else 'rollback'}`")
    if mode == "retired" and current != "cutover":
        raise ValueError(f"{department}: only a department in cutover can retire its old track (now {current})")
    if mode == current:
        raise ValueError(f"{department} is already in mode {mode}")
    return _change(store, department, "mode", current, mode, actor, reason, False,
                   readiness(store, settings, department, now))


def _change(store, department, action, current, target, actor, reason, forced, result: Readiness) -> dict:
    figures = {"ready": result.ready, "reasons": result.reasons, **result.figures}
    store.change_dualtrack_mode(department=department, action=action, from_mode=current, to_mode=target,
                                actor=actor, reason=reason, forced=forced, figures=figures)
    with _lock:
        _cache.pop(store, None)   # this process sees its own change at once
    return {"department": department, "action": action, "from": current, "to": target, "forced": forced,
            "figures": figures}
