"""End-to-end throughput of the hub pipeline, next to a raw pika baseline on the same broker.

    .venv/bin/python bench/pipeline.py [--messages 20000] [--runs 3] [--mode threads,processes,staged]

Pipeline: seeded legacy records (CaseFactory) -> in-memory Source -> SourceWorker (map,
validate, publish with pipelined confirms, message log + checkpoint in a SQLite Store) ->
tongban.events, routed by the broker per config/routes.yaml -> one ConsumerLoop per
destination (BatchConsumer + DeliveryWorker, ledger, ack) -> an in-process destination.
`threads` runs everything in one process, as `tongban run` does (the true picture of the
hub as deployed); `processes` gives the source and each destination a process of its own.
Raw: see raw_pika.py. Everything runs in a throw-away vhost, deleted at the end.
--messages counts canonical messages published; each case makes 3 records, 4 messages
and 5 deliveries (3 to platform, 2 to province)."""
from __future__ import annotations

import argparse
import logging
import multiprocessing as mp
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent))
import raw_pika  # noqa: E402
from benchlib import (DEPARTMENT, ROOT, SYSTEM, ListSource, broker_cpu, load_mappings, machine_cpu,  # noqa: E402
                      make_records, rabbitmqctl, topic_match)

from hub import bus  # noqa: E402
from hub.runtime.loops import ConsumerLoop, delivery_factory  # noqa: E402
from hub.routing import load_routes  # noqa: E402
from hub.runtime.source_worker import SourceWorker  # noqa: E402
from hub.store import Store  # noqa: E402

try:
    from hub.runtime.runner import bindings  # noqa: E402
except ImportError:  # the runner pulls in every part of the hub; keep the bench usable while one is mid-edit
    def bindings(settings: dict) -> list[bus.Binding]:  # the same as hub.runtime.runner.bindings
        return [bus.Binding(r.destination, p) for r in load_routes(settings["routes_file"]) for p in r.patterns()]
try:  # the post-mapping catalogue check `tongban run` applies (empty catalogue: a set lookup per envelope)
    from hub.ops.catalog import CatalogueCheck  # noqa: E402
except ImportError:
    CatalogueCheck = None


class CountingDestination:
    def __init__(self, name: str):
        self.name, self.count = name, 0

    def send(self, body: bytes, meta) -> str:
        self.count += 1
        return "accepted"

    def close(self) -> None:
        pass


def premap(ms, records, binds) -> tuple[Counter, float, bytes]:
    """Deliveries expected per destination, mean envelope size, one sample body."""
    expected, sizes, sample = Counter(), [], b""
    for rec in records:
        for env in ms.apply(SYSTEM, rec.data):
            body = env.model_dump_json().encode("utf-8")
            sizes.append(len(body))
            sample = sample or body
            for dest in {b.destination for b in binds if topic_match(b.pattern, env.routing_key)}:
                expected[dest] += 1
    return expected, statistics.fmean(sizes), sample


# --- the hub's roles: each sets up, waits at the barrier, works, reports ----------------------

def source_role(ctx, store, sync, report) -> None:
    conn = bus.connect(ctx.url)
    publisher = bus.ConfirmingPublisher(conn)
    worker = SourceWorker(name=f"{DEPARTMENT}:old", department=DEPARTMENT, system=SYSTEM, track="old",
                          source=ListSource(ctx.records), mappings=ctx.mappings, publisher=publisher,
                          store=store, page_size=ctx.page_size,
                          **({"check": CatalogueCheck(store)} if CatalogueCheck else {}))
    sync()
    start, cpu0 = time.monotonic(), ctx.cpu()
    pages = records = published = 0
    while True:
        r = worker.poll_once()
        pages, records, published = pages + 1, records + r.records, published + r.published
        if not r.has_more:
            break
    report({"role": "source", "start": start, "end": time.monotonic(), "cpu": ctx.cpu() - cpu0,
            "pages": pages, "records": records, "published": published})
    publisher.close()
    conn.release()


def destination_role(ctx, dest, store, sync, report) -> None:
    loop = ConsumerLoop(queue=bus.names.destination_queue(dest), broker_url=ctx.url, prefetch=ctx.prefetch,
                        batch_size=ctx.batch, handler_factory=delivery_factory(CountingDestination(dest), store))
    sizes, handle = [], loop.consumer.handler
    loop.consumer.handler = lambda batch: (sizes.append(len(batch)), handle(batch))
    sync()
    start, cpu0 = time.monotonic(), ctx.cpu()
    while loop.handler.delivered < ctx.expected[dest] and time.monotonic() - start < ctx.timeout:
        loop.step()
    report({"role": dest, "start": start, "end": time.monotonic(), "cpu": ctx.cpu() - cpu0,
            "delivered": loop.handler.delivered, "batches": len(sizes)})
    loop.close()


def _guard(fn, args, barrier, report):
    try:
        fn(*args, barrier.wait, report)
    except BaseException as exc:  # a dead role must not leave the others waiting at the barrier
        barrier.abort()
        report({"role": fn.__name__, "error": repr(exc)})


def run_pipeline(ctx, db_url: str, mode: str) -> dict:
    if mode == "staged":  # source alone (queues fill up), then the destinations alone drain them
        b0 = broker_cpu()
        src = run_roles(ctx, db_url, "threads", [(source_role, ())])
        b1 = broker_cpu()
        dst = run_roles(ctx, db_url, "threads", [(destination_role, (d,)) for d in sorted(ctx.expected)])
        return {**summarise(ctx, src + dst, staged=True), "broker_split": (b1 - b0, broker_cpu() - b1)}
    return summarise(ctx, run_roles(ctx, db_url, mode, [(source_role, ())] +
                                    [(destination_role, (d,)) for d in sorted(ctx.expected)]))


def run_roles(ctx, db_url: str, mode: str, roles: list) -> list[dict]:
    Store.open(db_url).close()  # migrate once, before any role opens it
    if mode == "threads":
        ctx.cpu, store, results = time.thread_time, Store.open(db_url), []
        barrier = threading.Barrier(len(roles))
        workers = [threading.Thread(target=_guard, args=(fn, (ctx, *a, store), barrier, results.append))
                   for fn, a in roles]
    else:  # fork: the children inherit the records; each opens its own broker connections and Store
        ctx.cpu, store, mpc = time.process_time, None, mp.get_context("fork")
        barrier, queue = mpc.Barrier(len(roles)), mpc.Queue()
        workers = [mpc.Process(target=_process_role, args=(fn, ctx, a, db_url, barrier, queue)) for fn, a in roles]
    for w in workers:
        w.start()
    if mode != "threads":
        results = [queue.get(timeout=ctx.timeout + 60) for _ in workers]
    for w in workers:
        w.join(ctx.timeout + 60)
    if store is not None:
        store.close()
    errors = [r["error"] for r in results if "error" in r]
    if errors:
        raise RuntimeError(f"pipeline failed: {errors}")
    return results


def summarise(ctx, results: list[dict], staged: bool = False) -> dict:
    by = {r["role"]: r for r in results}
    src, dests = by["source"], [by[d] for d in sorted(ctx.expected)]
    delivered = sum(d["delivered"] for d in dests)
    if delivered != sum(ctx.expected.values()):
        raise RuntimeError(f"delivered {delivered} of {sum(ctx.expected.values())} within {ctx.timeout}s")
    start = min(r["start"] for r in results)
    drain = max(d["end"] for d in dests) - min(d["start"] for d in dests)
    return {"elapsed": (src["end"] - src["start"] + drain) if staged else max(d["end"] for d in dests) - start,
            "drain_rate": delivered / drain, "records": src["records"],
            "published": src["published"], "delivered": delivered,
            "publish_rate": src["records"] / (src["end"] - src["start"]), "page": src["records"] / src["pages"],
            "batch": {d["role"]: d["delivered"] / max(1, d["batches"]) for d in dests},
            "cpu": sum(r["cpu"] for r in results), "cpu_source": src["cpu"], "source_wall": src["end"] - src["start"]}


def _process_role(fn, ctx, args, db_url, barrier, queue):
    store = Store.open(db_url)
    try:
        _guard(fn, (ctx, *args, store), barrier, queue.put)
    finally:
        store.close()


def check_after(ctx, db_url: str, result: dict) -> None:
    """Every queue drained, every message logged, every delivery in the ledger."""
    conn = bus.connect(ctx.url)
    try:
        left = {q: bus.queue_depth(conn, q)[0] for q in ctx.queues + [bus.names.DEAD_QUEUE, bus.names.UNROUTED_QUEUE]}
    finally:
        conn.release()
    with Store.open(db_url) as store:
        counts = store.counts()
    problems = [f"{q}: {n} left" for q, n in left.items() if n]
    if counts["messages"] != result["published"]:
        problems.append(f"message log has {counts['messages']} of {result['published']}")
    if counts["deliveries"] != dict(ctx.expected):
        problems.append(f"ledger {counts['deliveries']} != expected {dict(ctx.expected)}")
    if problems:
        raise RuntimeError("after the run: " + "; ".join(problems))


def measure(plans: list, runs: int) -> list[dict]:
    """Runs round-robin (run 1 of each, then run 2 of each ...), so that a burst of load from
    elsewhere on the machine hits every variant alike; returns the median run of each, whole."""
    rows: dict[str, list] = {label: [] for label, _ in plans}
    for i in range(runs):
        for label, one in plans:
            b0, m0 = broker_cpu(), machine_cpu()
            r = one(i)
            r["broker_cpu"] = broker_cpu() - b0
            r["other_cpu"] = machine_cpu() - m0 - r["broker_cpu"] - r["cpu"]
            r["rate"] = r["delivered"] / r["elapsed"]
            rows[label].append(r)
            print(f"  run {i + 1} {label:<19} {r['rate']:>7,.0f} deliveries/s in {r['elapsed']:.2f}s", flush=True)
    return [{**sorted(rs, key=lambda r: r["rate"])[len(rs) // 2], "label": label} for label, rs in rows.items()]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=20000, help="canonical messages to publish (4 per case)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--mode", default="threads,processes",
                    help="comma list of threads, processes, staged (BENCH uses the first)")
    ap.add_argument("--only", choices=("pipeline", "raw"), help="skip the other half (for profiling)")
    ap.add_argument("--amqp", default="amqp://guest:guest@127.0.0.1:5672", help="broker URL without the vhost")
    ap.add_argument("--page-size", type=int, default=200)
    ap.add_argument("--prefetch", type=int, default=200)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--raw-window", type=int, default=2000, help="raw baseline: unconfirmed messages in flight")
    ap.add_argument("--raw-prefetch", type=int, default=300)
    ap.add_argument("--timeout", type=float, default=150.0)
    ap.add_argument("--switch-interval", type=float, help="sys.setswitchinterval for threads mode (default 0.005)")
    args = ap.parse_args()
    if args.switch_interval:
        sys.setswitchinterval(args.switch_interval)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("tongban.catalog").setLevel(logging.ERROR)  # "the item catalogue is empty", once a run
    load = os.getloadavg()[0]
    print(f"load average {load:.2f} on {os.cpu_count()} cores" + ("  (busy machine: figures will be low and noisy)" if load > 0.7 else ""))

    t = time.monotonic()
    records = make_records(max(1, args.messages // 4))
    binds = bindings({"routes_file": str(ROOT / "config" / "routes.yaml")})
    mappings = load_mappings()  # once: compiled callables, shared by every run (and forked process)
    expected, mean_size, sample = premap(mappings, records, binds)
    print(f"{len(records)} records -> {sum(expected.values())} deliveries {dict(expected)}, "
          f"mean envelope {mean_size:.0f} B (prepared in {time.monotonic() - t:.1f}s)", flush=True)

    vhost = f"tongban-bench-{os.getpid()}"
    rabbitmqctl("add_vhost", vhost)
    tmp = tempfile.mkdtemp(prefix="tongban-bench-")
    try:
        rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        url = f"{args.amqp}/{vhost}"
        conn = bus.connect(url)
        queues = bus.declare(conn, binds)
        conn.release()
        ctx = SimpleNamespace(url=url, records=records, mappings=mappings, expected=expected, queues=queues,
                              page_size=args.page_size, prefetch=args.prefetch, batch=args.batch,
                              timeout=args.timeout, cpu=None)
        modes = [m for m in args.mode.split(",") if m in ("threads", "processes", "staged")]
        plans = []
        if args.only != "raw":
            for mode in modes:
                def one(i, mode=mode):
                    db = f"sqlite:///{tmp}/{mode}-{i}.db"
                    r = run_pipeline(ctx, db, mode)
                    check_after(ctx, db, r)
                    return r
                plans.append((f"pipeline/{mode}", one))
        if args.only != "pipeline":
            body = (sample * 2)[: round(mean_size)]
            plans.append(("raw pika", lambda i: raw_pika.run(
                url, args.messages, body, args.raw_window, args.raw_prefetch, args.timeout)))
        results = measure(plans, args.runs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        rabbitmqctl("delete_vhost", vhost)
    report(results, args)
    return 0


def report(results: list[dict], args) -> None:
    print(f"\nmedian of {args.runs} run(s); rates end to end, from the first role's start to the last delivery")
    print(f"{'':<19} {'records/s':>9} {'published/s':>11} {'delivered/s':>11} {'source':>9} {'drain':>7} "
          f"{'page':>4} {'batch':>7}  {'CPU: client':>11} {'broker':>6} {'others':>6}")
    for r in results:
        e, pipe = r["elapsed"], bool(r["records"])
        recs = f"{r['records'] / e:,.0f}" if pipe else "-"
        batch = "/".join(f"{b:.0f}" for b in r["batch"].values()) if pipe else "-"
        page = f"{r['page']:.0f}" if pipe else "-"
        drain = f"{r['drain_rate']:,.0f}" if pipe else "-"
        print(f"{r['label']:<19} {recs:>9} {r['published'] / e:>11,.0f} {r['delivered'] / e:>11,.0f} "
              f"{r['publish_rate']:>9,.0f} {drain:>7} {page:>4} {batch:>7}  {r['cpu']:>10.1f}s "
              f"{r['broker_cpu']:>5.1f}s {r['other_cpu']:>5.1f}s")
    print("source: records/s of the source worker alone, first fetch to last checkpoint (raw: published msg/s).\n"
          "drain: deliveries/s while the delivery workers ran. page: records per poll. batch: mean messages\n"
          "per DeliveryWorker batch (platform/province). CPU: seconds in the median run, of this benchmark's\n"
          "threads or processes, of the broker, and of everything else on the machine (noise).")
    for r in results:
        if "broker_split" in r:
            s, d = r["broker_split"]
            print(f"{r['label']}: source alone {r['source_wall']:.1f}s wall, {r['cpu_source']:.1f}s CPU; "
                  f"broker CPU {s:.1f}s while publishing, {d:.1f}s while draining")
    pipe = next((r for r in results if r["label"].startswith("pipeline")), None)
    raw = next((r for r in results if r["label"] == "raw pika"), None)
    if pipe and raw:
        print(f"BENCH pipeline={pipe['rate']:.0f} raw={raw['rate']:.0f} ratio={pipe['rate'] / raw['rate']:.2f}")


if __name__ == "__main__":
    sys.exit(main())
