"""The simulators that installed adapter packages bring (``Adapter.simulator()``, a
hub.adapter.Simulator), run by the cluster beside the built-in ones: an integrator's package
scaffolded with `tongban adapters new` joins `tongban sims up` without an edit here.

Each installed adapter NAME with a simulator is registered twice, NAME and NAME_new (its "new"
track, the department's second instance). Being installed is not enough to start: like any
simulator the cluster runs, it needs a port, given by the settings' ``sims.<name>_port`` (which
`tongban sims up` passes as TONGBAN_SIM_<NAME>_PORT), by name (``python -m sims --only NAME``), or
by a test asking for free ports. A simulator with a fixed port keeps its database or folders in
TONGBAN_SIM_<NAME>_HOME, else var/sims/<name>, so a hub in another process finds them; one on a
free port uses a temporary folder."""
from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger("tongban.sims")
ROOT = Path(__file__).resolve().parents[1]


class InstalledSim:
    """One installed simulator as the cluster runs a SimServer: start(), stop(), url (where its
    admin routes answer: /_admin/health, /_admin/events, /_admin/load ...), endpoints() (the adapter
    settings that reach it)."""

    def __init__(self, adapter: str, track: str = "old", host: str = "127.0.0.1", port: int = 0,
                 seed: int | None = None):
        from hub.adapter import registry
        self.adapter, self.name = adapter, adapter if track == "old" else f"{adapter}_{track}"
        self.sim = registry.load(adapter).simulator()
        self.sim.host, self.sim.port, self.sim.track = host, port, track
        home = os.environ.get(f"TONGBAN_SIM_{self.name.upper()}_HOME", "").strip()
        self.sim.home = home or (str(ROOT / "var" / "sims" / self.name) if port else None)
        self.settings: dict | None = None

    def start(self) -> "InstalledSim":
        self.settings = dict(self.sim.start())
        return self

    def stop(self) -> None:
        if self.settings is not None:
            self.sim.stop()
            self.settings = None

    @property
    def url(self) -> str:
        return self.sim.admin_url

    def endpoints(self) -> dict:
        return dict(self.settings or {})

    def load(self, cases: int, bad: int = 0) -> dict:
        made = self.sim.load(cases) if cases else 0
        for _ in range(bad):
            self.sim.load_bad()
        return {"created": cases, "records": made, "bad": bad}


def installed_simulators() -> list[str]:
    """Installed adapters (not the hub's own) that declare a simulator; a package that does not
    import is left out with a warning, so one broken package does not stop the others'."""
    from hub.adapter import Adapter, registry
    names = []
    for name, target in sorted(registry.available().items()):
        if target.startswith("adapters."):   # the hub's own: their simulators are the built-in ones
            continue
        try:
            cls = registry.load(name)
        except Exception as exc:   # noqa: BLE001 - a broken package must not take the cluster down
            log.warning("adapter %s (%s) does not import, its simulator is not started: %s: %s",
                        name, target, type(exc).__name__, exc)
            continue
        if getattr(cls.simulator, "__func__", None) is not Adapter.simulator.__func__:
            names.append(name)
    return names
