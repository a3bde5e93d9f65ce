"""Pages the legacy system cannot serve readably (hub/runtime/unreadable.py): a record the system
cannot write out (an unescaped quote or control character, a body cut off inside it, a change
the schema refuses) spoils every page holding it. Through the real adapters' sources, a real
SourceWorker per poll (as the supervisor rebuilds one after every SourceUnavailable) and the
test broker, against feeds served in-process that honour the cursor and the page size
(fakes.Feed):

- the good records before the poisoned one flow: the page is asked for again in halves;
- a page of one that stays unreadable for `unreadable_attempts` polls is dead-lettered once, at
  stage fetch, with the answer as received (bytes) and a reason naming the system, the cursor
  and what is wrong;
- the platform (dense seq) and ndrc (a broken answer that still names its changeId and
  updateTime) step past it and the rest flows; commerce cannot (its position is inside the
  record) and holds the feed, visibly, until the system serves it;
- blips, gateway HTML pages and HTTP 5xx are plain outages: no shrinking past them, no dead letter."""
from __future__ import annotations

import base64
import itertools

import pytest
from hypothesis import given, settings as examples, strategies as st

from adapters.commerce import CommerceAdapter
from adapters.ndrc import NdrcAdapter
from adapters.platform import PlatformAdapter
from hub.store.dead_letters import PAYLOAD_ENCODING_HEADER
from tests.badinput.fakes import (Cut, commerce_feed, commerce_pool, mount, ndrc_feed, ndrc_pool, no_retry,
                                  platform_feed, platform_pool, wire)
from tests.badinput.harness import BI, check

COMMERCE = commerce_pool(6, seed=21)[:12]
PLATFORM = platform_pool(16, seed=22)
NDRC = [r for r in ndrc_pool(4, seed=23)][:12]
POISONS = {"quote": b'a"b', "control": b"\x01", "nul": b"\x00", "cut": Cut("杭州".encode("utf-8")[:4])}
_names = itertools.count()


def fresh(prefix: str) -> str:
    return f"bi-pages-{prefix}-{next(_names)}"


class Run:
    """Polls one source name again and again, each time with a source built afresh (as the
    supervisor rebuilds it), and keeps what each poll did."""

    def __init__(self, pipeline, make_source, *, system: str, department: str, name: str, page_size: int = 200):
        self.pipeline, self.make_source, self.page_size = pipeline, make_source, page_size
        self.system, self.department, self.name = system, department, name
        self.outs = []

    def poll(self, times: int = 1):
        for _ in range(times):
            out = self.pipeline.poll(self.make_source(), system=self.system, department=self.department,
                                     name=self.name, page_size=self.page_size)
            check(out, names_of=lambda rec: {rec.key})
            self.outs.append(out)
        return self.outs[-1]

    def keys(self, field: str) -> list:
        """The records processed (published), in the order they flowed."""
        return [r.data[field] for out in self.outs for r in out.records if out.processed(r)]

    def dead(self, stage: str = "fetch") -> list[dict]:
        return [row for out in self.outs for row in out.dead if row["stage"] == stage]


def payload_bytes(row: dict) -> bytes:
    """A dead letter's payload as bytes, from the recorder's row or the store's (base64 there when
    the bytes are not text a column can hold)."""
    p = row["payload"]
    if (row.get("headers") or {}).get(PAYLOAD_ENCODING_HEADER) == "base64":
        return base64.b64decode(p)
    return p if isinstance(p, bytes) else p.encode("utf-8")


def assert_kept(row: dict, served: bytes, bi_store) -> None:
    assert payload_bytes(row) == served, "the dead letter does not hold the answer as received"
    stored = bi_store.get_dead_letter(row["id"])
    assert stored is not None and stored["stage"] == "fetch"
    assert payload_bytes(stored) == served


# --- commerce: the position after a poisoned record is inside it: held, visibly --------------------
def commerce_source(feed):
    def make():
        source = no_retry(CommerceAdapter({"url": "http://pages-commerce.test"}).source())
        mount(source.session, "http://pages-commerce.test/", feed)
        return source
    return make


@pytest.mark.parametrize("kind", ["quote", "control", "cut"])
def test_commerce_the_records_before_a_poisoned_one_flow_then_the_feed_is_held_with_one_fetch_dead_letter(
        kind, pipeline, bi_store, logs):
    bad = COMMERCE[5]
    feed = commerce_feed(COMMERCE, {bad["eventId"]: POISONS[kind]})
    run = Run(pipeline, commerce_source(feed), system="commerce-registry", department="commerce",
              name=fresh(f"commerce-{kind}"))
    logs.start()
    run.poll(9)
    before = COMMERCE[4]
    at = {"updatedSince": before["updatedAt"], "afterId": before["eventId"]}
    assert run.keys("eventId") == [r["eventId"] for r in COMMERCE[:5]]          # each good one once, in order
    assert bi_store.get_checkpoint(run.name) == at                               # held just before the bad one
    [row] = run.dead()                                                           # recorded once, not per poll
    where = f"updatedSince={before['updatedAt']}, afterId={before['eventId']}"
    assert row["record_key"] == f"after {where}" and row["department"] == "commerce"
    assert "commerce-registry" in row["reason"] and where in row["reason"] and "not JSON" in row["reason"]
    assert "held here" in row["reason"] and "3 times in a row" in row["reason"]
    assert_kept(row, feed.served[((before["updatedAt"], before["eventId"]), 1)], bi_store)
    assert run.outs[-1].refused and "held after" in run.outs[-1].refused          # and says so at every poll
    assert "held after" in logs.text() and "dead-lettered at stage fetch" in logs.text()
    # Every page that held the bad record was refused whole: nothing after it was taken.
    assert all(r.data.get("eventId") != bad["eventId"] for out in run.outs for r in out.records if out.processed(r))
    # The system is mended: the feed goes on from where it stood, the mended record first.
    feed.heal((bad["updatedAt"], bad["eventId"]))
    run.poll(3)
    assert run.keys("eventId") == [r["eventId"] for r in COMMERCE]
    assert len(run.dead()) == 1


def test_commerce_a_page_cut_off_now_and_then_is_asked_for_again_never_dead_lettered(pipeline, bi_store):
    feed = commerce_feed(COMMERCE)
    feed.blips = 9   # the first poll's eight pages (200 down to 1) and the next poll's page of one
    run = Run(pipeline, commerce_source(feed), system="commerce-registry", department="commerce",
              name=fresh("commerce-blips"))
    run.poll(8)
    assert run.outs[0].refused and "try 1 of 3" in run.outs[0].refused
    assert run.outs[1].refused and "try 2 of 3" in run.outs[1].refused
    assert run.keys("eventId") == [r["eventId"] for r in COMMERCE] and not run.dead()
    assert [size for _, size in feed.asked[:8]] == [200, 100, 50, 25, 12, 6, 3, 1]
    assert feed.asked[-1][1] == 200   # back to whole pages once the cursor moved


@pytest.mark.parametrize("outage", ["html", "status"])
def test_a_gateway_page_or_an_http_5xx_is_an_outage_not_a_poisoned_page(outage, pipeline):
    feed = commerce_feed(COMMERCE, {COMMERCE[0]["eventId"]: POISONS["quote"]})
    if outage == "html":
        feed.html = True
    else:
        feed.status = 503
    run = Run(pipeline, commerce_source(feed), system="commerce-registry", department="commerce",
              name=fresh(f"commerce-{outage}"))
    run.poll(5)
    assert all(out.refused for out in run.outs) and not run.dead()
    assert {size for _, size in feed.asked} == {200}                              # no isolating past an outage
    assert "HTML" in run.outs[0].refused or "503" in run.outs[0].refused


# --- platform: afterSeq is a dense position: stepped past ---------------------------------------------
def platform_source(feed):
    def make():
        source = no_retry(PlatformAdapter({"url": "http://pages-platform.test"}).source())
        mount(source.session, "http://pages-platform.test/", feed)
        return source
    return make


@pytest.mark.parametrize("kind", ["quote", "nul", "cut"])
def test_platform_a_poisoned_application_is_dead_lettered_once_and_stepped_past(kind, pipeline, bi_store, logs):
    bad = PLATFORM[5]["seq"]
    feed = platform_feed(PLATFORM, {bad: POISONS[kind]})
    run = Run(pipeline, platform_source(feed), system="platform-applications", department="platform",
              name=fresh(f"platform-{kind}"))
    logs.start()
    run.poll(12)
    assert run.keys("applyNo") == [a["applyNo"] for a in PLATFORM if a["seq"] != bad]
    assert bi_store.get_checkpoint(run.name) == {"afterSeq": PLATFORM[-1]["seq"]}
    [row] = run.dead()
    assert row["record_key"] == f"after afterSeq={bad - 1}"
    assert "platform-applications" in row["reason"] and f"afterSeq={bad - 1}" in row["reason"]
    assert f"stepped past it to afterSeq={bad}" in row["reason"] and "not JSON" in row["reason"]
    assert_kept(row, feed.served[(bad - 1, 1)], bi_store)
    assert "reading on from afterSeq" in logs.text()
    envelopes = [e.record_key for out in run.outs for e in out.envelopes]
    assert len(envelopes) == len(set(envelopes)) == len(PLATFORM) - 1              # nothing published twice


def test_platform_poisoned_applications_side_by_side_are_each_dead_lettered_and_stepped_past(pipeline, bi_store):
    bad = [PLATFORM[3]["seq"], PLATFORM[4]["seq"], PLATFORM[5]["seq"]]
    feed = platform_feed(PLATFORM, {bad[0]: POISONS["quote"], bad[1]: POISONS["control"], bad[2]: POISONS["cut"]})
    run = Run(pipeline, platform_source(feed), system="platform-applications", department="platform",
              name=fresh("platform-adjacent"), page_size=5)
    run.poll(20)
    assert run.keys("applyNo") == [a["applyNo"] for a in PLATFORM if a["seq"] not in bad]
    assert sorted(row["record_key"] for row in run.dead()) == [f"after afterSeq={s - 1}" for s in bad]


def test_platform_answers_that_are_all_unreadable_are_not_stepped_through(pipeline, bi_store):
    """Not one poisoned application but a system answering garbage to everything: nothing after
    the cursor reads either, so nothing is skipped; one dead letter says where it is stuck."""
    name = fresh("platform-garbage")
    bi_store.save_checkpoint(name, {"afterSeq": 41})

    def make():
        source = no_retry(PlatformAdapter({"url": "http://pages-garbage.test"}).source())
        make.wire = wire(source.session, "http://pages-garbage.test/", body=b'{"items": [{"seq": 42, "applyNo": "Z')
        return source
    run = Run(pipeline, make, system="platform-applications", department="platform", name=name)
    run.poll(6)
    assert all(out.refused for i, out in enumerate(run.outs) if i != 2)
    assert bi_store.get_checkpoint(name) == {"afterSeq": 41}
    [row] = run.dead()
    assert row["record_key"] == "after afterSeq=41" and "cannot be read either" in row["reason"]
    assert run.outs[-1].refused and "held after afterSeq=41" in run.outs[-1].refused


@examples(BI, max_examples=min(BI.max_examples, 25))
@given(count=st.integers(1, 12), poisoned=st.sets(st.integers(1, 12), max_size=3), page_size=st.integers(1, 9),
       kinds=st.lists(st.sampled_from(sorted(POISONS)), min_size=3, max_size=3))
def test_platform_whatever_is_poisoned_every_good_application_flows_once_in_order(count, poisoned, page_size, kinds,
                                                                               pipeline, bi_store):
    apps = PLATFORM[:count]
    bad = {s: POISONS[k] for s, k in zip(sorted(poisoned & {a["seq"] for a in apps}), kinds)}
    feed = platform_feed(apps, bad)
    run = Run(pipeline, platform_source(feed), system="platform-applications", department="platform",
              name=fresh("platform-prop"), page_size=page_size)
    for _ in range(200):
        out = run.poll()
        if bi_store.get_checkpoint(run.name) == {"afterSeq": count} and not out.refused:
            break
    assert run.keys("applyNo") == [a["applyNo"] for a in apps if a["seq"] not in bad]
    where = {s: f"afterSeq={s - 1}" if s > 1 else "the start of the feed" for s in bad}
    assert sorted(row["record_key"] for row in run.dead()) == sorted(f"after {where[s]}" for s in bad)
    assert bi_store.get_checkpoint(run.name) == {"afterSeq": count}


# --- ndrc: a broken answer that still names its changeId and updateTime is stepped past ---------------
def ndrc_source(feed):
    def make():
        source = NdrcAdapter({"url": "http://ndrc.test", "attempts": 1}).source()
        mount(source.client.session, "http://ndrc.test/", feed)
        return source
    return make


@pytest.mark.parametrize("kind", ["control", "nul", "cut"])
def test_ndrc_a_change_the_system_cannot_write_out_is_dead_lettered_and_stepped_past(kind, pipeline, bi_store,
                                                                                   logs):
    bad = NDRC[6]
    feed = ndrc_feed(NDRC, {bad["changeId"]: POISONS[kind]})
    run = Run(pipeline, ndrc_source(feed), system="ndrc-tzxm", department="ndrc", name=fresh(f"ndrc-{kind}"))
    logs.start()
    run.poll(12)
    assert run.keys("changeId") == [r["changeId"] for r in NDRC if r is not bad]
    last = NDRC[-1]
    assert bi_store.get_checkpoint(run.name) == {"updatedSince": last["updateTime"], "afterId": last["changeId"]}
    [row] = run.dead()
    before = NDRC[5]
    where = f"updatedSince={before['updateTime']}, afterId={before['changeId']}"
    assert row["record_key"] == f"after {where}" and "ndrc-tzxm" in row["reason"]
    assert "malformed SOAP response" in row["reason"]
    assert f"stepped past it to updatedSince={bad['updateTime']}, afterId={bad['changeId']}" in row["reason"]
    assert_kept(row, feed.served[((before["updateTime"], before["changeId"]), 1)], bi_store)


def test_ndrc_a_change_whose_position_is_lost_too_holds_the_feed_visibly(pipeline, bi_store):
    bad = NDRC[4]
    feed = ndrc_feed(NDRC, drop={bad["changeId"]: {"changeId"}})   # the schema requires it: zeep refuses
    run = Run(pipeline, ndrc_source(feed), system="ndrc-tzxm", department="ndrc", name=fresh("ndrc-held"))
    run.poll(8)
    before = NDRC[3]
    assert run.keys("changeId") == [r["changeId"] for r in NDRC[:4]]
    assert bi_store.get_checkpoint(run.name) == {"updatedSince": before["updateTime"], "afterId": before["changeId"]}
    [row] = run.dead()
    assert "held here" in row["reason"] and "cannot be told without reading it" in row["reason"]
    assert_kept(row, feed.served[((before["updateTime"], before["changeId"]), 1)], bi_store)
    assert run.outs[-1].refused and "held after" in run.outs[-1].refused


# --- through the hub: the simulators' poison knob, the supervisor's back-off and rebuilds -----------
def test_through_the_hub_a_poisoned_application_is_stepped_past_and_a_poisoned_event_holds_commerce_visibly(
        settings, sims):
    """A store of the test's own (the suite's holds other runs' checkpoints for these sources)."""
    from datetime import datetime, timezone

    import requests

    from hub.ops.verify import verify
    from hub.runtime.runner import Hub
    from hub.store import Store
    from tests.badinput.harness import TALLY
    from tests.conftest import wait_until

    def post(url, path, body):
        resp = requests.post(url + path, json=body, timeout=60)
        resp.raise_for_status()
        return resp.json()

    def dead(dept):
        return store.list_dead_letters(department=dept, stage="fetch", since=started, limit=100)

    started = datetime.now(timezone.utc)
    urls = sims.urls
    post(urls["commerce"], "/_admin/load", {"cases": 4})
    events = requests.get(urls["commerce"] + "/_admin/events", timeout=10).json()["items"]
    bad_event = events[len(events) // 2]
    post(urls["commerce"], "/_admin/poison", {"eventIds": [bad_event["eventId"]]})
    post(urls["platform"], "/_admin/submit", {"count": 6})
    apps = requests.get(urls["platform"] + "/_admin/applications", timeout=10).json()["items"]
    bad_app = apps[2]
    post(urls["platform"], "/_admin/poison", {"seqs": [bad_app["seq"]]})
    store = Store.open(settings["db_url"])
    hub = Hub(settings, store=store).start()
    try:
        source = next(s for s in hub.supervisors if s.name == "source:commerce:old")
        wait_until(lambda: dead("commerce") and dead("platform") and "held after" in (source.last_error or "")
                   and verify(settings, store, hub.mappings)["southbound"]["delivered"] == len(apps) - 1,
                   timeout=90, interval=0.5, what="both poisoned records dead-lettered, the applications around one "
                                                  "delivered, commerce held")
        [platform_row] = dead("platform")
        assert platform_row["record_key"] == f"after afterSeq={bad_app['seq'] - 1}"
        assert f"stepped past it to afterSeq={bad_app['seq']}" in platform_row["reason"]
        assert b'"remark": "\t"' in payload_bytes(platform_row)                     # the answer as it came
        [commerce_row] = dead("commerce")
        assert f"afterId={events[events.index(bad_event) - 1]['eventId']}" in commerce_row["record_key"]
        assert "held here" in commerce_row["reason"]
        assert store.get_checkpoint("commerce:old")["afterId"] == events[events.index(bad_event) - 1]["eventId"]
        # The registration system is mended: the feed goes on by itself, the held event first.
        post(urls["commerce"], "/_admin/poison", {"eventIds": []})
        report = wait_until(lambda: (r := verify(settings, store, hub.mappings)) and all(
            d["missing"] == 0 for d in r["destinations"].values()) and r, timeout=90, interval=0.5,
            what="every commerce event delivered once the system serves the poisoned one")
    finally:
        hub.shutdown()
    assert len(dead("commerce")) == len(dead("platform")) == 1      # once each, however often they were met
    store.close()
    for dest in report["destinations"].values():
        assert dest["duplicates"] == dest["out_of_order"] == dest["unexpected"] == 0, report
    assert report["southbound"]["missing"] == 1                     # the stepped-past one, in the dead letters
    # The held event counts twice: dead-lettered while unreadable, then processed once mended.
    TALLY["cases"] += len(events) + len(apps) + 1
    TALLY["processed"] += len(events) + len(apps) - 1
    TALLY["dead_lettered"] += 2
    TALLY["fetch"] += 2
