"""Dual-track for 住建 housing: the old 前置库 simulator and its cloud copy (housing_new, same
seed), each read through the hub's own housing source as its track (the new track's settings
made the way the hub makes them: with_endpoints + runner.new_track), mapped, and fed to the
matcher with the project's config/dualtrack.yaml. Each injected drift yields exactly its
verdicts and fields; nothing else differs. Stores on SQLite and PostgreSQL; the 前置库 on
SQLite, and for one mix of drifts on PostgreSQL and MariaDB too.

The step number (BLXH) is not a column: the hub's reader ranks a case's 办理详细 rows. A row
the new system never writes therefore renumbers the case's later steps on the new track, and
a decision written twice moves the 批复文件 to the later step. So config/dualtrack.yaml pairs
housing's twins by record key (DFSJZJ, 地方数据主键, the same on both tracks): such a row is one
missing_new or missing_old and nothing else. `expected` works the verdicts out from the rows
each system wrote (keys and step numbers), not from what the hub made of them; and
`expected_by_step` what pairing by step (pair_by: sequence) would make of the same rows."""
from __future__ import annotations

from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path

import pytest

from hub.adapter import registry
from hub.config import load_settings, with_endpoints
from hub.dualtrack import DualTrack, load_config
from hub.mapping import MappingSet
from hub.runtime.runner import bindings, enabled_adapters, new_track
from sims.housing import HousingNewSim, HousingSim
from dt_data import read_track as read_any_track
from tests.conftest import wait_until
from tests.housing_dbs import KINDS, spgl_database

ROOT = Path(__file__).resolve().parents[2]
MAPPINGS = MappingSet.load(ROOT / "mappings")
SYSTEM = "housing-spgl"
CASES = 25
SEED = 77
DETAIL, DOCUMENT = "SPGL_XMSPSXBLXXXXB", "SPGL_XMSPSXPFWJXXB"
PASSED = (11, 12)    # 办结(通过) / 办结(容缺通过): the step a 批复文件 belongs to


def hub_settings(old: HousingSim, new: HousingNewSim) -> dict:
    """The hub's settings pointed at both simulators, as the demo and the tests point them."""
    ends = {"housing": {"admin_url": old.url, **old.endpoints()},
            "housing_new": {"admin_url": new.url, **new.endpoints()}}
    return with_endpoints(load_settings(), ends)


def read_track(conf: dict, track: str) -> list[dict]:
    return read_any_track("housing", SYSTEM, conf, track, MAPPINGS)


def written(sim: HousingSim) -> dict[str, list[dict]]:
    """What the system wrote into its 前置库, table by table in LSH order."""
    with sim.lock:
        return {t: [dict(r) for r in rows] for t, rows in sim.rows.items()}


def both_tracks(drift: dict | None = None, cases: int = CASES, db: str = "sqlite"):
    """(old envelopes, new envelopes, old rows, new rows) for `cases` cases, the new copy
    drifting by `drift`."""
    with spgl_database(db) as old_url, spgl_database(db) as new_url:
        with HousingSim(port=0, seed=SEED, db_url=old_url) as old, \
                HousingNewSim(port=0, seed=SEED, db_url=new_url) as new:
            if drift:
                new.set_drift(drift)
            old.load(cases)
            new.load(cases)
            settings = hub_settings(old, new)
            conf_new = new_track(settings, "housing")
            assert conf_new["db_url"] == new.db_url
            envs_old = read_track(enabled_adapters(settings)["housing"], "old")
            envs_new = read_track(conf_new, "new")
            return envs_old, envs_new, written(old), written(new)


BY_STEP = {"dualtrack": {"departments": {"housing": {"pair_by": "sequence"}}}}   # the other way to pair
KIND = {DETAIL: "case_event", DOCUMENT: "certificate"}


def _offer(store, old, new, t0, settings, delay):
    dt = DualTrack(store, settings or {})
    out = dt.offer_many(old, t0)
    out += dt.offer_many(new, t0 + timedelta(seconds=delay))
    out += dt.expire(t0 + timedelta(hours=2))
    return out


def run(store, old, new, t0, settings=None, delay=5.0):
    """{(case, kind, record key): (verdict, fields, the step number shown)}, one per row."""
    keys = {e["message_id"]: e["record_key"] for e in old + new}
    got = {}
    for c in _offer(store, old, new, t0, settings, delay):
        key = (c.case_no, c.kind, keys[c.old_message_id or c.new_message_id])
        assert key not in got, f"two verdicts for one row: {key}"
        got[key] = (c.verdict, frozenset(d["field"] for d in c.fields), c.sequence)
    return got


def run_by_step(store, old, new, t0, delay=5.0):
    out = _offer(store, old, new, t0, BY_STEP, delay)
    return {(c.case_no, c.kind, c.sequence): (c.verdict, frozenset(d["field"] for d in c.fields)) for c in out}


def _flat(value: dict, prefix: str = "payload") -> dict:
    out = {}
    for key, v in value.items():
        if isinstance(v, dict) and v:
            out.update(_flat(v, f"{prefix}.{key}"))
        else:
            out[f"{prefix}.{key}"] = v
    return out


def differing(a: dict, b: dict) -> set[str]:
    """The payload fields in which two of the old track's events differ (the step numbers aside)."""
    fa, fb = _flat(a["payload"]), _flat(b["payload"])
    return {p for p in fa.keys() | fb.keys() if fa.get(p) != fb.get(p) and p != "payload.sequence"}


def _steps(rows: dict) -> dict[str, list[dict]]:
    out = defaultdict(list)
    for r in rows[DETAIL]:
        out[r["SPSXSLBM"]].append(r)
    return out


def _certificate_step(steps: list[dict]) -> int | None:
    """The step a 批复文件 takes, as the reader gives it: the latest 办结(通过), else the last step."""
    done = [i for i, r in enumerate(steps, 1) if r["BLZT"] in PASSED]
    return max(done) if done else (len(steps) or None)


def numbered(rows: dict) -> dict[str, tuple[str, str, int | None]]:
    """{DFSJZJ: (case, kind, step number)} of the 办理详细 and 批复文件 rows a system wrote, numbered
    as the reader numbers them: 办理详细 in the order written in its case, a 批复文件 at the step
    of the case's latest 办结(通过)."""
    steps = _steps(rows)
    out = {r["DFSJZJ"]: (case, KIND[DETAIL], k) for case, rs in steps.items() for k, r in enumerate(rs, 1)}
    for doc in rows[DOCUMENT]:
        out[doc["DFSJZJ"]] = (doc["SPSXSLBM"], KIND[DOCUMENT], _certificate_step(steps.get(doc["SPSXSLBM"], [])))
    return out


def expected(old: list[dict], new: list[dict], old_rows: dict, new_rows: dict, fields_of=lambda env: set()) -> dict:
    """Every verdict, paired by record key, from the rows each system wrote: a row both wrote is
    compared with its own copy (match, or the fields a field drift changes: fields_of(env) names
    them for the old track's `env`), shown at the old step number; a row only the old system
    wrote is missing_new, one only the new system wrote (a decision again) missing_old, at the
    step its own track gives it. Nothing else, however the later steps were renumbered."""
    was, now = numbered(old_rows), numbered(new_rows)
    # the hub's reader numbers the rows so (else these expectations would prove nothing)
    assert {e["record_key"]: (e["case_no"], e["kind"], e["sequence"]) for e in old} == was
    assert {e["record_key"]: (e["case_no"], e["kind"], e["sequence"]) for e in new} == now
    envs = {e["record_key"]: e for e in old}
    out = {}
    for key in was.keys() | now.keys():
        case, kind, step = was.get(key) or now[key]
        if key not in now:
            out[(case, kind, key)] = ("missing_new", frozenset(), step)
        elif key not in was:
            out[(case, kind, key)] = ("missing_old", frozenset(), step)
        else:
            fields = frozenset(fields_of(envs[key]))
            out[(case, kind, key)] = ("mismatch" if fields else "match", fields, step)
    return out


def renumbered(old_rows: dict, new_rows: dict) -> set[str]:
    """The rows both systems wrote that the new track numbers otherwise."""
    was, now = numbered(old_rows), numbered(new_rows)
    return {k for k in was.keys() & now.keys() if was[k] != now[k]}


def expected_by_step(old: list[dict], old_rows: dict, new_rows: dict, fields_of=lambda env: set()) -> dict:
    """Every verdict paired by step (pair_by: sequence), from the rows each system wrote: the
    new track's step k is the row the new system wrote k-th in the case; the old event it is
    compared with is the old step k. So a
    step the new system left out turns the later ones into mismatches (on the fields in which
    those old steps differ) and the last into missing_new; a decision written twice is a step
    more (missing_old, or compared with an old step if one went missing before it).
    fields_of(env) names the fields a field drift changes in the new copy of `env`."""
    envs = {(e["case_no"], e["kind"], e["sequence"]): e for e in old}
    old_steps, new_steps = _steps(old_rows), _steps(new_rows)
    rank = {r["DFSJZJ"]: k for rs in old_steps.values() for k, r in enumerate(rs, 1)}
    out = {}
    for case, rs in old_steps.items():
        copies: list[int] = []   # for each step the new system wrote: the old step it is a copy of
        for r in new_steps.get(case, []):
            copies.append(rank.get(r["DFSJZJ"]) or copies[-1])   # a key of its own: the decision again
        for k in range(1, max(len(rs), len(copies)) + 1):
            key = (case, "case_event", k)
            if k > len(copies):
                out[key] = ("missing_new", frozenset())
            elif k > len(rs):
                out[key] = ("missing_old", frozenset())
            else:
                source = envs[(case, "case_event", copies[k - 1])]
                fields = frozenset(differing(envs[key], source) | fields_of(source))
                out[key] = ("mismatch" if fields else "match", fields)
    new_docs = {r["SPSXSLBM"] for r in new_rows[DOCUMENT]}
    for doc in old_rows[DOCUMENT]:
        case = doc["SPSXSLBM"]
        step = _certificate_step(old_steps[case])
        key = (case, "certificate", step)
        if case not in new_docs:
            out[key] = ("missing_new", frozenset())
            continue
        moved = _certificate_step(new_steps[case])
        if moved != step:
            out[key] = ("missing_new", frozenset())
            out[(case, "certificate", moved)] = ("missing_old", frozenset())
            continue
        fields = frozenset(fields_of(envs[key]))
        out[key] = ("mismatch" if fields else "match", fields)
    assert set(envs) <= set(out)
    return out


@pytest.fixture(scope="module")
def plain():
    return both_tracks()


def test_the_new_track_is_configured_by_the_hub_the_way_the_others_are():
    with HousingSim(port=0, seed=1) as old, HousingNewSim(port=0, seed=1) as new:
        settings = hub_settings(old, new)
        conf = new_track(settings, "housing")
        assert conf["db_url"] == new.db_url != enabled_adapters(settings)["housing"]["db_url"] == old.db_url
        assert "admin_url" not in conf and "tracks" not in conf
        assert registry.create("housing", conf).check().ok
        # the write mirror: applications for housing also go to the new track's queue
        mirror = [b for b in bindings(settings) if b.destination == "housing.new"]
        assert [(b.pattern, b.exchange) for b in mirror] == [("housing.application.*", "tongban.commands")]
    base = load_settings()
    housing = base["adapters"]["housing"]
    assert housing["tracks"]["new"]["db_url"] != housing["db_url"]
    assert housing["tracks"]["new"]["admin_url"].endswith(":18093") and base["sims"]["housing_new_port"] == 18093
    housing = load_config({}).department("housing")
    assert housing.mode == "off"
    assert housing.pairing("housing.case_event@1") == housing.pairing("housing.certificate@1") == "record_key"
    assert housing.pairing("housing.receipt@1") == "sequence"   # each track's own row, own key


def test_no_drift_is_a_hundred_percent_match(dstore, t0, plain):
    old, new, old_rows, new_rows = plain
    assert {e["kind"] for e in old} == {"case_event", "certificate"} and len(old) == len(new) > 3 * CASES
    out = run(dstore, old, new, t0)
    assert out == expected(old, new, old_rows, new_rows)
    assert {v for v, _, _ in out.values()} == {"match"} and len(out) == len(old)
    assert run_by_step(dstore, old, new, t0) == expected_by_step(old, old_rows, new_rows)   # the same, by step


def test_reordered_materials_match_under_the_unordered_rule(dstore, t0):
    # The 事项办理 row's CLQD (材料清单) comes in another order on the new track; every step of the
    # case carries it (SPSX.CLQD), and config/dualtrack.yaml compares materials by name.
    old, new, _, _ = both_tracks({"reorder_materials": True, "seed": 3})
    listed = [e for e in old if e["kind"] == "case_event"]
    assert listed and all(len(e["payload"]["materials"]) >= 4 for e in listed)
    by_key = {e["record_key"]: e for e in new}
    moved = sum(e["payload"]["materials"] != by_key[e["record_key"]]["payload"]["materials"] for e in listed)
    assert moved == len(listed), "the drift reordered nothing"
    assert {v for v, _, _ in run(dstore, old, new, t0).values()} == {"match"}


def _event(e) -> bool:
    return e["kind"] == "case_event"


@pytest.mark.parametrize("drift, fields_of", [
    # another status code at one step: 受理 (3) written as 部门受理 (8)
    ({"status_code": {"field": "BLZT", "step": 3, "value": 8}},
     lambda e: {"payload.type", "payload.attributes.status_code", "payload.attributes.status_label"}
     if _event(e) and e["payload"]["attributes"]["status_code"] == 3 else set()),
    # BLSJ written in UTC without an offset: 8 hours off on every step; PFRQ is a date, nothing to shift
    ({"utc_times": True}, lambda e: {"payload.occurred_at"} if _event(e) else set()),
    # the opinion (办理意见 BLYJ) no longer filled
    ({"drop_field": ["BLYJ"]}, lambda e: {"payload.opinion"} if _event(e) and e["payload"]["opinion"] else set()),
    # the handler's column renamed: the hub's reader still reads BLR, now empty
    ({"rename_field": {"BLR": "BLRXM"}}, lambda e: {"payload.handler"} if _event(e) else set()),
    # the 批复文件's expiry no longer filled: only a document with one (商品房预售许可证) differs
    ({"drop_field": ["PFWJYXQX"]},
     lambda e: {"payload.valid_to"} if e["kind"] == "certificate" and e["payload"]["valid_to"] else set()),
], ids=["status_code", "utc_times", "drop_field", "rename_field", "drop_document_field"])
def test_each_drift_yields_exactly_its_verdicts(dstore, t0, drift, fields_of):
    old, new, old_rows, new_rows = both_tracks({**drift, "seed": 5})
    want = expected(old, new, old_rows, new_rows, fields_of)
    assert {v for v, _, _ in want.values()} == {"match", "mismatch"}   # the drift shows, and not everywhere
    assert run(dstore, old, new, t0) == want


def test_a_row_the_new_system_never_writes_is_one_missing_new(dstore, t0):
    old, new, old_rows, new_rows = both_tracks({"missing_rate": 0.1, "seed": 6})
    want = expected(old, new, old_rows, new_rows)
    never = {r["DFSJZJ"] for t in (DETAIL, DOCUMENT) for r in old_rows[t]} - \
        {r["DFSJZJ"] for t in (DETAIL, DOCUMENT) for r in new_rows[t]}
    assert {k[1] for k in never_keys(want, never)} == {"case_event", "certificate"}   # steps and 批复文件 left out
    # exactly one missing_new per row left out; everything else pairs with its own copy
    assert {k for k, (v, _, _) in want.items() if v == "missing_new"} == never_keys(want, never)
    assert {v for v, _, _ in want.values()} == {"match", "missing_new"}
    # ... though a step left out in the middle renumbered the later ones on the new track
    moved = renumbered(old_rows, new_rows)
    assert {k[1] for k in want if k[2] in moved} == {"case_event", "certificate"}
    got = run(dstore, old, new, t0)
    assert got == want
    assert {got[k][0] for k in want if k[2] in moved} == {"match"}
    # stored as decided, with the old track's step numbers
    stored = Counter((r["verdict"], r["kind"], r["sequence"]) for r in dstore.dualtrack_comparisons())
    assert stored == Counter((v, k[1], s) for k, (v, _, s) in want.items())


def never_keys(want: dict, record_keys: set[str]) -> set[tuple]:
    return {k for k in want if k[2] in record_keys}


def test_a_decision_written_twice_is_one_missing_old(dstore, t0):
    old, new, old_rows, new_rows = both_tracks({"extra_rate": 1.0, "seed": 6})
    want = expected(old, new, old_rows, new_rows)
    again = {r["DFSJZJ"] for r in new_rows[DETAIL]} - {r["DFSJZJ"] for r in old_rows[DETAIL]}
    decided = [r["SPSXSLBM"] for r in old_rows[DETAIL] if r["BLZT"] in (11, 12, 13)]
    assert len(again) == len(decided) and {r["SPSXSLBM"] for r in new_rows[DETAIL] if r["DFSJZJ"] in again} == \
        set(decided)
    # one missing_old per decision written again, at the step the new track gave it; nothing else
    assert {k for k, (v, _, _) in want.items() if v == "missing_old"} == never_keys(want, again)
    assert {v for v, _, _ in want.values()} == {"match", "missing_old"}
    # a passed case's 批复文件 moved to the later step on the new track: still its own twin
    moved = renumbered(old_rows, new_rows)
    passed = {r["DFSJZJ"] for r in old_rows[DOCUMENT]}
    assert passed & moved
    got = run(dstore, old, new, t0)
    assert got == want
    assert {got[k][0] for k in want if k[2] in passed} == {"match"}


def test_missing_and_extra_together(dstore, t0):
    old, new, old_rows, new_rows = both_tracks({"missing_rate": 0.1, "extra_rate": 1.0, "seed": 6})
    want = expected(old, new, old_rows, new_rows)
    verdicts = Counter(v for v, _, _ in want.values())
    was = {r["DFSJZJ"] for t in (DETAIL, DOCUMENT) for r in old_rows[t]}
    now = {r["DFSJZJ"] for t in (DETAIL, DOCUMENT) for r in new_rows[t]}
    assert verdicts == Counter({"match": len(was & now), "missing_new": len(was - now), "missing_old": len(now - was)})
    assert verdicts["missing_new"] > 0 and verdicts["missing_old"] > 0 and renumbered(old_rows, new_rows)
    assert run(dstore, old, new, t0) == want


def test_paired_by_step_the_same_rows_would_cascade(dstore, t0):
    # Why housing pairs by record key: by step (pair_by: sequence), every step after a gap is
    # compared with the wrong twin, and a 批复文件 that moved is missing on both tracks.
    old, new, old_rows, new_rows = both_tracks({"missing_rate": 0.1, "extra_rate": 1.0, "seed": 6})
    want = expected_by_step(old, old_rows, new_rows)
    assert any("payload.type" in f for v, f in want.values() if v == "mismatch")
    assert any(k[1] == "certificate" for k, (v, _) in want.items() if v == "missing_old")
    assert run_by_step(dstore, old, new, t0) == want
    by_key = Counter(v for v, _, _ in expected(old, new, old_rows, new_rows).values())
    by_step = Counter(v for v, _ in want.values())
    assert by_step["mismatch"] > 0 == by_key["mismatch"]
    assert by_step["missing_new"] + by_step["missing_old"] > by_key["missing_new"] + by_key["missing_old"]


@pytest.mark.parametrize("db", KINDS)
def test_a_mix_of_field_drifts_on_each_database(dstore, t0, db):
    drift = {"drop_field": ["BLYJ"], "rename_field": {"BLR": "BLRXM"}, "utc_times": True, "seed": 13}
    old, new, old_rows, new_rows = both_tracks(drift, cases=12, db=db)

    def fields_of(e):
        if not _event(e):
            return set()
        return {"payload.occurred_at", "payload.handler"} | ({"payload.opinion"} if e["payload"]["opinion"] else set())
    want = expected(old, new, old_rows, new_rows, fields_of)
    assert {v for v, _, _ in want.values()} == {"match", "mismatch"}
    assert run(dstore, old, new, t0) == want


def test_lag_holds_the_new_track_back_then_it_matches_within_the_window(dstore, t0):
    with HousingSim(port=0, seed=SEED) as old, HousingNewSim(port=0, seed=SEED) as new:
        new.set_drift({"lag_seconds": 2.0})
        new.load(CASES)
        old.load(CASES)
        settings = hub_settings(old, new)
        conf_new = new_track(settings, "housing")
        assert read_track(conf_new, "new") == []            # written, not in its 前置库 yet
        envs_old = read_track(enabled_adapters(settings)["housing"], "old")
        wait_until(lambda: not new.held, timeout=10, what="the held rows inserted")
        envs_new = read_track(conf_new, "new")
        want = expected(envs_old, envs_new, written(old), written(new))
    assert len(envs_new) == len(envs_old) and {v for v, _, _ in want.values()} == {"match"}
    assert run(dstore, envs_old, envs_new, t0, delay=2.0) == want
