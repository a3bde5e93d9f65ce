"""Starting and stopping the simulators as one set.

New simulators join by `register(SimSpec(...))`; a second instance of a system (the
"new" track of a dual-track pair, say) is just another spec with its own name and port.
Installed adapter packages' own simulators join by `register_installed()` (sims/installed.py);
they start only where a port is given for them (`optional`)."""
from __future__ import annotations

import os
import random
from dataclasses import dataclass
from typing import Callable, Mapping

from .base import SimServer


@dataclass(frozen=True)
class SimSpec:
    name: str
    factory: Callable[..., SimServer]  # called as factory(host=, port=, seed=)
    port_env: str
    default_port: int
    optional: bool = False   # started only when asked for by name or given a port


REGISTRY: dict[str, SimSpec] = {}


def register(spec: SimSpec) -> SimSpec:
    REGISTRY[spec.name] = spec
    return spec


def _register_builtin() -> None:
    # Imported here so `import sims.cluster` stays cheap and free of cycles.
    from .commerce import CommerceSim
    from .platform import PlatformSim
    from .province import ProvinceSim

    register(SimSpec("commerce", CommerceSim, "TONGBAN_SIM_COMMERCE_PORT", 18081))
    register(SimSpec("platform", PlatformSim, "TONGBAN_SIM_PLATFORM_PORT", 18082))
    register(SimSpec("province", ProvinceSim, "TONGBAN_SIM_PROVINCE_PORT", 18083))
    from .ndrc import NdrcSim
    register(SimSpec("ndrc", NdrcSim, "TONGBAN_SIM_NDRC_PORT", 18084))
    from .housing import HousingSim; register(SimSpec("housing", HousingSim, "TONGBAN_SIM_HOUSING_PORT", 18085))
    from .land import LandSim
    register(SimSpec("land", LandSim, "TONGBAN_SIM_LAND_PORT", 18086))
    from .commerce import CommerceNewSim
    register(SimSpec("commerce_new", CommerceNewSim, "TONGBAN_SIM_COMMERCE_NEW_PORT", 18091))
    from .ndrc import NdrcNewSim
    register(SimSpec("ndrc_new", NdrcNewSim, "TONGBAN_SIM_NDRC_NEW_PORT", 18092))
    from .housing import HousingNewSim
    register(SimSpec("housing_new", HousingNewSim, "TONGBAN_SIM_HOUSING_NEW_PORT", 18093))
    from .land import LandNewSim
    register(SimSpec("land_new", LandNewSim, "TONGBAN_SIM_LAND_NEW_PORT", 18094))
    from .catalogue import CatalogueSim
    register(SimSpec("catalogue", CatalogueSim, "TONGBAN_SIM_CATALOGUE_PORT", 18087))


_register_builtin()


def register_installed() -> list[str]:
    """Register the simulator of every installed adapter package that declares one, and its new track."""
    from functools import partial
    from .installed import InstalledSim, installed_simulators
    names = installed_simulators()
    for name in names:
        for track, suffix in (("old", ""), ("new", "_new")):
            if name + suffix not in REGISTRY:
                register(SimSpec(name + suffix, partial(InstalledSim, name, track),
                                 f"TONGBAN_SIM_{(name + suffix).upper()}_PORT", 0, optional=True))
    return names


def _given_a_port(spec: SimSpec, ports) -> bool:
    return isinstance(ports, int) or bool(ports and spec.name in ports) or bool(os.environ.get(spec.port_env, "").strip())


class Cluster:
    def __init__(self, servers: dict[str, SimServer]):
        self.servers = servers

    @property
    def urls(self) -> dict[str, str]:
        return {name: server.url for name, server in self.servers.items()}

    @property
    def endpoints(self) -> dict[str, dict]:
        """What a client needs to reach each simulator: {"admin_url": ...} plus, for systems that
        are not reached over HTTP, the adapter settings that point at them (a database URL,
        folders). A simulator says so by defining `endpoints()`."""
        out = {}
        for name, server in self.servers.items():
            extra = server.endpoints() if hasattr(server, "endpoints") else {"url": server.url}
            out[name] = {"admin_url": server.url, **extra}
        return out

    def __getitem__(self, name: str) -> SimServer:
        return self.servers[name]

    def stop(self) -> None:
        for server in reversed(list(self.servers.values())):
            server.stop()

    def __enter__(self) -> "Cluster":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def resolve_port(spec: SimSpec, ports: Mapping[str, int] | int | None) -> int:
    if isinstance(ports, int):
        return ports
    if ports and spec.name in ports:
        return int(ports[spec.name])
    raw = os.environ.get(spec.port_env, "").strip()
    return int(raw) if raw else spec.default_port


def start_all(host: str = "127.0.0.1", ports: Mapping[str, int] | int | None = None,
              names: list[str] | None = None, seed: int | None = None) -> Cluster:
    """Start the named simulators (all registered ones by default).

    ports: a {name: port} mapping, or one int for all (0 = ephemeral, for tests);
    names missing from it take their env variable, then their default port. An optional
    (installed) simulator is started by default only where it is given a port."""
    register_installed()
    wanted = names or [n for n, spec in REGISTRY.items() if not spec.optional or _given_a_port(spec, ports)]
    unknown = [n for n in wanted if n not in REGISTRY]
    if unknown:
        raise KeyError(f"unknown simulators {unknown}; known: {sorted(REGISTRY)}")
    servers: dict[str, SimServer] = {}
    # One seed for the whole set: an old system and its new copy must make the same cases.
    seed = seed if seed is not None else random.randrange(1 << 30)
    try:
        for name in wanted:
            spec = REGISTRY[name]
            servers[name] = spec.factory(host=host, port=resolve_port(spec, ports), seed=seed).start()
    except BaseException:
        Cluster(servers).stop()  # a half-started set must not hold ports
        raise
    return Cluster(servers)
