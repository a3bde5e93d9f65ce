"""Adapters register through the entry-point group `tongban.adapters`, loaded lazily,
so an integrator can ship one as its own package. Unknown names get a "did you mean"."""
from __future__ import annotations

import difflib
from importlib.metadata import entry_points

GROUP = "tongban.adapters"


class UnknownAdapter(KeyError):
    def __str__(self) -> str:   # KeyError's own str() is the repr of its argument, quotes and all
        return str(self.args[0])


def available() -> dict[str, str]:
    return {ep.name: ep.value for ep in entry_points(group=GROUP)}


def unknown(name: str, known) -> str:
    close = difflib.get_close_matches(str(name), list(known), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"no adapter named {name!r} is installed (known: {', '.join(sorted(known)) or 'none'}){hint}"


def load(name: str):
    eps = {ep.name: ep for ep in entry_points(group=GROUP)}
    if name not in eps:
        raise UnknownAdapter(unknown(name, eps))
    return eps[name].load()


def create(name: str, config: dict):
    return load(name)(config)
