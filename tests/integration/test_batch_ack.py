"""A batch settled whole is acked in one frame; anything else one by one, and nothing
acked that was not settled (a multiple ack covers every earlier tag)."""
from __future__ import annotations

import uuid

from hub import bus


def _queue(conn) -> str:
    name = f"test.batchack.{uuid.uuid4().hex[:8]}"
    ch = conn.channel()
    ch.queue_declare(name, durable=True, auto_delete=False)
    pub = bus.ConfirmingPublisher(conn)
    for i in range(10):
        pub.publish(b'{"n": %d}' % i, "", name, message_id=f"m{i}")
    pub.flush(timeout=10)
    return name


def _consumed(conn, name: str):
    """All ten handed over unsettled, and the ack frames the channel sends from now on."""
    seen = []
    consumer = bus.BatchConsumer(conn, name, seen.append, prefetch=10, batch_size=10)
    while sum(map(len, seen)) < 10:
        consumer.poll(timeout=2)
    frames = []
    real = consumer.channel.basic_ack
    consumer.channel.basic_ack = lambda tag, multiple=False: (frames.append((tag, multiple)), real(tag, multiple))
    return consumer, [d for b in seen for d in b], frames


def _depth(conn, name: str) -> int:
    ch = conn.channel()
    depth = ch.queue_declare(name, passive=True).message_count
    ch.queue_delete(name)
    return depth


def test_a_whole_batch_is_acked_in_one_frame_and_leaves_the_queue_empty(broker_url):
    conn = bus.connect(broker_url)
    try:
        name = _queue(conn)
        consumer, batch, frames = _consumed(conn, name)
        bus.ack_all(batch)
        assert frames == [(batch[-1]._message.delivery_tag, True)]
        consumer.cancel()
        assert _depth(conn, name) == 0
    finally:
        conn.release()


def test_a_run_that_is_not_the_oldest_unsettled_is_acked_one_by_one(broker_url):
    conn = bus.connect(broker_url)
    try:
        name = _queue(conn)
        consumer, batch, frames = _consumed(conn, name)
        bus.ack_all(batch[3:6])          # the first three are still unsettled: no multiple ack
        assert [m for _, m in frames] == [False, False, False]
        bus.ack_all(batch[:3])           # now the oldest run: one frame
        assert frames[-1] == (batch[2]._message.delivery_tag, True)
        consumer.cancel()                # the unsettled four go back
        conn.release()
        conn = bus.connect(broker_url)
        assert _depth(conn, name) == 4
    finally:
        conn.release()
