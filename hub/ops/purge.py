"""Purging dead letters: they stay in the store, marked purged (who and why in the audit
trail), and a case that waited for a purged record goes on without it."""
from __future__ import annotations

from .replay import release_gates


def purge(settings: dict, store, ids: list[str], *, actor: str, reason: str) -> dict:
    if not reason or not reason.strip():
        raise ValueError("a purge needs a reason")
    n = store.mark_dead_letters(ids, "purged", actor, reason)
    released = release_gates(settings, store, ids, None, actor, reason)
    return {"purged": n, "released": released}
