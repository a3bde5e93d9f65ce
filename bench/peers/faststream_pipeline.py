"""The peer: the hub's northbound path written the usual way with FastStream (aio-pika),
tuned as issue 9 says: 1,000 publishes in flight, prefetch 100, logging off.

Same work as the hub's, minus the hub's store: a producer process maps each seeded legacy
record with the project's mapping set (`MappingSet.apply`: compiled mapping + pydantic
validation into `hub.model.Envelope`), serialises it (`model_dump_json`) and publishes it
persistent, with publisher confirms, to a durable topic exchange under its routing key; the
exchange routes it, by the same bindings as config/routes.yaml, to one durable queue per
destination (platform, province), so a case makes the same 5 deliveries. A consumer
process runs a FastStream app with one subscriber per queue whose handler takes an
`Envelope` argument (FastStream parses the JSON and validates it with pydantic), counts it,
and returns: FastStream acks it then. Two processes, started together, like raw_pika.py.

What the peer does not do and the hub does: the message log, checkpoints, the delivery
ledger, holds and retries, partitions, the catalogue check. So it is the kinder baseline.

Used by pipeline.py; `run()` returns rates, CPU and the deliveries per destination, and
raises if any message was lost (a count short, a nack, or a queue not empty after)."""
from __future__ import annotations

import asyncio
import logging
import multiprocessing as mp
import time

import pika

EXCHANGE = "tongban.bench.fs.events"


def queue_of(dest: str) -> str:
    return f"tongban.bench.fs.{dest}"


def prepare(url: str, binds: list[tuple[str, str]]) -> list[str]:
    """Declare the exchange, a durable queue per destination bound by its patterns, purge."""
    conn = pika.BlockingConnection(pika.URLParameters(url))
    ch = conn.channel()
    ch.exchange_declare(EXCHANGE, "topic", durable=True)
    queues = []
    for dest in sorted({d for d, _ in binds}):
        q = queue_of(dest)
        ch.queue_declare(q, durable=True)
        ch.queue_purge(q)
        for d, pattern in binds:
            if d == dest:
                ch.queue_bind(q, EXCHANGE, pattern)
        queues.append(q)
    conn.close()
    return queues


def depths(url: str, queues: list[str]) -> dict[str, int]:
    conn = pika.BlockingConnection(pika.URLParameters(url))
    ch = conn.channel()
    out = {q: ch.queue_declare(q, passive=True).method.message_count for q in queues}
    conn.close()
    return out


def _quiet() -> None:
    logging.basicConfig(level=logging.WARNING)
    for name in ("faststream", "aio_pika", "aiormq", "tongban"):
        logging.getLogger(name).setLevel(logging.ERROR)


def producer(url: str, records, system: str, in_flight: int, sync, report) -> None:
    from faststream.rabbit import RabbitBroker, RabbitExchange
    from benchlib import load_mappings
    _quiet()
    mappings = load_mappings()
    exchange = RabbitExchange(EXCHANGE, declare=False)

    async def main():
        broker = RabbitBroker(url, logger=None)
        await broker.connect()
        sem = asyncio.Semaphore(in_flight)
        failed = []

        async def one(body: bytes, key: str, mid: str):
            try:
                await broker.publish(body, exchange=exchange, routing_key=key, persist=True,
                                     message_id=mid, content_type="application/json")
            except Exception as exc:  # a nack or a lost channel: counted, the run then fails
                failed.append(repr(exc))
            finally:
                sem.release()

        sync()
        start, cpu0 = time.monotonic(), time.process_time()
        tasks, published = set(), 0
        for rec in records:
            for env in mappings.apply(system, rec.data):   # map + pydantic validation
                await sem.acquire()
                t = asyncio.create_task(one(env.model_dump_json().encode("utf-8"), env.routing_key,
                                            str(env.message_id)))
                tasks.add(t)
                t.add_done_callback(tasks.discard)
                published += 1
        while tasks:
            await asyncio.gather(*list(tasks))
        end = time.monotonic()
        await broker.stop()
        report({"role": "fs-producer", "start": start, "end": end, "cpu": time.process_time() - cpu0,
                "published": published, "records": len(records), "failed": failed[:3], "nfailed": len(failed)})
    asyncio.run(main())


def consumer(url: str, expected: dict[str, int], prefetch: int, timeout: float, sync, report) -> None:
    from faststream.rabbit import Channel, RabbitBroker, RabbitQueue
    from hub.model.envelope import Envelope
    _quiet()
    counts = {d: 0 for d in expected}
    total = sum(expected.values())

    async def main():
        done = asyncio.Event()
        broker = RabbitBroker(url, logger=None, default_channel=Channel(prefetch_count=prefetch))
        for dest in expected:
            def handler_for(d):
                async def handle(env: Envelope) -> None:   # FastStream: JSON -> pydantic Envelope
                    counts[d] += 1
                    if sum(counts.values()) >= total:
                        done.set()
                return handle
            broker.subscriber(RabbitQueue(queue_of(dest), declare=False))(handler_for(dest))
        await broker.start()
        sync()
        start, cpu0 = time.monotonic(), time.process_time()
        try:
            await asyncio.wait_for(done.wait(), timeout)
        except asyncio.TimeoutError:
            pass
        end = time.monotonic()
        await asyncio.sleep(0.2)   # the last handler's ack goes out after it returns
        await broker.stop()
        report({"role": "fs-consumer", "start": start, "end": end, "cpu": time.process_time() - cpu0,
                "counts": dict(counts)})
    asyncio.run(main())


def _child(fn, q, barrier, *args):
    try:
        fn(*args, barrier.wait, q.put)
    except BaseException as exc:  # report, or the parent waits for nothing
        barrier.abort()
        q.put({"role": fn.__name__, "error": repr(exc)})


def run(url: str, records, system: str, binds: list[tuple[str, str]], expected: dict[str, int],
        in_flight: int = 1000, prefetch: int = 100, timeout: float = 150.0) -> dict:
    """One run: producer and consumer processes together (fork: the records are inherited)."""
    queues = prepare(url, binds)
    ctx = mp.get_context("fork")
    q, barrier = ctx.Queue(), ctx.Barrier(2)
    procs = [ctx.Process(target=_child, args=(producer, q, barrier, url, records, system, in_flight)),
             ctx.Process(target=_child, args=(consumer, q, barrier, url, dict(expected), prefetch, timeout))]
    for p in procs:
        p.start()
    results = {r["role"]: r for r in (q.get(timeout=timeout + 60) for _ in procs)}
    for p in procs:
        p.join(15)
        if p.is_alive():
            p.kill()
    errors = [r["error"] for r in results.values() if "error" in r]
    if errors:
        raise RuntimeError(f"FastStream peer failed: {errors}")
    pub, con = results["fs-producer"], results["fs-consumer"]
    left = {k: v for k, v in depths(url, queues).items() if v}
    if pub["nfailed"] or con["counts"] != dict(expected) or left:
        raise RuntimeError(f"FastStream peer lost or kept messages: consumed {con['counts']} of {dict(expected)}, "
                           f"{pub['nfailed']} publish failures {pub['failed']}, left in queues {left}")
    start = min(pub["start"], con["start"])
    delivered = sum(con["counts"].values())
    return {"elapsed": con["end"] - start, "published": pub["published"], "delivered": delivered,
            "records": pub["records"], "publish_rate": pub["records"] / (pub["end"] - pub["start"]),
            "cpu": pub["cpu"] + con["cpu"]}
