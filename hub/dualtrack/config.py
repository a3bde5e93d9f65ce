"""config/dualtrack.yaml: modes, lag windows, comparison rules and readiness criteria.

Where it comes from, weakest first:
  1. the file: ``settings["dualtrack_file"]`` (TONGBAN__DUALTRACK_FILE=...), default
     config/dualtrack.yaml, relative paths from the project root;
  2. ``settings["dualtrack"]``, merged over the file key by key. hub.config puts every
     TONGBAN__DUALTRACK__<KEY>__... variable there, e.g.
       TONGBAN__DUALTRACK__LAG_WINDOW=600
       TONGBAN__DUALTRACK__DEPARTMENTS__HOUSING__MODE=shadow
       TONGBAN__DUALTRACK__DEPARTMENTS__HOUSING__READINESS__MIN_PAIRS=50
       TONGBAN__DUALTRACK__DEPARTMENTS__HOUSING__RULES__CASE_EVENT__IGNORE=payload.handler,payload.opinion
     (a list given as a string is split at commas);
  3. for the mode only: the store (cutover, rollback, ``tongban dualtrack mode``), see modes.py.

``pair_by`` (per department) says how the matcher finds a message's twin on the other track:
by its step (``sequence``, the default) or by the key of the source record both tracks copied
(``record_key``), for a department whose step number is not the department's own but the
reader's rank of a row in its case (housing's BLXH): there a step one track lacks would
renumber every later one. Either for all the department's messages, or per mapping:
    pair_by: record_key
    pair_by: {"*": record_key, housing.receipt: sequence}
"""
from __future__ import annotations

import copy
import difflib
import json
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from hub.config import ROOT
from hub.mapping.registry import DEFAULT_DIR as MAPPINGS_DIR
from hub.adapter.departments import names as departments

from .rules import RuleError, Rules, _no_unknown

DEFAULT_FILE = ROOT / "config" / "dualtrack.yaml"
MODES = ("off", "shadow", "cutover", "retired")
PRIMARY = {"off": "old", "shadow": "old", "cutover": "new", "retired": "new"}
READ = {"off": ("old",), "shadow": ("old", "new"), "cutover": ("old", "new"), "retired": ("new",)}
ANY_KIND = "*"
ANY_MAPPING = "*"

_TOP_KEYS = ("lag_window", "refresh_seconds", "keep_days", "readiness", "rules", "departments")
_DEPT_KEYS = ("mode", "lag_window", "readiness", "rules", "pair_by")
PAIR_BY = ("sequence", "record_key")
_MAPPING_NAME = re.compile(r"^[a-z][a-z0-9_]*\.[A-Za-z0-9_.-]+$")


class DualTrackConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Criteria:
    """When a department is ready to cut over, over the last ``window_days``."""
    window_days: float = 7
    min_match_rate: float = 0.999
    min_pairs: int = 1000
    max_unadjudicated_critical: int = 0
    max_missing: int = 0


@dataclass
class DepartmentConfig:
    name: str
    mode: str
    lag_window: float
    criteria: Criteria
    rule_specs: dict[str, dict]   # kind (or "*") -> merged rule block, as written
    # mapping name (without @version) or "*" -> "sequence" | "record_key": how twins are paired
    pair_by: dict[str, str] = field(default_factory=lambda: {ANY_MAPPING: "sequence"})
    _compiled: dict[str, Rules] = field(default_factory=dict, repr=False)

    def pairing(self, mapping: str | None) -> str:
        """How a message made by ``mapping`` (the envelope's "name@version") is paired."""
        name = str(mapping or "").split("@", 1)[0]
        return self.pair_by.get(name) or self.pair_by.get(ANY_MAPPING) or "sequence"

    def rules(self, kind: str) -> Rules:
        if kind not in self._compiled:
            base, own = self.rule_specs.get(ANY_KIND, {}), self.rule_specs.get(kind, {})
            self._compiled[kind] = Rules.from_spec(_merge_rules(base, own), f"departments.{self.name}.rules.{kind}")
        return self._compiled[kind]


@dataclass
class DualTrackConfig:
    file: Path
    refresh_seconds: float
    keep_days: float
    departments: dict[str, DepartmentConfig]

    def department(self, name: str) -> DepartmentConfig:
        try:
            return self.departments[name]
        except KeyError:
            raise DualTrackConfigError(_unknown_department(name, tuple(self.departments))) from None


def load_config(settings: dict | None = None) -> DualTrackConfig:
    """The dual-track settings for ``settings`` (hub settings), cached until the file or
    the overrides change."""
    settings = settings or {}
    path = Path(settings.get("dualtrack_file") or DEFAULT_FILE)
    if not path.is_absolute():
        path = ROOT / path
    try:
        stamp = os.stat(path).st_mtime_ns
    except FileNotFoundError:
        raise DualTrackConfigError(f"{path}: dual-track settings file not found") from None
    overrides = json.dumps(settings.get("dualtrack") or {}, sort_keys=True, default=str)
    return _load(str(path), stamp, overrides, str(settings.get("mappings_dir") or MAPPINGS_DIR), departments())


@lru_cache(maxsize=16)
def _load(path: str, _stamp: int, overrides: str, mappings_dir: str = "",
          known: tuple[str, ...] = ()) -> DualTrackConfig:
    # known: the installed adapters' departments (a key of the cache: a package installed later counts)
    try:
        with open(path, encoding="utf-8") as fh:
            doc = yaml.safe_load(fh) or {}
    except yaml.YAMLError as exc:
        raise DualTrackConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise DualTrackConfigError(f"{path}: expected a mapping at the top")
    doc = _deep_merge(doc, json.loads(overrides))
    try:
        return _build(Path(path), doc, Path(mappings_dir) if mappings_dir else None, known)
    except RuleError as exc:
        raise DualTrackConfigError(f"{path}: {exc}") from None


def _build(path: Path, doc: dict, mappings_dir: Path | None = None,
           known: tuple[str, ...] = ()) -> DualTrackConfig:
    _no_unknown(doc, _TOP_KEYS, "(top)")
    lag = _seconds(doc.get("lag_window", 300), "lag_window")
    base_criteria = _criteria(doc.get("readiness"), Criteria(), "readiness")
    base_rules = _rule_specs(doc.get("rules"), "rules")
    depts_doc = doc.get("departments") or {}
    if not isinstance(depts_doc, dict):
        raise RuleError("departments: expected a mapping of department -> settings")
    for name in depts_doc:
        if name not in known:
            raise RuleError(_unknown_department(name, known))
    departments = {}
    for name in known:
        d = depts_doc.get(name) or {}
        where = f"departments.{name}"
        if not isinstance(d, dict):
            raise RuleError(f"{where}: expected a mapping, got {d!r}")
        _no_unknown(d, _DEPT_KEYS, where)
        own_rules = _rule_specs(d.get("rules"), f"{where}.rules")
        specs = {k: _merge_rules(base_rules.get(k, {}), own_rules.get(k, {})) for k in base_rules.keys() | own_rules}
        dept = DepartmentConfig(name=name, mode=_mode(d.get("mode", "off"), f"{where}.mode"),
                                lag_window=_seconds(d.get("lag_window", lag), f"{where}.lag_window"),
                                criteria=_criteria(d.get("readiness"), base_criteria, f"{where}.readiness"),
                                rule_specs=specs,
                                pair_by=_pair_by(d.get("pair_by", "sequence"), f"{where}.pair_by", mappings_dir))
        for kind in specs:   # compile now, so a bad rule fails at load time, not mid-stream
            dept.rules(kind)
        departments[name] = dept
    return DualTrackConfig(file=path, refresh_seconds=_seconds(doc.get("refresh_seconds", 2), "refresh_seconds"),
                           keep_days=_seconds(doc.get("keep_days", 7), "keep_days"), departments=departments)


def _mode(value, where: str) -> str:
    if value is False:   # YAML 1.1 reads a bare `off` as false
        return "off"
    if value not in MODES:
        near = difflib.get_close_matches(str(value), MODES, n=1)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        raise RuleError(f"{where}: {value!r} is not a mode (one of {', '.join(MODES)}){hint}")
    return value


def _pair_by(value, where: str, mappings_dir: Path | None) -> dict[str, str]:
    """``sequence`` | ``record_key``, or {mapping name or "*": one of them}."""
    if isinstance(value, str):
        return {ANY_MAPPING: _pairing(value, where)}
    if not isinstance(value, dict) or not value:
        raise RuleError(f"{where}: expected one of {', '.join(PAIR_BY)}, or a mapping of mapping name "
                        f"(or \"*\") -> one of them, got {value!r}")
    known = None
    out = {}
    for name, how in value.items():
        name = str(name)
        if name != ANY_MAPPING:
            if "@" in name:
                raise RuleError(f"{where}: {name!r}: name the mapping without its @version "
                                f"({name.split('@', 1)[0]!r})")
            if not _MAPPING_NAME.match(name):
                raise RuleError(f"{where}: {name!r} is not a mapping name (\"*\", or department.name as in "
                                f"the mapping file's name:)")
            known = _mapping_names(mappings_dir) if known is None else known
            if known and name not in known:
                near = difflib.get_close_matches(name, sorted(known), n=1)
                hint = f"; did you mean {near[0]!r}?" if near else ""
                raise RuleError(f"{where}: no mapping named {name!r} in {mappings_dir}{hint}")
        out[name] = _pairing(how, f"{where}.{name}")
    return out


def _pairing(value, where: str) -> str:
    if value not in PAIR_BY:
        near = difflib.get_close_matches(str(value), PAIR_BY, n=1)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        raise RuleError(f"{where}: {value!r} is not a way to pair twins (one of {', '.join(PAIR_BY)}){hint}")
    return value


def _mapping_names(directory: Path | None) -> frozenset[str]:
    """The names of the mappings in ``directory`` (empty if there are none to check against)."""
    names = set()
    for p in sorted(directory.glob("*/*.yaml")) if directory and directory.is_dir() else ():
        if p.name.startswith("_"):
            continue
        try:
            with open(p, encoding="utf-8") as fh:
                doc = yaml.safe_load(fh)
        except (OSError, yaml.YAMLError):
            continue   # the mapping loader reports a broken file; here it only names no mapping
        if isinstance(doc, dict) and isinstance(doc.get("name"), str):
            names.add(doc["name"])
    return frozenset(names)


def _seconds(value, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise RuleError(f"{where}: expected a number of seconds (or days) >= 0, got {value!r}")
    return float(value)


def _criteria(spec, base: Criteria, where: str) -> Criteria:
    if spec is None:
        return base
    if not isinstance(spec, dict):
        raise RuleError(f"{where}: expected a mapping, got {spec!r}")
    names = tuple(Criteria.__dataclass_fields__)
    _no_unknown(spec, names, where)
    values = {}
    for k, v in spec.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
            raise RuleError(f"{where}.{k}: expected a number >= 0, got {v!r}")
        number = float(v)
        if k == "min_match_rate" and number > 1:
            raise RuleError(f"{where}.min_match_rate: a fraction (0.999 for 99.9%), got {v!r}")
        values[k] = int(number) if k.startswith(("min_pairs", "max_")) else number
    return Criteria(**{**base.__dict__, **values})


def _rule_specs(spec, where: str) -> dict[str, dict]:
    if spec is None:
        return {}
    if not isinstance(spec, dict) or not all(isinstance(v, dict) for v in spec.values()):
        raise RuleError(f"{where}: expected kind (or \"*\") -> rule block, got {spec!r}")
    for kind, block in spec.items():
        Rules.from_spec(block, f"{where}.{kind}")   # validate where it was written
    return {k: dict(v) for k, v in spec.items()}


def _merge_rules(base: dict, own: dict) -> dict:
    """Lists add up (ignore, critical), maps merge with the more specific winning."""
    out = copy.deepcopy(base)
    for key, value in own.items():
        if isinstance(value, (list, str)) and key in ("ignore", "critical"):
            prev = out.get(key) or []
            prev = [p.strip() for p in prev.split(",")] if isinstance(prev, str) else list(prev)
            add = [p.strip() for p in value.split(",")] if isinstance(value, str) else list(value)
            out[key] = prev + [p for p in add if p and p not in prev]
        elif isinstance(value, dict):
            out[key] = {**(out.get(key) or {}), **value}
        else:
            out[key] = value
    return out


def _deep_merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        out[k] = _deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _unknown_department(name: str, known: tuple[str, ...]) -> str:
    near = difflib.get_close_matches(str(name), known, n=1)
    hint = f"; did you mean {near[0]!r}?" if near else ""
    return f"unknown department {name!r} (one of {', '.join(known)}: the installed adapters' departments){hint}"
