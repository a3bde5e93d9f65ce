"""Envelopes built the way the hub builds them: CaseFactory records through the commerce
mappings, each track from its own copy of the legacy rows, with drift injected into the
new copy."""
from __future__ import annotations

import copy
import random
import textwrap
from pathlib import Path

from hub.mapping import MappingSet
from sims.commerce_data import CaseFactory

SYSTEM = "commerce-registry"
_MAPPINGS = MappingSet.load(Path(__file__).resolve().parents[2] / "mappings")

RULES_YAML = """
lag_window: 300
refresh_seconds: 0
readiness: {window_days: 7, min_match_rate: 0.999, min_pairs: 10, max_unadjudicated_critical: 0, max_missing: 0}
rules:
  "*":
    unordered: {payload.materials: name}
    critical: [payload.type, payload.case_no, payload.applicant.id_number]
departments:
  commerce: {mode: shadow}
"""


def write_rules(tmp_path: Path, text: str = RULES_YAML) -> dict:
    """Hub settings whose dual-track file is ``text``."""
    path = tmp_path / "dualtrack.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return {"dualtrack_file": str(path)}


def make_records(n: int, seed: int = 11) -> list[list[dict]]:
    """n cases, each a list of its legacy feed rows (as the server stamps them). eventTime
    is written in one format so that the UTC drift below is the only change in it."""
    factory = CaseFactory(random.Random(seed))
    cases, event_id = [], 500_000
    for _ in range(n):
        _, events = factory.case()
        rows = []
        for e in events:
            event_id += 1
            at = e.pop("_at")
            rows.append({"eventId": event_id, **e, "eventTime": at.strftime("%Y-%m-%d %H:%M:%S"),
                         "updatedAt": at.isoformat(timespec="microseconds"), "_at": at})
        cases.append(rows)
    return cases


def to_envelopes(rows: list[dict], track: str) -> list[dict]:
    out = []
    for row in rows:
        record = {k: v for k, v in row.items() if k != "_at"}
        out += [e.model_dump(mode="json") for e in _MAPPINGS.apply(SYSTEM, record, track=track)]
    return out


def new_copy(rows: list[dict]) -> list[dict]:
    """The new system's copy of the rows: its own event ids (a separate database)."""
    rows = copy.deepcopy(rows)
    for r in rows:
        r["eventId"] += 9_000_000
    return rows


def both_tracks(cases: list[list[dict]], drift_record=None, drift_envelopes=None) -> tuple[list, list]:
    """(old envelopes, new envelopes); ``drift_record(row)`` changes a new-track legacy row
    before mapping, ``drift_envelopes(list)`` the new track's canonical output."""
    old, new = [], []
    for rows in cases:
        old += to_envelopes(rows, "old")
        n_rows = new_copy(rows)
        if drift_record:
            for r in n_rows:
                drift_record(r)
        envs = to_envelopes(n_rows, "new")
        new += drift_envelopes(envs) if drift_envelopes else envs
    return old, new




def read_track(adapter: str, system: str, conf: dict, track: str, mappings: MappingSet = _MAPPINGS) -> list[dict]:
    """Every canonical envelope the hub's own source of ``adapter`` and the mappings make of
    one track's system, read to the end (each page acknowledged, as the source worker does)."""
    from hub.adapter import registry
    source = registry.create(adapter, conf).source()
    cursor, out = None, []
    try:
        while True:
            page = source.fetch(cursor, 500)
            for rec in page.records:
                assert rec.error is None, rec.error
                out += [e.model_dump(mode="json") for e in mappings.apply(system, rec.data, track=track)]
            source.acknowledge(page, {})
            cursor = page.cursor
            if not page.records and not page.has_more:
                return out
    finally:
        source.close()
