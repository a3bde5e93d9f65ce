"""The bus on the real broker, checked on the wire with pika (an independent client)."""
from __future__ import annotations

from urllib.parse import quote, urlsplit

import pika
import pytest

from hub import bus
from hub.runtime.runner import bindings
from tests.conftest import partition_queues, queue_of_case, slot_headers


def _pika(broker_url: str) -> pika.BlockingConnection:
    vhost = urlsplit(broker_url).path[1:]
    return pika.BlockingConnection(pika.URLParameters(f"amqp://guest:guest@127.0.0.1:5672/{quote(vhost, safe='')}"))


@pytest.fixture
def conn(settings):
    c = bus.connect(settings["broker_url"])
    yield c
    c.release()


def test_confirmed_messages_are_persistent_routed_and_carry_headers(settings, conn):
    pub = bus.ConfirmingPublisher(conn)
    for i in range(500):
        pub.publish(b'{"n": %d}' % i, bus.names.EVENTS, "commerce.case_event.decided", message_id=f"m{i}",
                    headers=slot_headers("C1"))
    pub.flush(timeout=10)
    assert pub.in_flight == 0
    p = _pika(settings["broker_url"])
    ch = p.channel()
    # decisions go to both destinations, each to the one partition of the case
    for queue in (queue_of_case(settings, "platform", "C1"), queue_of_case(settings, "province", "C1")):
        method, props, body = ch.basic_get(queue, auto_ack=True)
        assert props.delivery_mode == 2 and props.message_id == "m0" and body == b'{"n": 0}'
        assert props.headers[bus.names.H_CASE_NO] == "C1"
        assert ch.queue_declare(queue, passive=True).method.message_count == 499
    p.close()


def test_unroutable_message_is_kept_on_the_unrouted_queue(settings, conn):
    pub = bus.ConfirmingPublisher(conn)
    pub.publish(b"{}", bus.names.EVENTS, "land.nothing.matches", message_id="lost?")
    pub.flush()
    p = _pika(settings["broker_url"])
    method, props, _ = p.channel().basic_get(bus.names.UNROUTED_QUEUE, auto_ack=True)
    assert method is not None and props.message_id == "lost?"
    assert method.routing_key == "land.nothing.matches"
    p.close()


def test_unacked_batch_is_redelivered_in_order_after_the_consumer_dies(settings, conn):
    pub = bus.ConfirmingPublisher(conn)
    for i in range(50):
        pub.publish(str(i).encode(), bus.names.EVENTS, "commerce.case_event.accepted", message_id=str(i),
                    headers=slot_headers("C7"))
    pub.flush()

    def explode(batch):
        raise RuntimeError("worker died mid-batch")

    queue = queue_of_case(settings, "platform", "C7")
    dying = bus.BatchConsumer(bus.connect(settings["broker_url"]), queue, explode,
                              prefetch=20, batch_size=20)
    with pytest.raises(RuntimeError):
        dying.poll(timeout=5)
    dying.conn.release()  # connection gone, nothing acked

    got = []
    survivor_conn = bus.connect(settings["broker_url"])
    survivor = bus.BatchConsumer(survivor_conn, queue,
                                 lambda b: [(got.append(int(d.message_id)), d.ack()) for d in b],
                                 prefetch=100, batch_size=100)
    while len(got) < 50:
        assert survivor.poll(timeout=5) or len(got) == 50
    survivor.cancel()
    survivor_conn.release()
    assert got == list(range(50))


def test_topology_declare_is_idempotent(settings, conn):
    layouts = {b.destination: 4 for b in bindings(settings)}
    first = bus.declare(conn, bindings(settings), layouts=layouts)
    second = bus.declare(conn, bindings(settings), layouts=layouts)
    assert first == second
    expected = partition_queues(settings, "platform") + partition_queues(settings, "province") + \
        partition_queues(settings, "commerce")
    assert set(expected) <= set(first) and len(partition_queues(settings, "platform")) == 4


def test_a_message_without_a_slot_is_kept_not_dropped(settings, conn):
    """A hand-published message with no partition slot matches no partition: the
    destination's alternate exchange keeps it on tongban.unrouted."""
    pub = bus.ConfirmingPublisher(conn)
    pub.publish(b"{}", bus.names.EVENTS, "commerce.case_event.accepted", message_id="no-slot")
    pub.flush()
    p = _pika(settings["broker_url"])
    method, props, _ = p.channel().basic_get(bus.names.UNROUTED_QUEUE, auto_ack=True)
    assert method is not None and props.message_id == "no-slot"
    p.close()


def test_each_slot_is_bound_to_exactly_one_partition(settings, conn):
    """Every slot reaches one partition queue of a destination, never two, never none."""
    from hub.routing.partitions import SLOTS
    pub = bus.ConfirmingPublisher(conn)
    for slot in range(SLOTS):
        pub.publish(b"{}", bus.names.EVENTS, "commerce.case_event.accepted", message_id=f"s{slot}",
                    headers={bus.names.H_SLOT: str(slot)})
    pub.flush()
    p = _pika(settings["broker_url"])
    ch = p.channel()
    counts = [ch.queue_declare(q, passive=True).method.message_count for q in partition_queues(settings, "platform")]
    p.close()
    assert sum(counts) == SLOTS and counts == [SLOTS // 4] * 4


def test_malformed_message_on_a_destination_queue_is_dead_lettered_not_fatal(settings, sims, conn):
    from hub.runtime.runner import Hub
    from hub.store import Store
    from tests.conftest import wait_until
    store = Store.open(settings["db_url"])
    pub = bus.ConfirmingPublisher(conn)
    pub.publish(b"\x00not json", "", partition_queues(settings, "platform")[0], message_id="garbage-1")
    pub.flush()
    hub = Hub(settings, store=store).start()
    try:
        rows = wait_until(lambda: store.list_dead_letters(stage="deliver"), timeout=30, what="dead letter")
    finally:
        hub.shutdown()
    assert rows[0]["destination"] == "platform" and "not a canonical envelope" in rows[0]["reason"]
    assert rows[0]["message_id"] == "garbage-1"
