"""Routes from config/routes.yaml: which canonical kinds go to which destination.

Routes compile to topic patterns (the broker does the routing) and can also be
evaluated in process, which `tongban verify` uses to know what each destination
should have received."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml


@dataclass(frozen=True)
class Route:
    name: str
    destination: str
    departments: tuple[str, ...]   # empty: any
    kind: str
    events: tuple[str, ...]        # empty: any

    def patterns(self) -> list[str]:
        return [f"{d}.{self.kind}.{e}" for d in (self.departments or ("*",)) for e in (self.events or ("*",))]

    def matches(self, department: str, kind: str, event: str) -> bool:
        return (kind == self.kind and (not self.departments or department in self.departments)
                and (not self.events or event in self.events))


_ROUTE_KEYS = {"name", "destination", "match"}
_MATCH_KEYS = {"department", "kind", "event"}


def _tuple(value, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ValueError(f"{where} must be a string or a list of strings")


def load_routes(path: str | Path) -> list[Route]:
    with open(path, encoding="utf-8") as fh:
        doc = yaml.safe_load(fh)
    if doc is None or doc == {"routes": None}:
        return []   # an empty file routes nothing; every message then goes to tongban.unrouted
    if not isinstance(doc, dict) or not isinstance(doc.get("routes"), list):
        raise ValueError(f"{path}: expected a top-level 'routes:' list")
    routes = []
    for i, r in enumerate(doc["routes"], start=1):
        where = f"{path}: route {i}"
        if not isinstance(r, dict):
            raise ValueError(f"{where} must be a mapping with destination and match")
        # An unknown key is an error, not ignored: a typo like `events:` would route everything.
        unknown = set(r) - _ROUTE_KEYS
        if unknown:
            raise ValueError(f"{where}: unknown key(s) {sorted(unknown)} (known: {sorted(_ROUTE_KEYS)})")
        match = r.get("match")
        if not isinstance(match, dict):
            raise ValueError(f"{where}: 'match' must be a mapping with at least 'kind'")
        unknown = set(match) - _MATCH_KEYS
        if unknown:
            raise ValueError(f"{where}: unknown match key(s) {sorted(unknown)} (known: {sorted(_MATCH_KEYS)})")
        for key in ("destination",):
            if not isinstance(r.get(key), str):
                raise ValueError(f"{where}: '{key}' is missing")
        if not isinstance(match.get("kind"), str):
            raise ValueError(f"{where}: match.kind is missing")
        routes.append(Route(name=r.get("name", f"route {i}"), destination=r["destination"],
                            departments=_tuple(match.get("department"), f"{where}: match.department"),
                            kind=match["kind"], events=_tuple(match.get("event"), f"{where}: match.event")))
    return routes


def destinations_for(routes: list[Route], department: str, kind: str, event: str) -> list[str]:
    return sorted({r.destination for r in routes if r.matches(department, kind, event)})
