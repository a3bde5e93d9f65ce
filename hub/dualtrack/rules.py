"""Comparison rules for one department and kind, compiled once from config/dualtrack.yaml.

A field is named by its dotted path from the envelope with list positions left out
(``payload.materials.name``), so one rule covers every item of a list. Every path in a
rule may be a glob (``payload.attributes.*``)."""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from fnmatch import translate
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# Envelope fields that differ between tracks by construction (ids, lineage, when the hub
# made the message). occurred_at is in the list too: the mapping copies it from the
# payload's own time (compared there), or from produced_at when the payload has none.
DEFAULT_IGNORE = ("message_id", "produced_at", "trace_id", "source.track", "source.system", "record_key",
                  "mapping", "signature", "occurred_at")

RULE_KEYS = ("ignore", "tolerance", "unordered", "normalise", "wall_clock", "critical")
TRACKS = ("old", "new")


class RuleError(ValueError):
    pass


@dataclass(frozen=True)
class Tolerance:
    seconds: float | None = None   # datetimes: largest accepted skew
    epsilon: float | None = None   # numbers (or numeric strings): largest accepted difference


@dataclass(frozen=True)
class WallClock:
    """One track's system writes its times in ``zone`` with no offset; the mapping read
    them as Asia/Shanghai. The comparator reads that track's wall clock in ``zone``."""
    track: str
    zone: ZoneInfo


class PathMap:
    """Field path -> value, exact paths first, then globs; lookups are memoised because
    the comparator asks for the same few paths millions of times."""

    _MEMO_LIMIT = 20_000

    def __init__(self, mapping: dict | None = None):
        mapping = dict(mapping or {})
        self.exact = {k: v for k, v in mapping.items() if not _is_glob(k)}
        self.globs = [(re.compile(translate(k)), v) for k, v in mapping.items() if _is_glob(k)]
        self._memo: dict[str, object] = {}

    def get(self, field: str):
        try:
            return self._memo[field]
        except KeyError:
            pass
        value = self.exact.get(field)
        if value is None:
            value = next((v for rx, v in self.globs if rx.match(field)), None)
        if len(self._memo) > self._MEMO_LIMIT:
            self._memo.clear()
        self._memo[field] = value
        return value

    def __contains__(self, field: str) -> bool:
        return self.get(field) is not None

    def __bool__(self) -> bool:
        return bool(self.exact or self.globs)


class Rules:
    def __init__(self, *, ignore=(), tolerance=None, unordered=None, normalise=None, wall_clock=None, critical=()):
        self.ignore = PathMap({p: True for p in (*DEFAULT_IGNORE, *ignore)})
        self.tolerance = PathMap(tolerance)
        self.unordered = PathMap(unordered)
        self.normalise = PathMap(normalise)
        self.wall_clock = PathMap(wall_clock)
        self.critical = PathMap({p: True for p in critical})
        self.critical_patterns = tuple(critical)

    def ignored(self, field: str) -> bool:
        return self.ignore.get(field) is not None

    def is_critical(self, field: str) -> bool:
        return self.critical.get(field) is not None

    @classmethod
    def from_spec(cls, spec: dict | None, where: str = "rules") -> "Rules":
        """Validate and compile a rule block as written in config/dualtrack.yaml."""
        spec = dict(spec or {})
        _no_unknown(spec, RULE_KEYS, where)
        return cls(
            ignore=_paths(spec.get("ignore"), f"{where}.ignore"),
            critical=_paths(spec.get("critical"), f"{where}.critical"),
            tolerance={p: _tolerance(v, f"{where}.tolerance.{p}") for p, v in _map(spec, "tolerance", where)},
            unordered={p: _text(v, f"{where}.unordered.{p}") for p, v in _map(spec, "unordered", where)},
            normalise={p: _value_map(v, f"{where}.normalise.{p}") for p, v in _map(spec, "normalise", where)},
            wall_clock={p: _wall_clock(v, f"{where}.wall_clock.{p}") for p, v in _map(spec, "wall_clock", where)},
        )



def _is_glob(path: str) -> bool:
    return any(ch in path for ch in "*?[")


def _no_unknown(spec: dict, allowed, where: str) -> None:
    for key in spec:
        if key not in allowed:
            near = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f"; did you mean {near[0]!r}?" if near else f" (known: {', '.join(allowed)})"
            raise RuleError(f"{where}: unknown key {key!r}{hint}")


def _paths(value, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):   # an environment variable can only give a string: "a,b"
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise RuleError(f"{where}: expected a list of field paths, got {value!r}")
    return tuple(value)


def _map(spec: dict, key: str, where: str):
    value = spec.get(key) or {}
    if not isinstance(value, dict):
        raise RuleError(f"{where}.{key}: expected a mapping of field path -> setting, got {value!r}")
    return value.items()


def _text(value, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise RuleError(f"{where}: expected the name of the key field, got {value!r}")
    return value


def _number(value, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise RuleError(f"{where}: expected a number >= 0, got {value!r}")
    return float(value)


def _tolerance(value, where: str) -> Tolerance:
    if not isinstance(value, dict) or len(value) != 1 or not {"seconds", "epsilon"} >= value.keys():
        raise RuleError(f"{where}: expected {{seconds: N}} (datetimes) or {{epsilon: X}} (numbers), got {value!r}")
    key, number = next(iter(value.items()))
    return Tolerance(**{key: _number(number, f"{where}.{key}")})


def _value_map(value, where: str) -> dict:
    if not isinstance(value, dict) or not value:
        raise RuleError(f"{where}: expected a mapping of value -> canonical value, got {value!r}")
    return dict(value)


def _wall_clock(value, where: str) -> WallClock:
    if not isinstance(value, dict):
        raise RuleError(f"{where}: expected {{track: old|new, zone: UTC}}, got {value!r}")
    _no_unknown(value, ("track", "zone"), where)
    track = value.get("track")
    if track not in TRACKS:
        raise RuleError(f"{where}.track: expected old or new, got {track!r}")
    try:
        zone = ZoneInfo(str(value.get("zone", "UTC")))
    except (ZoneInfoNotFoundError, ValueError):
        raise RuleError(f"{where}.zone: unknown time zone {value.get('zone')!r}") from None
    return WallClock(track, zone)


DEFAULT_RULES = Rules()
