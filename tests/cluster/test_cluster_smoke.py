"""A quorum queue on the private cluster keeps every confirmed message, in order, when a
node stops: one the client is not connected to, and the one it is (the client then fails
over through kombu's `;`-separated URL list).

The node is stopped between two publishes, never during one: a message whose confirm was
lost with its connection would be republished and could then be there twice, which is the
publisher's at-least-once and not what this test is about (the hub's ledger takes care of
that, tests/cluster/test_cluster_hub.py)."""
from __future__ import annotations

import json
import time

import pytest
from kombu import Connection, Consumer, Exchange, Producer, Queue

pytestmark = pytest.mark.cluster
N = 2000


def _queue(name: str) -> Queue:
    return Queue(name, Exchange(""), routing_key=name, durable=True, auto_delete=False,
                 queue_arguments={"x-queue-type": "quorum"})


def _connect(url: str) -> Connection:
    conn = Connection(url, failover_strategy="round-robin", heartbeat=0,
                      transport_options={"confirm_publish": True})
    conn.ensure_connection(max_retries=20, interval_start=0.2, interval_step=0.5, interval_max=1)
    return conn


def _publisher(conn: Connection, queue: Queue):
    """publish(i): a persistent message, confirmed; across a failover it reconnects to the next
    URL and sends it again."""
    producer = Producer(conn.default_channel)
    publish = conn.ensure(producer, producer.publish, max_retries=30, interval_start=0.2,
                          interval_step=0.5, interval_max=1)
    return lambda i: publish(json.dumps({"seq": i}), routing_key=queue.name, delivery_mode=2,
                             content_type="application/json", retry=False)


def _consume_all(conn: Connection, queue: Queue, expected: int, timeout: float = 60) -> list[dict]:
    got: list[dict] = []

    def on_message(body, message):
        got.append({"seq": body["seq"], "redelivered": message.delivery_info.get("redelivered", False)})
        message.ack()

    deadline = time.monotonic() + timeout
    with Consumer(conn.channel(), [queue], callbacks=[on_message], accept=["json"], prefetch_count=500):
        while len(got) < expected and time.monotonic() < deadline:
            try:
                conn.drain_events(timeout=1)
            except TimeoutError:
                pass
        # anything beyond the expected count would be a duplicate: give it a moment to show
        end = time.monotonic() + 1
        while time.monotonic() < end:
            try:
                conn.drain_events(timeout=0.5)
            except TimeoutError:
                pass
    return got


def _assert_exactly_once_in_order(got: list[dict]) -> None:
    seqs = [m["seq"] for m in got]
    assert len(seqs) == N, f"{len(seqs)} messages consumed, {N} published"
    assert seqs == list(range(N)), "lost, duplicated or reordered"
    assert not any(m["redelivered"] for m in got)


def test_node_the_client_is_not_on_stops(cluster3):
    a, b, _ = cluster3.urls
    queue = _queue("smoke.other")
    conn = _connect(a)
    try:
        queue(conn.default_channel).declare()
        listed = cluster3.nodes[0].ctl("list_queues", "-p", cluster3.vhost, "--no-table-headers", "--quiet",
                                       "name", "type", "members").stdout
        assert "quorum" in listed and all(n.name in listed for n in cluster3.nodes), listed
        publish = _publisher(conn, queue)
        for i in range(N // 2):
            publish(i)
        cluster3.stop_node(2)
        for i in range(N // 2, N):   # two of three members left: still a majority
            publish(i)
    finally:
        conn.release()
    consumer = _connect(b)
    try:
        got = _consume_all(consumer, queue, N)
    finally:
        consumer.release()
        cluster3.start_node(2)
    _assert_exactly_once_in_order(got)


def test_the_connected_node_stops_and_the_client_fails_over(cluster3):
    a_port, b_port = cluster3.nodes[0].port, cluster3.nodes[1].port
    queue = _queue("smoke.failover")
    conn = _connect(cluster3.failover_url)
    try:
        assert conn.port == a_port, "the failover list starts at node a"
        queue(conn.default_channel).declare()
        publish = _publisher(conn, queue)
        for i in range(N // 2):
            publish(i)
        cluster3.stop_node(0)
        for i in range(N // 2, N):   # the first of these finds the connection gone, and moves on
            publish(i)
        assert conn.port == b_port, "the client moved to the next node of the list"
        got = _consume_all(conn, queue, N)
    finally:
        conn.release()
        cluster3.start_node(0)
    _assert_exactly_once_in_order(got)
