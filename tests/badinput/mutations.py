"""One bad field in an otherwise valid record, drawn by hypothesis: which field, what goes
wrong with it, whether the hub must refuse it, and which names a reason may use for it.

What the mapping files say about each source field (mapped or not, required, a date, an
identifier) is read from mappings/<dept>/*.yaml, so the rules follow the mappings."""
from __future__ import annotations

import copy
import random
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

from hub.mapping.spec import compile_condition
from sims.codes import USCC_ALPHABET, make_resident_id, make_uscc, resident_id_check, uscc_check
from sims.ndrc import valid_resident_id, valid_uscc

ROOT = Path(__file__).resolve().parents[2]
MISSING = object()


@dataclass(frozen=True)
class Raw:
    """A value given as the bytes that stand for it in a JSON page (lying encodings, escapes)."""
    json: bytes


@dataclass
class Mutation:
    kind: str
    path: str
    value: Any
    must_fail: bool
    fields: set[str] = field(default_factory=set)
    base: dict = field(default_factory=dict)
    record: dict = field(default_factory=dict)   # the base with the mutation applied (Raw as a marker)

    def __repr__(self) -> str:   # what hypothesis prints for a failing example
        shown = self.value if not isinstance(self.value, str) or len(self.value) < 80 else \
            f"{self.value[:40]!r}…({len(self.value)} chars)"
        return f"Mutation({self.kind} at {self.path}: {shown!r}, must_fail={self.must_fail})"


# --- what the mappings say about a department's source fields -----------------------------------
@lru_cache(maxsize=None)
def _mappings(dept: str) -> tuple:
    out = []
    for path in sorted((ROOT / "mappings" / dept).glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        specs = {t: ({"path": s} if isinstance(s, str) else s) for t, s in doc["fields"].items()}
        out.append((compile_condition(doc.get("when")), _paths(doc.get("when")), doc["record_key"].strip("{}"),
                    specs))
    return tuple(out)


def _paths(cond) -> frozenset:
    """Every path a `when` condition reads, combined ones (all / any) included."""
    if not cond:
        return frozenset()
    if "path" in cond:
        return frozenset([cond["path"]])
    return frozenset().union(*(_paths(c) for c in cond.get("all") or cond.get("any") or []))


def facts(dept: str, record: dict, path: str) -> dict:
    """How the mappings that accept this record use `path`."""
    f = {"mapped": False, "required": False, "date": False, "id": False, "key": False, "cond": False,
         "nulls": set(), "targets": set()}
    for when, cond_paths, key, specs in _mappings(dept):
        if not when(record):
            continue
        f["key"] |= key == path
        f["cond"] |= path in cond_paths
        f["mapped"] |= path in cond_paths or key == path
        for target, spec in specs.items():
            if spec.get("path") != path:
                continue
            transforms = spec.get("transform") or []
            transforms = [transforms] if isinstance(transforms, (str, dict)) else transforms
            # {decimal: {unit: 万元}}: a transform with parameters is named by its one key
            transforms = [t if isinstance(t, str) else next(iter(t)) for t in transforms]
            f["mapped"] = True
            f["targets"].add(target)
            f["required"] |= bool(spec.get("required")) and "default" not in spec
            f["date"] |= bool({"date", "datetime"} & set(transforms))
            f["id"] |= target.endswith(".id_number")
            f["nulls"] |= set(spec.get("null_values") or ())
    return f


def reason_names(dept: str, record: dict, path: str) -> set[str]:
    """Names a dead-letter reason may use for this field: its source path and the canonical
    fields it feeds (and their objects: a model check on the applicant names `applicant`)."""
    names = {path}
    for t in facts(dept, record, path)["targets"]:
        names |= {t, t.split(".")[0]}
        if t == "valid_from":
            names.add("valid_to")          # the order check sits on valid_to
        if t.endswith("id_type"):
            names.add(t.replace("id_type", "id_number"))
    return names


def leaves(record: Any, prefix: str = "") -> list[str]:
    if isinstance(record, dict):
        return [p for k, v in record.items() for p in leaves(v, f"{prefix}{k}" if not prefix else f"{prefix}.{k}")]
    if isinstance(record, list) and record:
        return [p for i, v in enumerate(record) for p in leaves(v, f"{prefix}.{i}")]
    return [prefix] if prefix else []


def put(record: dict, path: str, value) -> dict:
    out = copy.deepcopy(record)
    parts = [int(p) if p.isdigit() else p for p in path.split(".")]
    cur = out
    for p in parts[:-1]:
        cur = cur[p]
    if value is MISSING:
        del cur[parts[-1]]
    else:
        cur[parts[-1]] = value
    return out


# --- bad values ------------------------------------------------------------------------------
def _insert(ch: str):
    return st.builds(lambda s, i: s[: i % (len(s) + 1)] + ch + s[i % (len(s) + 1):],
                     st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), max_size=12),
                     st.integers(0, 20))


def bad_resident_ids():
    good = st.builds(lambda r, y, m, d, s: make_resident_id(r, f"{y}{m:02d}{d:02d}", s),
                     st.sampled_from(["330106", "330102", "110105", "440305"]), st.integers(1940, 2005),
                     st.integers(1, 12), st.integers(1, 28), st.integers(0, 999))
    spoiled = good.map(lambda i: i[:17] + "10X98765432"[("10X98765432".index(i[17]) + 3) % 11])
    impossible = st.builds(lambda r, b, s: (lambda f: f + resident_id_check(f))(f"{r}{b}{s:03d}"),
                           st.sampled_from(["330106", "999999", "000000"]),
                           st.sampled_from(["19990230", "20011301", "19900000", "29990101", "19900431"]),
                           st.integers(0, 999))
    return st.one_of(spoiled, impossible, good.map(lambda i: i[:-1]), good.map(lambda i: i + "0"),
                     good.map(lambda i: i[:10] + "A" + i[11:]))


def bad_credit_codes():
    body = st.text(USCC_ALPHABET, min_size=8, max_size=8)
    good = body.map(lambda b: make_uscc("9", "1", "330106", b))
    spoiled = good.map(lambda c: c[:17] + USCC_ALPHABET[(USCC_ALPHABET.index(c[17]) + 7) % 31])
    forbidden = st.builds(lambda b, ch: (lambda f: f + uscc_check(f.replace(ch, "0")))(f"91330106{b}{ch}")[:18],
                          body, st.sampled_from("IOSVZ"))
    return st.one_of(spoiled, forbidden, good.map(lambda c: c[:17]), good.map(lambda c: c + "1"))


IMPOSSIBLE_DATES = ["2026-02-30 08:00:00", "2026-02-29", "2026-13-01 10:00:00", "2026-00-10", "2026-04-31",
                    "2026-03-05 25:00:00", "2026-03-05 23:60:00", "2026-03-05 23:59:61", "20260230120000",
                    "2026年2月30日", "2026/2/30 8:00", "0000-01-01", "2026-03-05T08:00:00+25:00",
                    "9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00", "2026-3-5 8", "昨天"]


def bad_dates():
    return st.one_of(st.sampled_from(IMPOSSIBLE_DATES),
                     st.builds(lambda y, m, d: f"{y:04d}-{m:02d}-{d:02d} 10:00:00", st.integers(1900, 2100),
                               st.sampled_from([2, 4, 6, 9, 11]), st.integers(31, 99)))


def pii_values():
    rng = random.Random(5)
    ids = [make_resident_id("330106", f"{rng.randint(1950, 2000)}0{rng.randint(1, 9)}1{rng.randint(0, 9)}",
                            rng.randint(0, 999)) for _ in range(5)]
    phones = ["13812345678", "15867123490", "+8613912345678", "186 1234 5678"]
    return st.sampled_from(ids + phones + [f"联系人身份证{ids[0]}电话13812345678"])


def deep(depth: int):
    v: Any = "x"
    for i in range(depth):
        v = [v] if i % 2 else {"a": v}
    return v


VALUES = {
    "nul": _insert("\x00"),
    "control": st.sampled_from([chr(c) for c in range(32) if c not in (0, 9, 10, 13)]).flatmap(_insert),
    "huge": st.integers(4_000, 40_000).map(lambda n: "巨" * (n // 3)),
    "deep": st.integers(5, 300).map(deep),
    "type": st.sampled_from([[], {}, 0, -1, 1.5, True, None, [1, "a"], {"a": {"b": 1}}, 10 ** 30]),
    "bad_id": st.one_of(bad_resident_ids(), bad_credit_codes()),
    "bad_date": bad_dates(),
    "garbage": st.text(max_size=40),
    "missing": st.just(MISSING),
    "pii": pii_values(),
    "surrogate": st.sampled_from([b'"\\ud800"', b'"ab\\udfffcd"', b'"\\udc80\\ud800"']).map(Raw),
    "lying": st.sampled_from(["张三丰", "杭州瑞博网络科技有限公司", "市场监督管理局"]).map(
        lambda s: Raw(b'"' + s.encode("gb18030") + b'"')),
}
JSON_KINDS = tuple(VALUES)
TEXT_KINDS = ("nul", "control", "huge", "bad_id", "bad_date", "garbage", "missing", "pii")


@st.composite
def mutations(draw, dept: str, pool: list[dict], kinds=JSON_KINDS, limit: int | None = None,
              text_only: bool = False) -> Mutation:
    base = draw(st.sampled_from(pool))
    kind = draw(st.sampled_from(kinds))
    paths = leaves(base)
    if kind in ("bad_id", "bad_date"):
        want = "id" if kind == "bad_id" else "date"
        paths = [p for p in paths if facts(dept, base, p)[want]] or paths
    path = draw(st.sampled_from(paths))
    value = draw(VALUES[kind])
    if text_only and not isinstance(value, str) and value is not MISSING:
        value = str(value)
    f = facts(dept, base, path)
    must_fail = False
    if kind in ("nul", "control"):
        must_fail = f["mapped"]
    elif kind == "bad_id" and f["id"]:
        # By the simulators' own check digits (not the hub's): a spoiled resident ID may still be,
        # by a 1-in-31 chance, a well-formed credit code, and the field may take either.
        must_fail = f["mapped"] and not (valid_uscc(value) or valid_resident_id(value))
    elif kind in ("surrogate", "lying"):
        must_fail = True                     # the decode guard scans every field
    elif kind == "bad_date" and f["date"]:
        must_fail = value.strip() not in f["nulls"]
    elif kind == "missing":
        must_fail = f["required"] or f["key"]
    elif kind == "huge" and limit is not None:
        must_fail = len(value.encode("utf-8")) > limit
    marker = f"@@MUTATED-{kind}@@" if isinstance(value, Raw) else value
    record = put(base, path, marker)
    if f["cond"] and kind not in ("surrogate", "lying") and any(w(record) for w, *_ in _mappings(dept)):
        # The spoiled value still satisfies some mapping's condition (another code of the same
        # table, say): what that mapping makes goes on. Whether a spoiled record type is refused
        # rather than half made is asserted by the targeted tests (land, ndrc certificates).
        must_fail = False
    names = reason_names(dept, base, path) | ({"max_record_bytes"} if kind == "huge" else set())
    return Mutation(kind, path, value, must_fail, names, base, record)
