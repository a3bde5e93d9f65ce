"""The checks that run the hub's own source worker on the real broker. What the worker publishes
goes to an exchange and a queue of the run's own (auto-deleted), never to tongban.events: a hub
running on the same broker sees none of it. The original exchange travels in a header.

at_least_once: the hub dies in the middle of a page (after half its messages went out, before the
confirms and the checkpoint); a new one starts on the same store. Every record arrives, and a
record sent twice is sent with the same message id, so the ledger makes it one effect.
bad_input: undecodable, unmappable and invalid records are dead-lettered at their stage with a
reason, and the good records after them flow."""
from __future__ import annotations

import uuid
from collections import Counter

from hub import bus
from hub.bus import names
from hub.runtime.source_worker import SourceWorker
from hub.store import Store

from .subject import Failed

H_EXCHANGE = "x-tongban-conformance-exchange"


class Killed(Exception):
    """The hub process dying, as the worker sees it: mid-page, nothing more done."""


class Redirect:
    """The worker's publisher, sending to the run's private exchange; dies after `die_after` messages."""

    def __init__(self, inner, exchange: str, die_after: int | None = None):
        self.inner, self.exchange, self.die_after, self.sent = inner, exchange, die_after, 0

    def publish(self, body, exchange, routing_key, *, headers=None, **kw):
        # at the (die_after + 1)-th message of a page: some of it went out, the rest never will
        if self.die_after is not None and self.sent >= self.die_after:
            raise Killed(f"killed after {self.sent} message(s) of the page")
        self.inner.publish(body, self.exchange, routing_key, headers={**(headers or {}), H_EXCHANGE: exchange}, **kw)
        self.sent += 1

    def flush(self):
        self.inner.flush()
        self.sent = 0   # the page is out: the count starts again with the next


class Tap:
    """A private fanout exchange and the one queue bound to it, on the subject's broker."""

    def __init__(self, broker_url: str | None):
        self.conn = bus.connect(broker_url)
        self.exchange = f"tongban.conformance.{uuid.uuid4().hex[:10]}"
        ch = self.channel = self.conn.channel()
        ch.exchange_declare(self.exchange, "fanout", durable=False, auto_delete=True)
        self.queue = ch.queue_declare("", exclusive=True, auto_delete=True).queue
        ch.queue_bind(self.queue, self.exchange, "")
        self.publisher = bus.ConfirmingPublisher(self.conn)

    def drain(self) -> list[dict]:
        out = []
        while True:
            msg = self.channel.basic_get(self.queue, no_ack=True)
            if msg is None:
                return out
            props = msg.properties
            out.append({"message_id": props.get("message_id"), "headers": dict(props.get("application_headers") or {}),
                        "routing_key": msg.delivery_info.get("routing_key"), "body": msg.body})

    def close(self):
        self.publisher.close()
        try:
            self.channel.close()
        finally:
            self.conn.release()


def _worker(live, store, publisher, page: int) -> SourceWorker:
    s = live.subject
    return SourceWorker(name=f"{s.name}:conformance", department=s.cls.department, system=s.cls.system,
                        track="old", source=live.source(), mappings=s.mappings, publisher=publisher, store=store,
                        page_size=page, max_record_bytes=live.adapter().config.get("max_record_bytes"))


def drain_feed(worker, polls: int = 1000) -> None:
    for _ in range(polls):
        result = worker.poll_once()
        if not result.has_more and not result.records:
            return
    raise Failed(f"the source worker did not reach the end of the feed in {polls} polls")


def check_at_least_once(subject) -> str:
    with subject.live() as live:
        expected = live.sim.load(subject.cases)
        page = max(2, expected // 2)
        tap, store = Tap(subject.broker_url), Store.open("sqlite://")
        try:
            # dies after the first message of the first page that makes more than one
            dying = _worker(live, store, Redirect(tap.publisher, tap.exchange, die_after=1), page)
            for _ in range(expected + 1):
                saved = store.get_checkpoint(f"{subject.name}:conformance")
                try:
                    if not dying.poll_once().has_more:
                        raise Failed("no page made more than one message: nothing to kill mid-page")
                except Killed:
                    break
            dying.source.close()
            if store.get_checkpoint(f"{subject.name}:conformance") != saved:
                raise Failed("the checkpoint moved past a page whose messages were never confirmed")
            worker = _worker(live, store, Redirect(tap.publisher, tap.exchange), page)
            drain_feed(worker)
            worker.source.close()
            got = [m for m in tap.drain() if m["headers"].get(H_EXCHANGE) != names.DLX]
        finally:
            tap.close()
            store.close()
    by_key: dict[str, set] = {}
    for m in got:
        by_key.setdefault(m["headers"].get(names.H_RECORD_KEY), set()).add(m["message_id"])
    if len(by_key) != expected:
        raise Failed(f"the simulator holds {expected} record(s); after the kill and restart {len(by_key)} "
                     f"arrived{' (lost: some never came)' if len(by_key) < expected else ''}")
    split = {k: v for k, v in by_key.items() if len(v) > 1 and len(v) > _messages_per_record(got, k)}
    if split:
        key = next(iter(split))
        raise Failed(f"record {key} arrived under different message ids {sorted(split[key])[:3]} after the "
                     f"restart: the ledger cannot tell the repeat, two effects")
    repeats = len(got) - len({m['message_id'] for m in got})
    return f"killed after the first message of a page (of up to {page} records): all {expected} records arrived, {repeats} sent " \
           f"again with their first ids (one effect each)"


def _messages_per_record(got, key) -> int:
    """How many messages one read of the record makes (a record may map to several kinds)."""
    return len({(m["headers"].get(names.H_KIND), m["routing_key"]) for m in got
                if m["headers"].get(names.H_RECORD_KEY) == key})


def check_bad_input(subject) -> str:
    with subject.live() as live:
        good = live.sim.load(1)
        due = Counter(live.sim.load_bad())
        good += live.sim.load(1)
        if not due:
            raise Failed("the simulator's load_bad() made no bad record: nothing to check")
        tap, store = Tap(subject.broker_url), Store.open("sqlite://")
        try:
            worker = _worker(live, store, Redirect(tap.publisher, tap.exchange), 50)
            drain_feed(worker)
            worker.source.close()
            got = tap.drain()
        finally:
            tap.close()
            store.close()
    dead = [m for m in got if m["headers"].get(H_EXCHANGE) == names.DLX]
    flowed = {m["headers"].get(names.H_RECORD_KEY) for m in got if m["headers"].get(H_EXCHANGE) != names.DLX}
    stages = Counter(m["headers"].get(names.H_STAGE) for m in dead)
    if stages != due:
        raise Failed(f"dead letters by stage {dict(stages)}, the simulator made {dict(due)}"
                     + (f"; e.g. {_reason(dead[0])}" if dead else ""))
    blank = [m for m in dead if not str(m["headers"].get(names.H_REASON) or "").strip()]
    if blank:
        raise Failed(f"{len(blank)} dead letter(s) carry no reason")
    if len(flowed) != good:
        raise Failed(f"{good} good record(s) were written around the bad ones, {len(flowed)} flowed on: the feed "
                     f"stopped at a bad record")
    return f"{sum(due.values())} bad record(s) dead-lettered ({', '.join(f'{k} {v}' for k, v in sorted(due.items()))}) " \
           f"with reasons; {good} good ones around them flowed"


def _reason(message) -> str:
    h = message["headers"]
    return f"{h.get(names.H_STAGE)}: {str(h.get(names.H_REASON))[:160]}"
