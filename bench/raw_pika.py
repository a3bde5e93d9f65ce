"""Raw pika baseline: what the broker and a Python client do with the hub's durability
guarantees and none of its work.

Durable classic queue, persistent messages of the pipeline's mean envelope size,
publisher confirms pipelined (a window of unconfirmed messages, pika SelectConnection:
BlockingConnection.confirm_delivery waits for each confirm, ~1,400 msg/s here), a
consumer with manual acks (one per message, as BatchConsumer acks) and a prefetch in
the hundreds. Publisher and consumer run in two processes, started together.
Used by pipeline.py; runnable alone: .venv/bin/python bench/raw_pika.py URL [N] [SIZE]"""
from __future__ import annotations

import multiprocessing as mp
import sys
import time

import pika

QUEUE = "tongban.bench.raw"


def _confirm_counter():
    state = {"upto": 0, "singles": set()}

    def settle(tag: int, multiple: bool) -> int:
        if multiple:
            state["upto"] = max(state["upto"], tag)
            state["singles"] = {t for t in state["singles"] if t > tag}
        else:
            state["singles"].add(tag)
        while state["upto"] + 1 in state["singles"]:
            state["upto"] += 1
            state["singles"].discard(state["upto"])
        return state["upto"] + len(state["singles"])
    return settle


def publisher(url: str, n: int, body: bytes, window: int, sync, report, timeout: float) -> None:
    st = {"sent": 0, "confirmed": 0, "nacks": 0, "start": None, "end": None}
    settle = _confirm_counter()
    props = pika.BasicProperties(delivery_mode=2, content_type="application/json")

    def pump():
        ch = st["ch"]
        while st["sent"] < n and st["sent"] - st["confirmed"] < window:
            ch.basic_publish("", QUEUE, body, props)
            st["sent"] += 1

    def on_confirm(frame):
        m = frame.method
        if isinstance(m, pika.spec.Basic.Nack):
            st["nacks"] += 1
        st["confirmed"] = settle(m.delivery_tag, m.multiple)
        if st["confirmed"] >= n:
            st["end"] = time.monotonic()
            conn.close()
        else:
            pump()

    def on_selected(_frame):
        sync()
        st["start"], st["cpu0"] = time.monotonic(), time.process_time()
        pump()

    def on_channel(ch):
        st["ch"] = ch
        ch.confirm_delivery(on_confirm, callback=on_selected)

    conn = pika.SelectConnection(pika.URLParameters(url), on_open_callback=lambda c: c.channel(on_open_callback=on_channel),
                                 on_close_callback=lambda c, _r: c.ioloop.stop())
    conn.ioloop.call_later(timeout, conn.close)
    conn.ioloop.start()
    report({"role": "raw-publisher", "start": st["start"], "end": st["end"] or time.monotonic(),
            "cpu": time.process_time() - st.get("cpu0", 0), "count": st["confirmed"], "nacks": st["nacks"]})


def consumer(url: str, n: int, prefetch: int, sync, report, timeout: float) -> None:
    st = {"got": 0, "start": None, "end": None}

    def on_message(ch, method, _props, _body):
        ch.basic_ack(method.delivery_tag)
        st["got"] += 1
        if st["got"] >= n:
            st["end"] = time.monotonic()
            conn.close()

    def on_qos(_frame):
        sync()
        st["start"], st["cpu0"] = time.monotonic(), time.process_time()
        st["ch"].basic_consume(QUEUE, on_message)

    def on_channel(ch):
        st["ch"] = ch
        ch.basic_qos(prefetch_count=prefetch, callback=on_qos)

    conn = pika.SelectConnection(pika.URLParameters(url), on_open_callback=lambda c: c.channel(on_open_callback=on_channel),
                                 on_close_callback=lambda c, _r: c.ioloop.stop())
    conn.ioloop.call_later(timeout, conn.close)
    conn.ioloop.start()
    report({"role": "raw-consumer", "start": st["start"], "end": st["end"] or time.monotonic(),
            "cpu": time.process_time() - st.get("cpu0", 0), "count": st["got"]})


def prepare(url: str) -> None:
    conn = pika.BlockingConnection(pika.URLParameters(url))
    ch = conn.channel()
    ch.queue_declare(QUEUE, durable=True)
    ch.queue_purge(QUEUE)
    conn.close()


def _child(fn, q, barrier, *args):
    try:
        fn(*args[:-1], barrier.wait, q.put, args[-1])
    except BaseException as exc:  # report, or the parent waits for nothing
        barrier.abort()
        q.put({"role": fn.__name__, "error": repr(exc)})


def run(url: str, n: int, body: bytes, window: int = 2000, prefetch: int = 300, timeout: float = 120.0) -> dict:
    """One run: publisher and consumer processes together; returns rates and CPU."""
    prepare(url)
    ctx = mp.get_context("fork")
    q, barrier = ctx.Queue(), ctx.Barrier(2)
    procs = [ctx.Process(target=_child, args=(publisher, q, barrier, url, n, body, window, timeout)),
             ctx.Process(target=_child, args=(consumer, q, barrier, url, n, prefetch, timeout))]
    for p in procs:
        p.start()
    results = {r["role"]: r for r in (q.get(timeout=timeout + 30) for _ in procs)}
    for p in procs:
        p.join(10)
    errors = [r["error"] for r in results.values() if "error" in r]
    if errors:
        raise RuntimeError(f"raw baseline failed: {errors}")
    pub, con = results["raw-publisher"], results["raw-consumer"]
    if con["count"] < n or pub["nacks"]:
        raise RuntimeError(f"raw baseline incomplete: consumed {con['count']}/{n}, nacks {pub['nacks']}")
    start = min(pub["start"], con["start"])
    return {"elapsed": con["end"] - start, "published": n, "delivered": con["count"], "records": None,
            "publish_rate": n / (pub["end"] - pub["start"]), "cpu": pub["cpu"] + con["cpu"]}


if __name__ == "__main__":
    url = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    size = int(sys.argv[3]) if len(sys.argv) > 3 else 1100
    r = run(url, n, b"x" * size)
    print(f"raw: {r['delivered'] / r['elapsed']:,.0f} msg/s end to end, publish {r['publish_rate']:,.0f} msg/s")
