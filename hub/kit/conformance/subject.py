"""What a conformance check works on: the adapter class, its simulator started afresh for each
check, and the mappings that read its system. A check raises Failed(reason) when the adapter
breaks its contract; anything else it raises is reported as a failure too, with its type."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from hub.adapter import registry
from hub.adapter.settings import adapter_conf
from hub.mapping import MappingSet


class Failed(AssertionError):
    """The check's verdict: the adapter broke the contract, as the reason says."""


@dataclass
class Live:
    """One started simulator and an adapter configured to reach it."""
    sim: object
    config: dict
    subject: "Subject"

    def adapter(self):
        """A fresh adapter instance: what a restarted hub builds."""
        return self.subject.cls({**self.config, **self.subject.overrides})

    def source(self):
        return self.adapter().source()


class Subject:
    def __init__(self, name_or_cls, *, broker_url: str | None = None, mappings_dir: str | Path | None = None,
                 cases: int = 3, page_budget: float = 5.0, overrides: dict | None = None):
        self.cls = registry.load(name_or_cls) if isinstance(name_or_cls, str) else name_or_cls
        self.name = self.cls.name
        self.broker_url = broker_url
        self.cases = cases                   # cases loaded per check: small pages, quick runs
        self.page_budget = page_budget       # seconds one page of page_size may take
        self.overrides = adapter_conf(overrides or {})
        self.hub_mappings = Path(mappings_dir) if mappings_dir else None
        self._mappings: MappingSet | None = None

    @property
    def mappings(self) -> MappingSet:
        """The hub's mappings and those the adapter's package brings (Adapter.mappings_dir)."""
        if self._mappings is None:
            found = list(MappingSet.load(self.hub_mappings).mappings)
            if self.cls.mappings_dir:
                # the hub's set holds an installed package's mappings already; a class handed in
                # directly (not installed) brings its own
                have = {m.ref for m in found}
                found += [m for m in MappingSet.load(self.cls.mappings_dir).mappings if m.ref not in have]
            self._mappings = MappingSet(found)
        return self._mappings

    def mappings_for_system(self) -> list:
        return [m for m in self.mappings.mappings if m.system == self.cls.system]

    def simulator(self):
        sim = self.cls.simulator()
        if sim is None:
            raise Failed(f"adapter {self.name} names no simulator (Adapter.simulator() returned None): "
                         "the suite has nothing to run it against")
        return sim

    @contextmanager
    def live(self):
        sim = self.simulator()
        config = sim.start()
        try:
            yield Live(sim, config, self)
        finally:
            sim.stop()

    def ids(self, record) -> list[str]:
        """The message ids the hub makes of a record; [] for one it would dead-letter."""
        if record.error is not None:
            return []
        try:
            return [str(e.message_id) for e in self.mappings.apply(self.cls.system, record.data)]
        except Exception:   # refused by a mapping: no message, so no id (the bad-input check looks at those)
            return []
