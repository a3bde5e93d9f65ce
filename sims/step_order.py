"""Legacy systems that write a case's steps out of order: the steps of each case swap
places among themselves in the feed (the slots the case had stay its own), so cases stay
interleaved as before and only the order within each case changes."""
from __future__ import annotations

import random

STEP_ORDERS = ("in_order", "reversed", "shuffled")


def reorder_steps(events: list[dict], order: str, rng: random.Random, case_key: str = "applyNo") -> list[dict]:
    if order == "in_order":
        return events
    slots: dict[str, list[int]] = {}
    for i, e in enumerate(events):
        slots.setdefault(e[case_key], []).append(i)
    out = list(events)
    for where in slots.values():
        steps = [events[i] for i in where]
        if order == "reversed":
            steps.reverse()
        else:
            rng.shuffle(steps)
        for i, e in zip(where, steps):
            out[i] = e
    return out
