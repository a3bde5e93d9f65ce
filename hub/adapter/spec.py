"""Self-describing adapter configuration (after Redpanda Connect's component specs).

Each adapter declares its fields once; validation, defaults, `tongban adapters describe`
and the docs all come from that one declaration."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Field:
    name: str
    description: str
    type: type = str
    default: Any = None
    required: bool = False
    secret: bool = False
    example: Any = None


@dataclass(frozen=True)
class ConfigSpec:
    fields: tuple[Field, ...] = field(default_factory=tuple)

    def resolve(self, adapter: str, given: dict) -> dict:
        """Defaults filled, types coerced, unknown or missing fields named in the error."""
        known = {f.name: f for f in self.fields}
        unknown = set(given) - set(known) - {"enabled"}
        if unknown:
            raise ValueError(f"adapter {adapter}: unknown setting(s) {', '.join(sorted(unknown))}; "
                             f"known: {', '.join(sorted(known))}")
        out = {}
        for f in self.fields:
            if f.name in given and given[f.name] is not None:
                try:
                    out[f.name] = f.type(given[f.name])
                except (TypeError, ValueError):
                    raise ValueError(f"adapter {adapter}: setting {f.name} must be {f.type.__name__}, "
                                     f"got {given[f.name]!r}") from None
            elif f.required:
                raise ValueError(f"adapter {adapter}: setting {f.name} is required ({f.description}); "
                                 f"example: {f.example!r}")
            else:
                out[f.name] = f.default
        return out

    def describe(self) -> list[dict]:
        return [{"name": f.name, "type": f.type.__name__, "default": f.default, "required": f.required,
                 "secret": f.secret, "example": f.example, "description": f.description} for f in self.fields]
