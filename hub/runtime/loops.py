"""The three kinds of loop the hub runs, each owning its own broker connection."""
from __future__ import annotations

from hub import bus
from hub.runtime.deadletters import DeadLetterRecorder
from hub.runtime.delivery_worker import DeliveryWorker
from hub.runtime.source_worker import SourceWorker


class SourceLoop:
    def __init__(self, *, name, adapter, mappings, store, broker_url, page_size, poll_interval, track="old",
                 check=None):
        self.conn = bus.connect(broker_url)
        self.publisher = bus.ConfirmingPublisher(self.conn)
        self.source = adapter.source()
        self.poll_interval = poll_interval
        self.worker = SourceWorker(name=name, department=adapter.department, system=adapter.system, track=track,
                                   source=self.source, mappings=mappings, publisher=self.publisher, store=store,
                                   page_size=page_size, check=check)

    def step(self) -> float:
        # SourceUnavailable propagates: the supervisor backs off and resumes from the checkpoint.
        result = self.worker.poll_once()
        return 0 if result.has_more else self.poll_interval

    def close(self) -> None:
        self.source.close()
        self.publisher.close()
        self.conn.release()


class ConsumerLoop:
    """Runs a handler over a queue; DeliveryWorker or DeadLetterRecorder."""

    def __init__(self, *, queue, handler_factory, broker_url, prefetch, batch_size):
        self.conn = bus.connect(broker_url)
        self.pub_conn = bus.connect(broker_url)
        self.dead_letters = bus.ConfirmingPublisher(self.pub_conn)
        self.handler = handler_factory(self.dead_letters)
        self.consumer = bus.BatchConsumer(self.conn, queue, self.handler.handle, prefetch=prefetch,
                                          batch_size=batch_size)

    def step(self) -> float:
        self.consumer.poll(timeout=1.0)
        return 0

    def close(self) -> None:
        self.consumer.cancel()
        self.dead_letters.close()
        for c in (self.conn, self.pub_conn):
            c.release()


def delivery_factory(destination, store):
    return lambda dead_letters: DeliveryWorker(destination, store, dead_letters)


def recorder_factory(store, queue):
    return lambda _dead_letters: DeadLetterRecorder(store, queue)
