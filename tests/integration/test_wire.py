"""The contract test (issue 15, item 5): an independent pika consumer, bound to the events,
commands, delay and dead-letter exchanges, plays the strict consumer of docs/asyncapi.yaml
during an end-to-end run with bad records, a faulty legacy system (truncated SOAP answers,
its gateway's HTML 502 page) and a flaky platform (retries): every message's properties,
headers and body must be what the contract says, and no destination stream may carry two
messages of one case with the same sequence except where the contract says why."""
from __future__ import annotations

import time
import uuid
from collections import defaultdict
from urllib.parse import quote, urlsplit

import pika
import requests

from hub.bus import names
from hub.cli.demo import load_everything
from hub.runtime.runner import Hub
from hub.store import Store
from tests import strict_consumer
from tests.conftest import wait_until

WATCHED = (names.EVENTS, names.COMMANDS, names.DLX, names.DELAY)


def _pika(broker_url: str) -> pika.BlockingConnection:
    vhost = urlsplit(broker_url).path[1:]
    return pika.BlockingConnection(pika.URLParameters(f"amqp://guest:guest@127.0.0.1:5672/{quote(vhost, safe='')}"))


def _tap(ch) -> dict[str, str]:
    """A queue of the test's own on each exchange, bound to everything (a wire tap)."""
    queues = {}
    for exchange in WATCHED:
        q = f"test.tap.{exchange}.{uuid.uuid4().hex[:6]}"
        ch.queue_declare(q, durable=False, auto_delete=False)
        ch.queue_bind(q, exchange, routing_key="" if exchange == names.DELAY else "#")
        queues[exchange] = q
    return queues


def _drain(ch, queue: str) -> list:
    out = []
    while True:
        method, props, body = ch.basic_get(queue, auto_ack=True)
        if method is None:
            return out
        out.append((method, props, body))


def test_every_message_on_the_wire_keeps_the_contract(settings, sims):
    settings["retry"] = {"tiers": [0.3, 0.6], "max_attempts": 3}
    conn = _pika(settings["broker_url"])
    ch = conn.channel()
    taps = _tap(ch)
    requests.post(sims.urls["ndrc"] + "/_admin/faults", json={"malformed_rate": 0.3, "gateway_rate": 0.2},
                  timeout=5).raise_for_status()
    requests.post(sims.urls["platform"] + "/_admin/faults", json={"error_rate": 0.2}, timeout=5).raise_for_status()
    load_everything(settings, cases=6, bad=1, applications=4, include_new=False)
    store = Store.open(settings["db_url"])
    hub = Hub(settings, store=store).start()
    try:
        # the faults stay on until the platform's have made a retry (at least 6 s): on a loaded
        # machine the first deliveries can come later than that
        time.sleep(6)
        wait_until(lambda: ch.queue_declare(taps[names.DELAY], passive=True).method.message_count > 0,
                   timeout=90, interval=0.5, what="a retry made by the platform's faults")
        requests.post(sims.urls["ndrc"] + "/_admin/faults", json={"malformed_rate": 0, "gateway_rate": 0}, timeout=5)
        requests.post(sims.urls["platform"] + "/_admin/faults", json={"error_rate": 0}, timeout=5)
        counts = []

        def quiet():
            counts.append(sum(ch.queue_declare(q, passive=True).method.message_count for q in taps.values()))
            return len(counts) > 8 and len(set(counts[-8:])) == 1 and counts[-1] > 0
        wait_until(quiet, timeout=120, interval=0.5, what="the wire quiet for 4 s")
    finally:
        hub.shutdown()

    seen = {exchange: _drain(ch, q) for exchange, q in taps.items()}
    conn.close()
    problems, types, dead_types = [], defaultdict(int), defaultdict(int)
    streams: dict[tuple, set] = defaultdict(set)
    for exchange, messages in seen.items():
        for method, props, body in messages:
            p = strict_consumer.props_of(props)
            headers = props.headers or {}
            # Broker-made headers of a copy that came back from a retry queue are no part of ours
            found = strict_consumer.check(exchange, p, headers, body)
            problems += [f"{exchange} {method.routing_key} {p.get('message_id')}: {x}" for x in found]
            types[p.get("type")] += 1
            if exchange == names.DLX:
                dead_types[(headers.get(names.H_STAGE), p.get("content_type"))] += 1
            if exchange == names.DELAY:
                assert p.get("correlation_id") == p.get("message_id") and headers.get(names.H_ATTEMPTS, 0) >= 1
                for key in (names.H_FIRST_FAILED, names.H_LAST_FAILED):
                    assert strict_consumer.TIME.match(headers[key]), headers[key]
            if exchange == names.EVENTS and names.H_SEQUENCE in headers and not headers.get(names.H_SUPERSEDES):
                kind = headers[names.H_KIND]
                event = method.routing_key.rsplit(".", 1)[-1]
                if kind == "case_event":
                    streams[("platform", headers[names.H_CASE_NO], headers[names.H_SEQUENCE])].add(p["message_id"])
                if kind == "certificate" or event == "decided":
                    streams[("province", kind, headers[names.H_CASE_NO],
                             headers[names.H_SEQUENCE])].add(p["message_id"])
    assert not problems, "\n".join(problems[:40])
    # the run did show what the contract is about
    assert types["tongban.case_event.v1"] and types["tongban.certificate.v1"] and types["tongban.application.v1"]
    assert any(stage == "validate" and ctype.startswith("application/json") for stage, ctype in dead_types), \
        dict(dead_types)
    assert seen[names.DELAY], "no retry was seen: the platform's faults did not bite"
    # the province carries a decision and its certificate under one number: their kinds differ
    # (the contract: a certificate's sequence refers to the step that issued it); nothing else repeats
    repeated = {k: v for k, v in streams.items() if len(v) > 1}
    assert not repeated, repeated


def test_a_soap_answer_and_undecodable_bytes_are_dead_lettered_under_their_true_types(settings):
    """What the issue found: a fetch-stage dead letter holding SOAP XML labelled JSON. A
    faulty answer becomes a fetch dead letter only when it repeats (hub/runtime/unreadable.py),
    which a random fault does not; so the dead letters are published as a source publishes them."""
    from hub import bus
    from hub.runtime.deadletters import publish_dead_letter
    conn = _pika(settings["broker_url"])
    ch = conn.channel()
    tap = f"test.tap.dlx.{uuid.uuid4().hex[:6]}"
    ch.queue_declare(tap, durable=False)
    ch.queue_bind(tap, names.DLX, routing_key="#")
    k = bus.connect(settings["broker_url"])
    pub = bus.ConfirmingPublisher(k)
    soap = b'<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Bo'
    publish_dead_letter(pub, soap, stage="fetch", reason="truncated envelope", department="ndrc",
                        record_key="after cursor 3", track="old")
    publish_dead_letter(pub, "收件".encode("gb18030"), stage="decode", reason="not UTF-8", department="land",
                        record_key="f.csv")
    held = str(uuid.uuid4())
    publish_dead_letter(pub, b'{"message_id": "%s"}' % held.encode(), stage="deliver", reason="refused",
                        department="commerce", destination="platform", message_id=held, case_no="C1",
                        record_key="7", attempts=3)
    pub.flush()
    pub.close()
    k.release()
    got = _drain(ch, tap)
    conn.close()
    assert [p.content_type for _, p, _ in got] == ["application/xml; charset=utf-8", "application/octet-stream",
                                                   "application/json; charset=utf-8"]
    for method, props, body in got:
        assert props.content_encoding is None and props.app_id == "tongban-hub" and props.timestamp
        assert props.message_id == props.headers[names.H_DEAD_LETTER_ID]
        assert strict_consumer.check(names.DLX, strict_consumer.props_of(props), props.headers, body) == []
    assert got[0][1].correlation_id is None and got[2][1].correlation_id == held
    assert got[2][1].headers[names.H_MESSAGE_ID] == held
