"""Compatibility check of two sets of schemas (`tongban schema diff OLD NEW`).

The hub writes, others read: a change is breaking when a message valid under the NEW
schema could be refused by a consumer that validates with the OLD one. So, for each
schema and recursively through its `$ref`s, `properties`, `items`, `anyOf`/`oneOf`:
a type, an enum or a const that admits more, a bound that is looser, a pattern or format
that changed, a property that is new where OLD forbids others (additionalProperties
false), a property no longer required, a schema file removed. Adding an optional
property where OLD allows others, tightening a bound, removing an optional property: not
breaking. A breaking change is allowed only with a version bump: a `$id` under another
`/v<N>/`. Conservative by design: it may call a change breaking that a cleverer proof
would allow (a reworded pattern), never the reverse for the keywords it knows."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

_VERSION = re.compile(r"/v(\d+)/")
_LOWER = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")   # NEW may only raise
_UPPER = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")   # NEW may only lower
_EXACT = ("pattern", "format", "multipleOf")


@dataclass
class Report:
    breaking: list[str] = field(default_factory=list)
    bumped: list[str] = field(default_factory=list)     # schemas whose version changed: their changes are allowed
    allowed: list[str] = field(default_factory=list)    # breaking changes made allowed by a bump

    @property
    def ok(self) -> bool:
        return not self.breaking


def version_of(schema: dict) -> int | None:
    m = _VERSION.search(str(schema.get("$id", "")))
    return int(m.group(1)) if m else None


def _load(path: Path) -> dict[str, dict]:
    if path.is_file():
        return {path.name: json.loads(path.read_text(encoding="utf-8"))}
    return {p.name: json.loads(p.read_text(encoding="utf-8")) for p in sorted(path.glob("*.schema.json"))}


def diff_paths(old: str | Path, new: str | Path) -> Report:
    return diff_sets(_load(Path(old)), _load(Path(new)))


def diff_sets(old: dict[str, dict], new: dict[str, dict]) -> Report:
    report = Report()
    for name, old_schema in old.items():
        if name not in new:
            report.breaking.append(f"{name}: removed")
            continue
        problems = compare(old_schema, new[name])
        if version_of(old_schema) != version_of(new[name]):
            report.bumped.append(f"{name}: v{version_of(old_schema)} -> v{version_of(new[name])}")
            report.allowed += [f"{name}: {p}" for p in problems]
        else:
            report.breaking += [f"{name}: {p}" for p in problems]
    return report


def compare(old: dict, new: dict) -> list[str]:
    out: list[str] = []
    _cmp(old, new, old, new, "", out, set())
    return out


def _resolve(node, root: dict):
    seen = 0
    while isinstance(node, dict) and "$ref" in node and seen < 50:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            return node   # another document: compared by its own file
        target = root
        for part in ref[2:].split("/"):
            target = target[part]
        extra = {k: v for k, v in node.items() if k != "$ref"}
        node = {**target, **extra} if extra else target
        seen += 1
    return node


def _types(node: dict) -> set[str] | None:
    if "type" in node:
        t = node["type"]
        return set(t) if isinstance(t, list) else {t}
    return None


def _branches(node: dict) -> list | None:
    for key in ("oneOf", "anyOf"):
        if key in node:
            return node[key]
    return None


def _cmp(old, new, old_root, new_root, at: str, out: list, seen: set) -> None:
    old, new = _resolve(old, old_root), _resolve(new, new_root)
    if not isinstance(old, dict) or not isinstance(new, dict):
        if old is not True and old != new:
            out.append(f"{at or '/'}: changed from {old!r} to {new!r}")
        return
    key = (id(old), id(new))
    if key in seen:
        return
    seen.add(key)
    if not old:
        return   # OLD accepted anything
    ob, nb = _branches(old), _branches(new)
    if ob is not None or nb is not None:
        olds = ob if ob is not None else [old]
        for i, branch in enumerate(nb if nb is not None else [new]):
            tries = []
            for candidate in olds:
                found: list[str] = []
                _cmp(candidate, branch, old_root, new_root, at, found, set(seen))
                tries.append(found)
                if not found:
                    break
            if tries and all(tries):
                out.append(f"{at or '/'}: variant {i} is accepted by no variant of before "
                           f"({min(tries, key=len)[0]})")
        if ob is None or nb is None:
            return   # one side's variants were compared against the other whole
        # both have variants: the keywords beside them are compared below too
    if "const" in old:
        if "const" in new and new["const"] != old["const"]:
            out.append(f"{at or '/'}: const {old['const']!r} became {new['const']!r}")
        elif "const" not in new and not (set(new.get("enum", [object()])) <= {old["const"]}):
            out.append(f"{at or '/'}: const {old['const']!r} is no longer a constant")
    if "enum" in old:
        gained = [v for v in new.get("enum", [new["const"]] if "const" in new else []) if v not in old["enum"]]
        if "enum" not in new and "const" not in new:
            out.append(f"{at or '/'}: enum {old['enum']!r} is no longer an enum")
        elif gained:
            out.append(f"{at or '/'}: enum gained {gained!r}")
    ot, nt = _types(old), _types(new)
    if ot is not None:
        if nt is None and "const" not in new and "enum" not in new:
            out.append(f"{at or '/'}: type {sorted(ot)} is no longer stated")
        elif nt is not None and not nt <= ot and not ("integer" in nt and "number" in ot and nt - {"integer"} <= ot):
            out.append(f"{at or '/'}: type {sorted(ot)} became {sorted(nt)}")
    for k in _LOWER:
        if k in old and (k not in new or new[k] < old[k]):
            out.append(f"{at or '/'}: {k} {old[k]} loosened to {new.get(k)}")
    for k in _UPPER:
        if k in old and (k not in new or new[k] > old[k]):
            out.append(f"{at or '/'}: {k} {old[k]} loosened to {new.get(k)}")
    for k in _EXACT:
        if k in old and new.get(k) != old[k]:
            out.append(f"{at or '/'}: {k} {old[k]!r} became {new.get(k)!r}")
    # objects
    oprops, nprops = old.get("properties", {}), new.get("properties", {})
    closed = old.get("additionalProperties") is False
    for name, sub in nprops.items():
        if name in oprops:
            _cmp(oprops[name], sub, old_root, new_root, f"{at}/{name}", out, seen)
        elif closed:
            out.append(f"{at}/{name}: a new property, where before no other was allowed")
    if closed and new.get("additionalProperties") is not False:
        out.append(f"{at or '/'}: additionalProperties false was lifted")
    elif isinstance(old.get("additionalProperties"), dict) and isinstance(new.get("additionalProperties"), dict):
        _cmp(old["additionalProperties"], new["additionalProperties"], old_root, new_root, f"{at}/*", out, seen)
    for name in old.get("required", []):
        if name not in new.get("required", []):
            out.append(f"{at}/{name}: no longer required")
    if isinstance(old.get("items"), dict) and isinstance(new.get("items"), dict):
        _cmp(old["items"], new["items"], old_root, new_root, f"{at}/[]", out, seen)
    for i, (o, n) in enumerate(zip(old.get("allOf", []), new.get("allOf", []))):
        _cmp(o, n, old_root, new_root, f"{at}/allOf{i}", out, seen)
    if len(new.get("allOf", [])) < len(old.get("allOf", [])):
        out.append(f"{at or '/'}: allOf lost a member")
