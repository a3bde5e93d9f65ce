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


def _tuple(value) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def load_routes(path: str | Path) -> list[Route]:
    with open(path, encoding="utf-8") as fh:
        doc = yaml.safe_load(fh) or {}
    routes = []
    for i, r in enumerate(doc.get("routes") or []):
        try:
            match = r["match"]
            routes.append(Route(name=r.get("name", f"route {i + 1}"), destination=r["destination"],
                                departments=_tuple(match.get("department")), kind=match["kind"],
                                events=_tuple(match.get("event"))))
        except (KeyError, TypeError) as exc:
            raise ValueError(f"{path}: route {i + 1} is missing {exc}") from None
    return routes


def destinations_for(routes: list[Route], department: str, kind: str, event: str) -> list[str]:
    return sorted({r.destination for r in routes if r.matches(department, kind, event)})
