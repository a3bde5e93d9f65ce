"""Which departments exist: the registered adapters say, each bringing its department's name
and label. Nothing in hub/ lists them, so a fifth system shipped as its own package needs no
edit here. The unified platform's own feed (department "platform") is no department."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from . import registry

PLATFORM = "platform"


@dataclass(frozen=True)
class DepartmentInfo:
    name: str
    zh: str
    en: str
    adapters: tuple[str, ...]

    @property
    def label(self) -> str:
        return " ".join(p for p in (self.zh, self.en) if p) or self.name


def departments() -> dict[str, DepartmentInfo]:
    """name -> DepartmentInfo of every installed adapter's department, sorted by name."""
    return _build(tuple(sorted(registry.available().items())))


@lru_cache(maxsize=8)
def _build(entries: tuple[tuple[str, str], ...]) -> dict[str, DepartmentInfo]:
    # keyed on the entry points, so a package installed after the first call is seen
    found: dict[str, list] = {}
    for name, _target in entries:
        cls = registry.load(name)
        if cls.department == PLATFORM:
            continue
        zh, en = cls.department_label or ("", "")
        entry = found.setdefault(cls.department, [zh, en, []])
        if not (entry[0] or entry[1]):
            entry[0], entry[1] = zh, en
        entry[2].append(name)
    return {d: DepartmentInfo(d, zh, en, tuple(names)) for d, (zh, en, names) in sorted(found.items())}


def names() -> tuple[str, ...]:
    return tuple(departments())


def label(name: str) -> str:
    """"住房和城乡建设局 housing and construction", or the name itself for one nobody labels."""
    info = departments().get(name)
    return info.label if info else name
