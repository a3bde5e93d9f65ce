"""Adapters register through the entry-point group `tongban.adapters`, loaded lazily,
so an integrator can ship one as its own package. Unknown names get a "did you mean"."""
from __future__ import annotations

import difflib
from importlib.metadata import entry_points

GROUP = "tongban.adapters"


def available() -> dict[str, str]:
    return {ep.name: ep.value for ep in entry_points(group=GROUP)}


def load(name: str):
    eps = {ep.name: ep for ep in entry_points(group=GROUP)}
    if name not in eps:
        close = difflib.get_close_matches(name, eps, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise KeyError(f"no adapter named {name!r} is installed (known: {', '.join(sorted(eps)) or 'none'}){hint}")
    return eps[name].load()


def create(name: str, config: dict):
    return load(name)(config)
