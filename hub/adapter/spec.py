"""Self-describing adapter configuration (after Redpanda Connect's component specs).

Each adapter declares its fields once; validation at start-up, `tongban adapters describe`,
the adapter catalogue and the scaffold's docs all come from that one declaration.

Values arrive as YAML scalars or as environment overrides (always text), so each is parsed
by its declared type rather than passed through the type's constructor: bool("false") is
True, int("1.5") an exception, str(["a"]) a list's repr. An error names the adapter, the
field (dotted for nested, indexed for lists) and the value, never a secret's value."""
from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass, field
from typing import Any

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}
_INT = re.compile(r"^[+-]?\d[\d_]*$")
_TYPE_WORDS = {str: "text", int: "a whole number", float: "a number", bool: "true or false",
               list: "a list", dict: "a mapping of settings"}


@dataclass(frozen=True)
class Field:
    name: str
    description: str
    type: type = str                 # str, int, float, bool, list (of `item`) or dict (of `fields`)
    default: Any = None
    required: bool = False
    secret: bool = False             # never printed: not in errors, describe() or logs
    example: Any = None
    choices: tuple = ()              # an enum: the value must be one of these
    item: type = str                 # a list's element type
    fields: tuple["Field", ...] = ()  # a dict's own fields (a nested spec)

    @property
    def type_name(self) -> str:
        if self.type is list:
            return f"list[{self.item.__name__}]"
        return self.type.__name__


class ConfigError(ValueError):
    """Every problem of one adapter's settings at once, so that one start-up shows them all."""

    def __init__(self, adapter: str, problems: list[str]):
        self.adapter, self.problems = adapter, problems
        super().__init__(f"adapter {adapter}: " + "; ".join(problems))


# Settings every adapter has because the hub, not the adapter, acts on them (the source loop's
# page size and pause, the record-size guard, the patience with an unreadable page). An adapter
# does not redeclare them; one that needs another default declares a Field of the same name.
HUB_FIELDS = (
    Field("page_size", "records asked for per fetch", type=int, default=200, example=200),
    Field("poll_interval", "seconds between polls when the feed is drained", type=float, default=1.0, example=1.0),
    Field("max_record_bytes", "a record larger than this (as JSON, UTF-8) is dead-lettered at stage decode",
          type=int, default=65536, example=65536),
    Field("unreadable_attempts", "polls that must find the same unreadable page of one at a cursor before it "
          "is dead-lettered at stage fetch", type=int, default=3, example=3),
)


def _shown(f: Field, value: Any) -> str:
    return "a value that is not shown (secret)" if f.secret else repr(value)


def _did_you_mean(word: str, known) -> str:
    near = difflib.get_close_matches(str(word), [str(k) for k in known], n=1, cutoff=0.6)
    return f"; did you mean {near[0]!r}?" if near else ""


def _scalar(f: Field, kind: type, value: Any, where: str) -> Any:
    """value parsed as `kind`; raises ValueError with the reason."""
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
    elif kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and _INT.match(value.strip()):
            return int(value.strip().replace("_", ""))
    elif kind is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
        if isinstance(value, str):
            try:
                parsed = float(value.strip())
            except ValueError:
                parsed = math.nan
            if math.isfinite(parsed):
                return parsed
    elif kind is str:
        if isinstance(value, str):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):   # YAML's unquoted 8080
            return str(value)
    else:
        raise TypeError(f"setting {where}: unsupported field type {kind!r}")
    raise ValueError(f"setting {where} must be {_TYPE_WORDS[kind]} ({kind.__name__}), got {_shown(f, value)}")


def _value(f: Field, value: Any, where: str, problems: list[str]) -> Any:
    if f.type is dict:
        if not isinstance(value, dict):
            problems.append(f"setting {where} must be a mapping of settings, got {_shown(f, value)}")
            return None
        return _resolve(f.fields, value, where + ".", problems)
    if f.type is list:
        if isinstance(value, str):   # an environment override: comma-separated
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, (list, tuple)):
            problems.append(f"setting {where} must be a list, got {_shown(f, value)}")
            return None
        out = []
        for i, v in enumerate(value):
            try:
                out.append(_scalar(f, f.item, v, f"{where}[{i}]"))
            except ValueError as exc:
                problems.append(str(exc))
        return out
    try:
        parsed = _scalar(f, f.type, value, where)
    except ValueError as exc:
        problems.append(str(exc))
        return None
    if f.choices and parsed not in f.choices:
        hint = "" if f.secret else _did_you_mean(parsed, f.choices)
        problems.append(f"setting {where} must be one of {', '.join(map(str, f.choices))}, "
                        f"got {_shown(f, parsed)}{hint}")
    return parsed


def _resolve(fields: tuple[Field, ...], given: dict, prefix: str, problems: list[str],
             ignore: tuple[str, ...] = ()) -> dict:
    known = {f.name: f for f in fields}
    for key in sorted(set(given) - set(known) - set(ignore), key=str):
        problems.append(f"unknown setting {prefix}{key}{_did_you_mean(key, known)} "
                        f"(known: {', '.join(sorted(known)) or 'none'})")
    out = {}
    for f in fields:
        where = prefix + f.name
        if given.get(f.name) is not None:
            out[f.name] = _value(f, given[f.name], where, problems)
        elif f.required:
            example = "" if f.example is None or f.secret else f"; example: {f.example!r}"
            problems.append(f"setting {where} is required ({f.description}){example}")
        elif f.type is dict:
            out[f.name] = _resolve(f.fields, {}, where + ".", problems)
        else:
            out[f.name] = list(f.default) if isinstance(f.default, (list, tuple)) else f.default
    return out


@dataclass(frozen=True)
class ConfigSpec:
    fields: tuple[Field, ...] = field(default_factory=tuple)

    def all_fields(self) -> tuple[Field, ...]:
        """The adapter's own fields, then the hub's it does not redeclare."""
        own = {f.name for f in self.fields}
        return self.fields + tuple(f for f in HUB_FIELDS if f.name not in own)

    def resolve(self, adapter: str, given: dict) -> dict:
        """Defaults filled, values parsed by type; raises ConfigError naming every problem."""
        if not isinstance(given, dict):
            raise ConfigError(adapter, [f"settings must be a mapping, got {type(given).__name__}"])
        problems: list[str] = []
        out = _resolve(self.all_fields(), given, "", problems, ignore=("enabled",))
        if problems:
            raise ConfigError(adapter, problems)
        return out

    def masked(self, config: dict) -> dict:
        """A resolved config fit to print or log: secrets replaced."""
        return _mask(self.all_fields(), config)

    def describe(self) -> list[dict]:
        return [_describe(f) for f in self.all_fields()]


def _mask(fields: tuple[Field, ...], config: dict) -> dict:
    out = dict(config)
    for f in fields:
        if f.name not in out or out[f.name] is None:
            continue
        if f.secret:
            out[f.name] = "***"
        elif f.type is dict and isinstance(out[f.name], dict):
            out[f.name] = _mask(f.fields, out[f.name])
    return out


def _describe(f: Field) -> dict:
    d = {"name": f.name, "type": f.type_name, "default": "***" if f.secret and f.default is not None else f.default,
         "required": f.required, "secret": f.secret, "example": f.example, "description": f.description,
         "hub": f in HUB_FIELDS}
    if f.choices:
        d["choices"] = list(f.choices)
    if f.fields:
        d["fields"] = [_describe(x) for x in f.fields]
    return d
