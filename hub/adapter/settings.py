"""The `adapters:` section of the hub's settings, checked as a whole before anything starts:
every adapter named must be installed, and its settings (and its new track's) must fit its spec.
All problems are reported at once, so a start-up shows everything to fix, not the first."""
from __future__ import annotations

from . import registry
from .spec import ConfigError

# Keys under adapters.<name> that the hub reads and the adapter never sees
SETTINGS_KEYS = ("enabled", "admin_url", "tracks")


class SettingsError(ValueError):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("adapter settings are not valid:\n  " + "\n  ".join(problems))


def adapter_conf(conf: dict) -> dict:
    return {k: v for k, v in (conf or {}).items() if k not in SETTINGS_KEYS}


def validate(settings: dict) -> dict[str, dict]:
    """name -> resolved config of each enabled adapter; raises SettingsError listing every problem."""
    section = settings.get("adapters") or {}
    installed = registry.available()
    problems, out = [], {}
    for name, conf in section.items():
        if not isinstance(conf, dict):
            problems.append(f"adapters.{name}: expected a mapping of settings, got {type(conf).__name__}")
            continue
        if not conf.get("enabled", True):
            continue
        if name not in installed:
            problems.append(f"adapters.{name}: {registry.unknown(name, installed)}")
            continue
        cls = registry.load(name)
        try:
            out[name] = cls.spec.resolve(name, adapter_conf(conf))
        except ConfigError as exc:
            problems.extend(f"adapters.{name}: {p}" for p in exc.problems)
        new = (conf.get("tracks") or {}).get("new")
        if isinstance(new, dict) and new:
            try:
                cls.spec.resolve(f"{name} (new track)", {**adapter_conf(conf), **adapter_conf(new)})
            except ConfigError as exc:
                problems.extend(f"adapters.{name}.tracks.new: {p}" for p in exc.problems)
    if problems:
        raise SettingsError(problems)
    return out
