"""All mapping files of a tree, indexed by the legacy system they read.

The tree is the settings' `mappings_dir` plus the `mappings/` folder of every installed adapter
package (an integrator's `tongban-socialsec` ships `tongban_socialsec/mappings/socialsec/*.yaml`).
Packages are found by their `tongban.adapters` entry point without importing them; a department
folder in `mappings_dir` shadows the package's of the same name (an operator's edited copy wins)."""
from __future__ import annotations

import importlib.util
import os
from collections import defaultdict
from importlib.metadata import entry_points
from pathlib import Path

from hub.model import Envelope

from .compiler import Mapping, load_file
from .errors import RecordError

DEFAULT_DIR = Path(os.environ.get("TONGBAN_MAPPINGS_DIR", Path(__file__).resolve().parents[2] / "mappings"))


class MappingSet:
    def __init__(self, mappings: list[Mapping]):
        self.mappings = mappings
        self._by_system: dict[str, list[Mapping]] = defaultdict(list)
        self._by_ref = {m.ref: m for m in mappings}
        for m in mappings:
            self._by_system[m.system].append(m)

    @classmethod
    def load(cls, directory: str | Path | None = None, packages: bool = True) -> "MappingSet":
        root = Path(directory or DEFAULT_DIR)
        files = _files(root)
        if packages:
            mine = {p.parent.name for p in files}
            for extra in package_dirs():
                if extra.resolve() != root.resolve():
                    files += [p for p in _files(extra) if p.parent.name not in mine]
        mappings = [load_file(p) for p in files]
        seen: dict[str, Mapping] = {}
        for m in mappings:
            if m.ref in seen:
                raise ValueError(f"{m.path}: mapping {m.ref} is defined twice (also in {seen[m.ref].path})")
            seen[m.ref] = m
        return cls(mappings)

    def sequence_mode(self, ref: str | None) -> str:
        """How the mapping `ref` (name@version) numbers its steps; "none" for no mapping."""
        m = self._by_ref.get(ref or "")
        return m.sequence if m is not None else "none"

    def versions_mode(self, ref: str | None) -> str:
        """What a new version of a record mapped by `ref` is: a conflict, or an update."""
        m = self._by_ref.get(ref or "")
        return m.versions if m is not None else "conflict"

    def case_no_of(self, system: str, record: dict) -> str | None:
        """The case number of a record that could not be mapped, read the way its system's
        mappings read it (their `case_no` field), those whose condition holds first. Only a
        plausible one: a value too long for the store would make the dead letter unrecordable."""
        if not isinstance(record, dict):
            return None
        mappings = self._by_system.get(system, [])
        for m in sorted(mappings, key=lambda m: not _holds(m, record)):
            if m.case_no_field is None:
                continue
            try:
                value = m.case_no_field(record)
            except Exception:   # a record that broke its mapping may break this too: no case, then
                continue
            if isinstance(value, str) and 0 < len(value) <= 100:
                return value
        return None

    def for_system(self, system: str) -> list[Mapping]:
        found = self._by_system.get(system)
        if not found:
            raise KeyError(f"no mapping reads system {system!r} (known: {', '.join(sorted(self._by_system))})")
        return found

    def apply(self, system: str, record: dict, track: str = "old") -> list[Envelope]:
        """Every mapping of the system whose condition holds, in file order.
        The first failure raises RecordError; the record is then dead-lettered whole,
        so that its messages are never split between delivered and lost."""
        out = []
        trace = None
        mappings = self.for_system(system)
        for m in mappings:
            if m.when(record):
                env = m.run(record, track=track, trace_id=trace)
                trace = env.trace_id  # messages made from one record share a trace
                out.append(env)
        if not out:
            # A record no mapping accepts (an unknown event code, say) is refused, never dropped.
            key = mappings[0].key_of(record) if isinstance(record, dict) else None
            conditions = "; ".join(f"{m.ref}: {m.condition}" for m in mappings)
            paths = sorted({p for m in mappings if m.condition_path for p in m.condition_path.split(",")})
            raise RecordError("map", system, key, [{"record": key, "field": ",".join(paths) or "(record)",
                                                    "value": None,
                                                    "reason": f"no mapping accepts this record ({conditions})"}])
        return out


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.glob("*/*.yaml") if not p.name.startswith("_"))


def package_dirs() -> list[Path]:
    """The mappings/ folder of each installed adapter package that has one."""
    out = []
    for ep in entry_points(group="tongban.adapters"):
        top = ep.value.split(":")[0].split(".")[0]
        try:
            spec = importlib.util.find_spec(top)
        except (ImportError, ValueError):
            continue
        for location in (spec.submodule_search_locations or []) if spec else []:
            folder = Path(location) / "mappings"
            if folder.is_dir() and folder not in out:
                out.append(folder)
    return out


def _holds(mapping: Mapping, record: dict) -> bool:
    try:
        return bool(mapping.when(record))
    except Exception:
        return False


__all__ = ["MappingSet", "RecordError"]
