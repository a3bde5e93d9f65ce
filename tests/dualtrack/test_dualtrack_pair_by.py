"""pair_by (config/dualtrack.yaml, per department): the matcher pairs twins by step
(``sequence``) or by the key of the source record both tracks copied (``record_key``), for a
department whose step numbers the reader counts (housing's BLXH). Commerce envelopes as the
hub makes them, the new track keeping the old rows' keys, one step left out or one added
in the middle, the later steps renumbered as such a reader would; on SQLite and PostgreSQL."""
from __future__ import annotations

import json
import zlib
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from hub.cli.main import main
from hub.dualtrack import DualTrack
from hub.dualtrack.matcher import pair_slot
from hub.store import Store

from dt_data import RULES_YAML, both_tracks, make_records, write_rules

CASES = 4   # each: case_event 1, 2, 3 and the certificate of step 3 (same record as event 3)


def rules(pair_by: str) -> str:
    return RULES_YAML.replace("commerce: {mode: shadow}", f"commerce: {{mode: shadow, pair_by: {pair_by}}}")


@pytest.fixture(scope="module")
def cases():
    return make_records(CASES, seed=23)


def _same_keys(row):
    row["eventId"] -= 9_000_000   # the new copy keeps the old rows' keys (dt_data gives it its own)


def _renumber(envs, drop=None, extra_after=None):
    """The new track as a reader counting a case's rows makes it: step ``drop`` never written,
    or a copy of step ``extra_after`` written right after it (a key of its own); later steps
    (and the certificate, which takes its event's step) move."""
    out = []
    for e in envs:
        seq = e["sequence"]
        if e["kind"] == "case_event" and seq == drop:
            continue
        if drop is not None and seq > drop:
            _set_seq(e, seq - 1)
        if extra_after is not None and seq > extra_after:
            _set_seq(e, seq + 1)
        out.append(e)
        if extra_after is not None and e["kind"] == "case_event" and seq == extra_after:
            again = json.loads(json.dumps(e))
            again["record_key"] += "-again"
            again["message_id"] = again["message_id"][:-4] + "beef"
            _set_seq(again, seq + 1)
            out.append(again)
    return out


def _set_seq(e, seq):
    e["sequence"] = seq
    if "sequence" in e["payload"]:
        e["payload"]["sequence"] = seq


def run(store, settings, old, new, t0, delay=5.0):
    dt = DualTrack(store, settings)
    out = dt.offer_many(old, t0)
    out += dt.offer_many(new, t0 + timedelta(seconds=delay))
    out += dt.expire(t0 + timedelta(hours=2))
    return out


def tally(comparisons) -> Counter:
    return Counter((c.verdict, c.kind, c.sequence, frozenset(d["field"] for d in c.fields)) for c in comparisons)


def test_by_record_key_a_step_left_out_is_one_missing_new_and_the_rest_pair(dstore, tmp_path, cases, t0):
    old, new = both_tracks(cases, _same_keys, lambda envs: _renumber(envs, drop=2))
    assert {e["sequence"] for e in new if e["kind"] == "certificate"} == {2}   # renumbered on the new track
    out = run(dstore, write_rules(tmp_path, rules("record_key")), old, new, t0)
    want = Counter({("match", "case_event", 1, frozenset()): CASES,
                    ("missing_new", "case_event", 2, frozenset()): CASES,
                    ("match", "case_event", 3, frozenset()): CASES, ("match", "certificate", 3, frozenset()): CASES})
    assert tally(out) == want
    # stored as decided, with the real step numbers: the old track's, the new track's in its summary
    rows = dstore.dualtrack_comparisons()
    assert Counter((r["verdict"], r["kind"], r["sequence"]) for r in rows) == \
        Counter({k[:3]: n for k, n in want.items()})
    moved = [r for r in rows if r["verdict"] == "match" and r["sequence"] == 3]
    assert len(moved) == 2 * CASES
    assert {(r["old_summary"]["sequence"], r["new_summary"]["sequence"]) for r in moved} == {(3, 2)}
    assert all(r["old_summary"]["sequence"] == 2 and r["new_summary"] is None
               for r in rows if r["verdict"] == "missing_new")


def test_by_sequence_the_same_drift_cascades(dstore, tmp_path, cases, t0):
    # What pair_by: record_key is for: paired by step, every step after the gap meets the wrong twin.
    old, new = both_tracks(cases, _same_keys, lambda envs: _renumber(envs, drop=2))
    out = run(dstore, write_rules(tmp_path, rules("sequence")), old, new, t0)
    tallied = tally(out)
    assert tallied[("match", "case_event", 1, frozenset())] == CASES
    assert sum(n for (v, k, s, f), n in tallied.items() if v == "mismatch" and s == 2 and "payload.type" in f) == CASES
    assert tallied[("missing_new", "case_event", 3, frozenset())] == CASES
    assert tallied[("missing_new", "certificate", 3, frozenset())] == CASES
    assert tallied[("missing_old", "certificate", 2, frozenset())] == CASES


def test_by_record_key_a_step_written_twice_is_one_missing_old(dstore, tmp_path, cases, t0):
    old, new = both_tracks(cases, _same_keys, lambda envs: _renumber(envs, extra_after=2))
    out = run(dstore, write_rules(tmp_path, rules("record_key")), old, new, t0)
    want = Counter({("match", "case_event", s, frozenset()): CASES for s in (1, 2, 3)})
    want[("match", "certificate", 3, frozenset())] = CASES
    want[("missing_old", "case_event", 3, frozenset())] = CASES     # the copy, at the step the new track gave it
    assert tally(out) == want
    extra = [c for c in out if c.verdict == "missing_old"]
    assert all(c.new_summary["sequence"] == 3 and c.new_summary["step"] == "decided" for c in extra)


def test_by_record_key_the_step_number_is_not_compared_but_the_rest_is(dstore, tmp_path, cases, t0):
    def drift(envs):
        envs = _renumber(envs, drop=2)
        for e in envs:
            if e["kind"] == "case_event" and e["sequence"] == 1:
                e["payload"]["type"] = "in_review"
        return envs
    old, new = both_tracks(cases, _same_keys, drift)
    out = run(dstore, write_rules(tmp_path, rules("record_key")), old, new, t0)
    fields = {d["field"] for c in out for d in c.fields}
    assert fields == {"payload.type"}
    assert Counter(c.verdict for c in out) == Counter({"mismatch": CASES, "match": 2 * CASES, "missing_new": CASES})


def test_other_record_keys_never_pair(dstore, tmp_path, cases, t0):
    # The setting's premise: both tracks carry the same key. dt_data's new copy has keys of its own.
    old, new = both_tracks(cases)
    out = run(dstore, write_rules(tmp_path, rules("record_key")), old, new, t0)
    assert Counter(c.verdict for c in out) == Counter({"missing_new": 4 * CASES, "missing_old": 4 * CASES})


def test_per_mapping_the_named_mapping_pairs_by_step(dstore, tmp_path, cases, t0):
    # {"*": record_key, commerce.case_event: sequence}: events by step, certificates by key
    settings = write_rules(tmp_path, rules('{"*": record_key, commerce.case_event: sequence}'))
    old, new = both_tracks(cases)   # new keys of its own: only what pairs by step can meet its twin
    tallied = tally(run(dstore, settings, old, new, t0))
    assert tallied == Counter({("match", "case_event", 1, frozenset()): CASES,
                               ("match", "case_event", 2, frozenset()): CASES,
                               ("match", "case_event", 3, frozenset()): CASES,
                               ("missing_new", "certificate", 3, frozenset()): CASES,
                               ("missing_old", "certificate", 3, frozenset()): CASES})


def test_the_twin_key_holds_a_negative_hash_and_a_late_twin_is_noted(dstore, tmp_path, cases, t0):
    settings = write_rules(tmp_path, rules("record_key"))
    old, new = both_tracks(cases, _same_keys, lambda envs: _renumber(envs, drop=2))
    dt = DualTrack(dstore, settings)
    assert dt.offer_many(old, t0) == []
    waiting = dstore.dualtrack_waiting()
    assert {w["sequence"] for w in waiting} == {pair_slot(e["record_key"]) for e in old}
    assert all(-2**31 <= w["sequence"] < 0 for w in waiting)
    out = dt.expire(t0 + timedelta(seconds=301))
    assert Counter((c.verdict, c.kind, c.sequence) for c in out) == Counter(
        {("missing_new", "case_event", s): CASES for s in (1, 2, 3)} | {("missing_new", "certificate", 3): CASES})
    assert dt.offer_many(new, t0 + timedelta(seconds=400)) == []
    rows = dstore.dualtrack_comparisons()
    late = [r for r in rows if r["new_message_id"]]
    assert len(late) == 3 * CASES and {r["lag_seconds"] for r in late} == {400.0}
    # each found its own comparison, though the new track numbers it otherwise
    assert {(r["sequence"], r["new_summary"]["sequence"]) for r in late if r["kind"] == "case_event"} == \
        {(1, 1), (3, 2)}
    assert all(r["new_message_id"] is None for r in rows if r["sequence"] == 2)


def test_a_re_run_renumbered_by_the_reader_is_not_noise(dstore, tmp_path, cases, t0):
    settings = write_rules(tmp_path, rules("record_key"))
    old, new = both_tracks(cases, _same_keys)
    dt = DualTrack(dstore, settings)
    dt.offer_many(old, t0)
    again = json.loads(json.dumps([e for e in old if e["sequence"] == 3]))
    for e in again:
        _set_seq(e, 4)      # a row inserted late before it: the reader counts it one further
    assert dt.offer_many(again, t0 + timedelta(seconds=1)) == []
    assert dstore.dualtrack_noise() == []
    want = Counter({("match", "case_event", s, frozenset()): CASES for s in (1, 2, 4)})
    want[("match", "certificate", 4, frozenset())] = CASES   # shown at the old track's latest count
    assert tally(dt.offer_many(new, t0 + timedelta(seconds=2))) == want


def test_pair_slot_is_stable_and_never_a_step_number():
    assert pair_slot("abc") == -1 - (zlib.crc32(b"abc") & 0x7FFFFFFF) == -891568579
    keys = [f"{n:032x}" for n in range(20_000)]
    slots = [pair_slot(k) for k in keys]
    assert all(-2**31 <= s <= -1 for s in slots) and len(set(slots)) == len(keys)
    assert pair_slot("地方数据主键-1") == pair_slot("地方数据主键-1") != pair_slot("地方数据主键-2")


def test_the_timeline_shows_step_numbers_not_the_hash(tmp_path, monkeypatch, capsys, cases):
    db = f"sqlite:///{tmp_path / 'hub.db'}"
    monkeypatch.setenv("TONGBAN_DB_URL", db)
    settings = write_rules(tmp_path, rules("record_key"))
    monkeypatch.setenv("TONGBAN__DUALTRACK_FILE", settings["dualtrack_file"])
    old, new = both_tracks(cases, _same_keys, lambda envs: _renumber(envs, drop=2))
    case_no = old[0]["case_no"]
    now = datetime.now(timezone.utc) - timedelta(minutes=1)
    with Store.open(db) as store:
        dt = DualTrack(store, settings)
        dt.offer_many(old, now)
        dt.offer_many(new, now + timedelta(seconds=3))   # step 2 still waiting for its twin
    assert main(["dualtrack", "timeline", case_no, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["sequence"], r["kind"], r["verdict"]) for r in rows] == [
        (1, "case_event", "match"), (2, "case_event", "waiting"), (3, "case_event", "match"),
        (3, "certificate", "match")]
    assert main(["dualtrack", "timeline", case_no]) == 0
    lines = capsys.readouterr().out.splitlines()
    step3 = next(x for x in lines if x.startswith("3   case_event"))
    assert step3.count("#2 ") == 1 and "certificate_issued" in step3       # the new track's own number
    step2 = next(x for x in lines if x.startswith("2   case_event"))
    assert "#" not in step2 and "deadline" in step2
    assert not any(x.startswith("-") for x in lines)
