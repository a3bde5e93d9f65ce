"""The report fed by the hub's own flow (hub/report/feed.py): the commerce simulator's case events,
mapped by the shipped mappings, folded page by page in the same store transaction as their
message log rows, on SQLite and PostgreSQL; the item side from the catalogue simulator's items
through the catalogue mapping. Each figure is recounted here from what the simulator made."""
from __future__ import annotations

import logging
import random
from datetime import timedelta

import pytest

from hub.mapping import MappingSet
from hub.model.common import SHANGHAI
from hub.report import build_report
from hub.report.facts import add_working_days
from hub.report.feed import CaseFeed, event_fact, fold
from hub.runtime.outbound import log_row
from hub.store import Store
from sims import catalogue_data
from sims.case_facts import case_facts
from sims.commerce_data import CaseFactory
from tests.conftest import ROOT

MAPPINGS = MappingSet.load(ROOT / "mappings")


def synced_catalogue() -> list[dict]:
    """What `tongban catalog sync` stores: the simulator's items through mappings/catalogue."""
    return [MAPPINGS.apply("province-catalogue", raw)[0].payload.model_dump(mode="json")
            for raw in catalogue_data.items()]


def commerce_cases(n: int, seed: int = 5):
    f = CaseFactory(random.Random(seed))
    out = []
    for i in range(n):
        case, events = f.case()
        for j, e in enumerate(events):
            e.pop("_at")
            e.update(eventId=i * 10 + j + 1, updatedAt=f"2026-03-20T10:00:{j:02d}.000000")
        out.append((case, events))
    return out


def envelopes_of(events):
    """Every envelope the records make (发照 makes a certificate beside its case event)."""
    return [env for e in events for env in MAPPINGS.apply("commerce-registry", e)]


def steps_of(events):
    return [env for env in envelopes_of(events) if env.kind == "case_event"]


@pytest.fixture
def store(store_url):
    url, kwargs = store_url
    s = Store.open(url, engine_kwargs=kwargs)
    s.save_catalogue(synced_catalogue())
    yield s
    s.close()


def feed_pages(store, envelopes, page: int = 25):
    feed = CaseFeed(store)
    for i in range(0, len(envelopes), page):
        part = envelopes[i:i + page]
        with store.unit():   # as the source worker commits a page
            store.log_messages([log_row(e, "commerce", "commerce-registry", "old") for e in part])
            feed(part)


def test_the_catalogue_mapping_carries_the_item_attributes():
    items = {i["catalogue_code"]: i for i in synced_catalogue()}
    land_title = items["000116003000"]
    assert land_title["in_hall"] is False and land_title["approval_exception"] is True
    assert land_title["materials"] == catalogue_data.item_materials("land", "000116003000")
    assert {i["category"] for i in items.values()} == {"licensing", "confirmation"}
    assert all(i["level"] == "city" and 0 <= i["online_depth"] <= 4 for i in items.values())


def test_an_events_order_does_not_change_its_cases_row():
    _, events = commerce_cases(1)[0]
    facts = [event_fact(env.payload) for env in steps_of(events)]
    row_in_order, row_reversed = None, None
    for ev in facts:
        row_in_order = fold(row_in_order, ev)
    for ev in reversed(facts):
        row_reversed = fold(row_reversed, ev)
    assert row_in_order == row_reversed
    assert row_in_order["status"] == "certificate_issued" and row_in_order["last_sequence"] == 3
    assert row_in_order["completed_at"] == facts[2]["occurred_at"]           # 发照 ends a commerce case
    withdrawn = dict(facts[1], type="withdrawn", sequence=2)
    assert fold(fold(None, withdrawn), facts[2])["status"] == "withdrawn"    # a later step does not undo it


def test_a_step_that_says_nothing_leaves_the_facts_unknown():
    _, events = commerce_cases(1)[0]
    second = event_fact(steps_of(events[1:2])[0].payload)
    row = fold(None, second)
    assert row["channel"] is None and row["one_window"] is None and row["materials_required"] == 0
    assert row["visits"] == second["visits"]   # commerce says the visits at every step
    assert fold(None, dict(second, visits=None))["visits"] is None


def test_the_flow_feeds_the_report_and_each_figure_recounts(store):
    cases = commerce_cases(80)
    feed_pages(store, envelopes_of([e for _, evs in cases for e in evs]))
    assert store.supervision_case_count() == 80
    items = {i["catalogue_code"]: i for i in synced_catalogue()}
    month = "2026-03"
    one_visit, materials, window, overdue = [0, 0], [0, 0], [0, 0], [0, 0]
    for case, evs in cases:
        accepted = evs[0]["eventTime"]
        env = steps_of(evs[:1])[0].payload
        f = case_facts(case["applyNo"], "commerce", case["itemCode"], env.occurred_at.replace(tzinfo=None))
        completed = steps_of(evs[2:3])[0].payload.occurred_at
        assert accepted and completed.astimezone(SHANGHAI).strftime("%Y-%m") == month
        one_visit[0] += f.visits <= 1
        one_visit[1] += 1
        materials[0] += sum(1 for m in f.materials if not m["provided"])
        materials[1] += len(f.materials)
        if f.channel == "window":
            window[0] += bool(f.one_window)
            window[1] += 1
        due = add_working_days(env.occurred_at, items[case["itemCode"]]["promised_days"])
        if due.astimezone(SHANGHAI).strftime("%Y-%m") == month:
            overdue[0] += completed > due
            overdue[1] += 1
    r = build_report(store, month)
    got = {f["key"]: f for f in r["figures"]}
    nd = lambda line: [line["numerator"], line["denominator"]]   # noqa: E731
    assert nd(got["one_visit"]["overall"]) == one_visit and one_visit[1] == 80
    assert nd(got["materials"]["overall"]) == materials and 0 < materials[0] < materials[1]
    assert nd(got["one_window"]["overall"]) == window and window[1] > 0
    assert nd(r["overdue"]["by_department"][0]) == overdue
    # the item side is the synced catalogue: 进驻大厅 10 of 12 items (land's exception counts while
    # the target is below 100 %)
    assert nd(got["in_hall"]["overall"]) == [10, 12]


def test_a_page_read_again_folds_to_the_same_rows(store):
    envs = envelopes_of([e for _, evs in commerce_cases(10) for e in evs])
    feed_pages(store, envs)
    before = build_report(store, "2026-03")["figures"]
    CaseFeed(store)(envs)      # a crash before the checkpoint: the page comes again
    after = build_report(store, "2026-03")["figures"]
    assert [f["overall"] for f in before] == [f["overall"] for f in after]
    assert store.supervision_case_count() == 10


def test_a_failing_fold_is_taken_back_alone_and_the_page_still_commits(store, caplog):
    envs = envelopes_of([e for _, evs in commerce_cases(2) for e in evs])
    feed = CaseFeed(store)
    feed._days = {"x": None}
    feed._loaded_at = float("inf")                 # no catalogue read: the broken row below is the fault
    real = store.merge_case_facts

    def broken(case_nos, merge):
        return real(case_nos, lambda stored: [dict(r, item_code=None) for r in merge(stored)])   # NOT NULL

    store.merge_case_facts = broken
    with caplog.at_level(logging.ERROR, logger="tongban.report.feed"):
        with store.unit():
            store.log_messages([log_row(e, "commerce", "commerce-registry", "old") for e in envs])
            assert feed(envs) == 0
    assert "not folded into the report" in caplog.text
    assert store.logged_ids([str(e.message_id) for e in envs]) == {str(e.message_id) for e in envs}
    assert store.supervision_case_count() == 0
