"""Dual-track for 自然资源 land: the old land simulator and its new copy (land_new, same
seed), each read through the hub's own land adapter as its track (the new track's
settings made the way the hub makes them: with_endpoints + runner.new_track), mapped,
and fed to the matcher with the project's config/dualtrack.yaml. Each injected drift
yields exactly its verdicts and fields; nothing else differs. On SQLite and PostgreSQL."""
from __future__ import annotations

import copy
import random
from datetime import timedelta
from pathlib import Path

import pytest

from hub.adapter import registry
from hub.config import load_settings, with_endpoints
from hub.dualtrack import DualTrack, load_config
from hub.mapping import MappingSet
from hub.runtime.runner import bindings, enabled_adapters, new_track
from sims import drift as sim_drift
from sims.land import LandNewSim, LandSim
from dt_data import read_track as read_any_track

ROOT = Path(__file__).resolve().parents[2]
MAPPINGS = MappingSet.load(ROOT / "mappings")
SYSTEM = "land-approval"
CASES = 25
SEED = 77
LAND_MATERIALS = ("建设项目用地申请表", "宗地图", "申请人身份证明", "土地权属来源证明", "建设项目批准文件",
                  "规划条件")


def hub_settings(old: LandSim, new: LandNewSim, **land) -> dict:
    """The hub's settings pointed at both simulators, as the demo and the tests point them."""
    settings = load_settings()
    settings["adapters"]["land"].update(land)
    ends = {"land": {"admin_url": old.url, **old.endpoints()}, "land_new": {"admin_url": new.url, **new.endpoints()}}
    return with_endpoints(settings, ends)


def read_track(conf: dict, track: str) -> list[dict]:
    return read_any_track("land", SYSTEM, conf, track, MAPPINGS)


def both_tracks(drift: dict | None = None, cases: int = CASES) -> tuple[list, list, list]:
    """(old envelopes, new envelopes, the new system's rows) for `cases` cases, the new
    copy drifting by `drift`."""
    with LandSim(port=0, seed=SEED) as old, LandNewSim(port=0, seed=SEED) as new:
        if drift:
            new.drift = sim_drift.validate(dict(drift))
        old.load(cases)
        new.load(cases)
        settings = hub_settings(old, new)
        conf_new = new_track(settings, "land")
        assert conf_new["outbox"] == str(new.outbox)
        envs_old = read_track(enabled_adapters(settings)["land"], "old")
        envs_new = read_track(conf_new, "new")
        return envs_old, envs_new, list(new.events)


def run(store, old, new, t0, settings=None, delay=5.0):
    dt = DualTrack(store, settings or {})
    out = dt.offer_many(old, t0)
    out += dt.offer_many(new, t0 + timedelta(seconds=delay))
    out += dt.expire(t0 + timedelta(hours=2))
    return {(c.case_no, c.kind, c.sequence): (c.verdict, frozenset(d["field"] for d in c.fields)) for c in out}


def expected(old: list[dict], new_rows: list[dict], fields_of=lambda env: set(), extra_steps=False) -> dict:
    """The verdict of every old message: missing_new if the new system never wrote its row,
    else mismatch on exactly fields_of(env), else match; plus missing_old for each decision
    the new system recorded twice."""
    written = {(r["SLBH"], int(r["SXH"])) for r in new_rows if r.get("JLLX") == "BL"}
    out, last = {}, {}
    for env in old:
        key = (env["case_no"], env["kind"], env["sequence"])
        last[env["case_no"]] = max(last.get(env["case_no"], 0), env["sequence"])
        if (env["case_no"], env["sequence"]) not in written:
            out[key] = ("missing_new", frozenset())
            continue
        fields = frozenset(fields_of(env))
        out[key] = ("mismatch" if fields else "match", fields)
    if extra_steps:
        # a decision the new system wrote at all (a dropped one cannot be written twice)
        decided = {e["case_no"] for e in old if e["kind"] == "case_event" and e["payload"]["type"] == "decided"
                   and (e["case_no"], e["sequence"]) in written}
        for case in decided:
            out[(case, "case_event", last[case] + 1)] = ("missing_old", frozenset())
    return out


def _has_time(env) -> bool:
    """A step written with a time of day (a date alone, 2026年3月5日, reads as midnight)."""
    at = env["payload"].get("occurred_at") or env["payload"]["issued_at"]
    return not at[11:19] == "00:00:00"


@pytest.fixture(scope="module")
def plain():
    return both_tracks()


def test_the_new_track_is_configured_by_the_hub_the_way_the_others_are(tmp_path):
    with LandSim(port=0, seed=1) as old, LandNewSim(port=0, seed=1) as new:
        # even when the old track keeps its work folders elsewhere, the new one works in its own outbox
        settings = hub_settings(old, new, work_dir=str(tmp_path / "hub-work"))
        conf = new_track(settings, "land")
        assert (conf["outbox"], conf["inbox"], conf["work_dir"]) == (str(new.outbox), str(new.inbox), "")
        assert "admin_url" not in conf and "tracks" not in conf
        adapter = registry.create("land", conf)
        assert adapter.folders().work == new.outbox
        assert registry.create("land", enabled_adapters(settings)["land"]).folders().work == tmp_path / "hub-work"
        assert adapter.check().ok
        # the write mirror: applications for land also go to the new track's queue
        mirror = [b for b in bindings(settings) if b.destination == "land.new"]
        assert [(b.pattern, b.exchange) for b in mirror] == [("land.application.*", "tongban.commands")]
    # the project's own settings: the new copy's folders, port and admin API, apart from the old one's
    base = load_settings()
    land = base["adapters"]["land"]
    assert land["tracks"]["new"]["outbox"] != land["outbox"] and land["tracks"]["new"]["inbox"] != land["inbox"]
    assert land["tracks"]["new"]["work_dir"] == "" and land["tracks"]["new"]["admin_url"].endswith(":18094")
    assert base["sims"]["land_new_port"] == 18094
    assert load_config({}).department("land").mode == "off"   # as every department: off until someone says


def test_no_drift_is_a_hundred_percent_match(dstore, t0, plain):
    old, new, rows = plain
    kinds = {e["kind"] for e in old}
    assert kinds == {"case_event", "certificate"} and len(old) == len(new) > 3 * CASES
    out = run(dstore, old, new, t0)
    assert out == expected(old, rows)
    assert {v for v, _ in out.values()} == {"match"}


@pytest.mark.parametrize("drift, fields_of", [
    # another status code at one step: 审查 (201) written as 审批 (301)
    ({"status_code": {"field": "JDDM", "step": "201", "value": "301"}},
     lambda e: {"payload.type"} if e["kind"] == "case_event" and e["payload"]["type"] == "in_review" else set()),
    # times written in UTC without an offset: 8 hours off wherever a time of day was written
    ({"utc_times": True},
     lambda e: ({"payload.occurred_at"} if e["kind"] == "case_event" else {"payload.issued_at"})
     if _has_time(e) else set()),
    # the opinion (审核意见 SHYJ) no longer sent
    ({"drop_field": ["SHYJ"]},
     lambda e: {"payload.opinion"} if e["kind"] == "case_event" and e["payload"].get("opinion") else set()),
    # the handler's field renamed: the hub's mapping no longer finds it
    ({"rename_field": {"SHRYXM": "BLRXM"}},
     lambda e: {"payload.handler"} if e["kind"] == "case_event" else set()),
], ids=["status_code", "utc_times", "drop_field", "rename_field"])
def test_each_drift_yields_exactly_its_verdicts(dstore, t0, drift, fields_of):
    old, new, rows = both_tracks({**drift, "seed": 5})
    want = expected(old, rows, fields_of)
    assert {v for v, _ in want.values()} == {"match", "mismatch"}   # the drift shows, and not everywhere
    assert run(dstore, old, new, t0) == want


def test_missing_and_extra_events(dstore, t0):
    old, new, rows = both_tracks({"missing_rate": 0.1, "extra_rate": 1.0, "seed": 6})
    want = expected(old, rows, extra_steps=True)
    verdicts = [v for v, _ in want.values()]
    assert verdicts.count("missing_new") > 0 and verdicts.count("missing_old") > 0
    assert run(dstore, old, new, t0) == want


def test_lag_within_the_window_is_a_match(dstore, t0, plain):
    old, new, rows = plain
    assert {v for v, _ in run(dstore, old, new, t0, delay=290).values()} == {"match"}   # lag_window 300


def test_the_demo_mix_of_drifts_at_once(dstore, t0):
    drift = {"drop_field": ["SHYJ"], "utc_times": True, "missing_rate": 0.05, "extra_rate": 0.3, "seed": 13}
    old, new, rows = both_tracks(drift)

    def fields_of(e):
        out = set()
        if _has_time(e):
            out.add("payload.occurred_at" if e["kind"] == "case_event" else "payload.issued_at")
        if e["kind"] == "case_event" and e["payload"].get("opinion"):
            out.add("payload.opinion")
        return out
    got = run(dstore, old, new, t0)
    want = expected(old, rows, fields_of)
    extra = {k: v for k, v in got.items() if k not in want}
    assert extra and set(extra.values()) == {("missing_old", frozenset())}
    assert {k: v for k, v in got.items() if k in want} == want


# --- a reordered materials list (申请材料) ------------------------------------------------

def with_materials(envs: list[dict]) -> list[dict]:
    """Each case's events carry its materials list (one to five items, the same list on every step)."""
    envs = copy.deepcopy(envs)
    for e in envs:
        if e["kind"] == "case_event":
            r = random.Random(e["case_no"])
            names = r.sample(LAND_MATERIALS, r.randint(1, 5))
            e["payload"]["materials"] = [{"name": n, "required": i < 2, "provided": True, "reused_certificate": None}
                                         for i, n in enumerate(names)]
    return envs


def reordered(envs: list[dict], drift=None) -> list[dict]:
    envs = copy.deepcopy(envs)
    for e in envs:
        sim_drift.reorder_materials(e, "payload.materials", e["case_no"], drift or {"reorder_materials": True,
                                                                                   "seed": 3})
    return envs


def test_the_project_rules_declare_the_materials_list_unordered_by_name():
    assert load_config({}).department("land").rules("case_event").unordered.get("payload.materials") == "name"


def test_a_reordered_materials_list_matches_under_the_unordered_rule(dstore, t0, plain):
    old, new, _ = plain
    old, new = with_materials(old), reordered(with_materials(new))
    moved = sum(1 for o, n in zip(old, new) if o["payload"].get("materials") != n["payload"].get("materials"))
    assert moved > CASES, "the drift reordered nothing"
    assert {v for v, _ in run(dstore, old, new, t0).values()} == {"match"}


def test_a_reordered_materials_list_is_a_mismatch_without_the_rule(dstore, t0, tmp_path, plain):
    text = (ROOT / "config" / "dualtrack.yaml").read_text(encoding="utf-8")
    rule = '  "*":\n    unordered:\n      payload.materials: name\n'
    assert rule in text
    (tmp_path / "dualtrack.yaml").write_text(text.replace(rule, '  "*":\n'), encoding="utf-8")
    settings = {"dualtrack_file": str(tmp_path / "dualtrack.yaml")}
    assert load_config(settings).department("land").rules("case_event").unordered.get("payload.materials") is None
    old, new, _ = plain
    old, new = with_materials(old), reordered(with_materials(new))
    want = {}
    for o, n in zip(old, new):
        a, b = o["payload"].get("materials") or [], n["payload"].get("materials") or []
        differ = {f"payload.materials.{k}" for x, y in zip(a, b) for k in x if x[k] != y[k]}
        want[(o["case_no"], o["kind"], o["sequence"])] = ("mismatch" if differ else "match", frozenset(differ))
    got = run(dstore, old, new, t0, settings)
    assert got == want
    # a list of one has no other order: those cases match even without the rule
    assert any(got[(o["case_no"], o["kind"], o["sequence"])][0] == "match"
               for o in old if len(o["payload"].get("materials") or []) == 1)
    assert sum(1 for v, f in got.values() if v == "mismatch" and "payload.materials.name" in f) > CASES
