"""The matcher fed both tracks' canonical envelopes, with each kind of drift injected into
the new track: exactly the expected verdicts and fields, nothing else; on SQLite and
PostgreSQL."""
from __future__ import annotations

import copy
import random
from collections import Counter
from datetime import timedelta

import pytest

from hub.dualtrack import DualTrack

from dt_data import RULES_YAML, both_tracks, make_records, write_rules

CASES = 5   # each: case_event 1, 2, 3 and the certificate of step 3
MATERIALS = [{"name": n, "required": True, "provided": True, "reused_certificate": None}
             for n in ("公司章程", "设立登记申请书", "住所证明", "股东身份证明")]


@pytest.fixture(scope="module")
def cases():
    return make_records(CASES)


def run(store, settings, old, new, t0, delay=5.0):
    dt = DualTrack(store, settings)
    out = []
    for e in old:
        out += dt.offer(e, t0)
    for e in new:
        out += dt.offer(e, t0 + timedelta(seconds=delay))
    out += dt.expire(t0 + timedelta(hours=2))
    return out


def tally(comparisons) -> Counter:
    return Counter((c.verdict, c.kind, c.sequence, frozenset(d["field"] for d in c.fields)) for c in comparisons)


def all_match(n=CASES, but=()) -> Counter:
    expected = Counter({("match", "case_event", s, frozenset()): n for s in (1, 2, 3)})
    expected[("match", "certificate", 3, frozenset())] = n
    for key in but:
        del expected[key]
    return expected


def stored(store) -> Counter:
    return Counter((r["verdict"], r["kind"], r["sequence"], frozenset(d["field"] for d in r["fields"] or []))
                   for r in store.dualtrack_comparisons())


def test_no_drift_is_a_hundred_percent_match_in_any_order(dstore, dt_settings, cases, t0):
    old, new = both_tracks(cases)
    mixed = old + new
    random.Random(3).shuffle(mixed)
    dt = DualTrack(dstore, dt_settings)
    out, i = [], 0
    while i < len(mixed):   # batches of any size, tracks interleaved
        n = random.Random(i).randint(1, 7)
        out += dt.offer_many(mixed[i:i + n], t0 + timedelta(seconds=i))
        i += n
    out += dt.expire(t0 + timedelta(hours=2))
    assert tally(out) == all_match()
    assert stored(dstore) == all_match()
    assert dstore.dualtrack_waiting() == []


def test_a_different_status_code_for_one_step(dstore, dt_settings, cases, t0):
    def drift(envs):
        for e in envs:
            if e["kind"] == "case_event" and e["sequence"] == 2:
                e["payload"]["type"] = "in_review"
        return envs
    out = run(dstore, dt_settings, *both_tracks(cases, drift_envelopes=drift), t0)
    expected = all_match(but=[("match", "case_event", 2, frozenset())])
    expected[("mismatch", "case_event", 2, frozenset({"payload.type"}))] = CASES
    assert tally(out) == expected
    diff = next(c for c in out if c.verdict == "mismatch").fields[0]
    assert (diff["old"], diff["new"]) == ("decided", "in_review")


def _utc(row):
    row["eventTime"] = (row["_at"] - timedelta(hours=8)).strftime("%Y-%m-%d %H:%M:%S")


def test_timestamps_written_in_utc_are_a_real_difference(dstore, dt_settings, cases, t0):
    # The new system writes UTC wall-clock times with no offset; the mapping (rightly)
    # reads legacy times as Asia/Shanghai, so the instants are 8 hours apart: reported.
    out = run(dstore, dt_settings, *both_tracks(cases, drift_record=_utc), t0)
    assert tally(out) == Counter({("mismatch", "case_event", s, frozenset({"payload.occurred_at"})): CASES
                                  for s in (1, 2, 3)} | {("mismatch", "certificate", 3,
                                                          frozenset({"payload.issued_at"})): CASES})
    d = out[0].fields[0]
    assert d["old"].endswith("+08:00") and d["new"].endswith("+08:00") and d["old"] != d["new"]


def test_timestamps_in_utc_match_when_a_wall_clock_rule_says_so(dstore, tmp_path, cases, t0):
    settings = write_rules(tmp_path, RULES_YAML + """
    commerce:
      mode: shadow
      rules:
        "*":
          wall_clock:
            payload.occurred_at: {track: new, zone: UTC}
            payload.issued_at: {track: new, zone: UTC}
""".replace("\n    ", "\n  ").replace("departments:\n  commerce: {mode: shadow}\n", "departments:"))
    out = run(dstore, settings, *both_tracks(cases, drift_record=_utc), t0)
    assert tally(out) == all_match()


def test_a_renamed_source_field(dstore, dt_settings, cases, t0):
    def drift(row):
        row["handlerName"] = row.pop("operator")   # the mapping still reads "operator"
    out = run(dstore, dt_settings, *both_tracks(cases, drift_record=drift), t0)
    expected = Counter({("mismatch", "case_event", s, frozenset({"payload.handler"})): CASES for s in (1, 2, 3)})
    expected[("match", "certificate", 3, frozenset())] = CASES
    assert tally(out) == expected
    d = out[0].fields[0]
    assert d["new"] is None and d["old"].endswith("*") and "absent" not in d


def test_a_renamed_canonical_attribute(dstore, dt_settings, cases, t0):
    def drift(envs):
        for e in envs:
            if e["kind"] == "case_event":
                e["payload"]["attributes"]["address"] = e["payload"]["attributes"].pop("domicile")
        return envs
    out = run(dstore, dt_settings, *both_tracks(cases, drift_envelopes=drift), t0)
    both = frozenset({"payload.attributes.domicile", "payload.attributes.address"})
    expected = Counter({("mismatch", "case_event", s, both): CASES for s in (1, 2, 3)})
    expected[("match", "certificate", 3, frozenset())] = CASES
    assert tally(out) == expected


def test_a_dropped_field(dstore, dt_settings, cases, t0):
    out = run(dstore, dt_settings, *both_tracks(cases, drift_record=lambda r: r.pop("opinion")), t0)
    expected = Counter({("mismatch", "case_event", s, frozenset({"payload.opinion"})): CASES for s in (1, 2, 3)})
    expected[("match", "certificate", 3, frozenset())] = CASES
    assert tally(out) == expected


def test_lag_within_the_window_is_a_match(dstore, dt_settings, cases, t0):
    out = run(dstore, dt_settings, *both_tracks(cases), t0, delay=290)
    assert tally(out) == all_match()
    assert {c.lag_seconds for c in out} == {290.0}


def test_lag_beyond_the_window_is_missing_and_the_late_twin_is_noted(dstore, dt_settings, cases, t0):
    old, new = both_tracks(cases)
    dt = DualTrack(dstore, dt_settings)
    out = []
    for e in old:
        out += dt.offer(e, t0)
    assert dt.expire(t0 + timedelta(seconds=299)) == []
    out += dt.expire(t0 + timedelta(seconds=301))
    for e in new:
        out += dt.offer(e, t0 + timedelta(seconds=400))
    out += dt.expire(t0 + timedelta(hours=2))
    expected = Counter({("missing_new", "case_event", s, frozenset()): CASES for s in (1, 2, 3)})
    expected[("missing_new", "certificate", 3, frozenset())] = CASES
    assert tally(out) == expected and stored(dstore) == expected
    rows = dstore.dualtrack_comparisons()
    assert {r["lag_seconds"] for r in rows} == {400.0}
    assert all(r["new_message_id"] and r["new_summary"]["step"] for r in rows)


def test_a_missing_event(dstore, dt_settings, cases, t0):
    drop = lambda envs: [e for e in envs if not (e["kind"] == "case_event" and e["sequence"] == 2)]  # noqa: E731
    out = run(dstore, dt_settings, *both_tracks(cases, drift_envelopes=drop), t0)
    expected = all_match(but=[("match", "case_event", 2, frozenset())])
    expected[("missing_new", "case_event", 2, frozenset())] = CASES
    assert tally(out) == expected


def test_an_extra_event(dstore, dt_settings, cases, t0):
    def extra(envs):
        last = copy.deepcopy(next(e for e in envs if e["kind"] == "case_event" and e["sequence"] == 3))
        last["sequence"] = last["payload"]["sequence"] = 4
        last["payload"]["type"] = "completed"
        last["message_id"] = last["message_id"][:-4] + "beef"
        return envs + [last]
    out = run(dstore, dt_settings, *both_tracks(cases, drift_envelopes=extra), t0)
    expected = all_match()
    expected[("missing_old", "case_event", 4, frozenset())] = CASES
    assert tally(out) == expected


def _with_materials(reverse: bool):
    def add(envs):
        for e in envs:
            if e["kind"] == "case_event":
                e["payload"]["materials"] = copy.deepcopy(MATERIALS[::-1] if reverse else MATERIALS)
        return envs
    return add


def test_a_reordered_materials_list_matches_when_unordered_by_key(dstore, dt_settings, cases, t0):
    old, new = both_tracks(cases, drift_envelopes=_with_materials(True))
    _with_materials(False)(old)
    assert tally(run(dstore, dt_settings, old, new, t0)) == all_match()


def test_a_reordered_materials_list_differs_without_the_rule(dstore, tmp_path, cases, t0):
    settings = write_rules(tmp_path, RULES_YAML.replace("unordered: {payload.materials: name}", "ignore: []"))
    old, new = both_tracks(cases, drift_envelopes=_with_materials(True))
    _with_materials(False)(old)
    expected = Counter({("mismatch", "case_event", s, frozenset({"payload.materials.name"})): CASES
                        for s in (1, 2, 3)})
    expected[("match", "certificate", 3, frozenset())] = CASES
    assert tally(run(dstore, settings, old, new, t0)) == expected


def test_the_new_track_may_come_first(dstore, dt_settings, cases, t0):
    old, new = both_tracks(cases)
    out = run(dstore, dt_settings, new, old, t0, delay=30)   # "new" offered at t0, old 30 s later
    assert tally(out) == all_match()
    assert {c.lag_seconds for c in out} == {-30.0}
