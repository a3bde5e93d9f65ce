"""Issue 9's benchmark in one command and one run: the hub as deployed, next to its baselines
on the same broker, plus latency at a fixed rate and worker memory under a backlog.

    .venv/bin/python bench/pipeline.py [--messages 12000] [--runs 3] [--workers 1,2] [--backlog 100000]
    .venv/bin/python bench/pipeline.py --quick          # smoke run, under a minute

Parts, each in the throw-away vhost this program makes and deletes:
- hub/<N>w: the default deployment, N hub worker processes (hubworkers.Deployment: real
  `hub.runtime.runner.Hub`s, as `tongban run --workers N` starts them) reading seeded
  records from gated in-memory sources and delivering to counting destinations, with a
  fresh store (a PostgreSQL schema when PostgreSQL answers, else SQLite);
- raw pika: raw_pika.py, durable publish (pipelined confirms) + consume (acks), no hub code;
- faststream: peers/faststream_pipeline.py, the same map+validate+publish+consume written
  with FastStream (aio-pika) and pydantic, tuned (1,000 in flight, prefetch 100, logging off);
- latency: the hub with the most workers asked for, records released at --latency-rate per
  second; p50/p99 from a record's read by the source to the destination accepting each of
  its deliveries;
- backlog: --backlog messages published by real SourceWorkers with no delivery running,
  then the hub's workers drain them while their RSS is sampled (psutil).
Every run checks that nothing was lost (queues empty, message log and ledger complete)
and fails instead of printing a rate. The last line is the BENCH line of issue 9."""
from __future__ import annotations

import argparse
import logging
import math
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent / "peers"))
import hubworkers  # noqa: E402
import raw_pika  # noqa: E402
from benchlib import (ROOT, SYSTEM, broker_cpu, load_mappings, machine_cpu, make_records,  # noqa: E402
                      rabbitmqctl, topic_match)

from hub.routing import load_routes  # noqa: E402

HERE = Path(__file__).resolve().parent


def route_binds() -> list[tuple[str, str]]:
    return [(r.destination, p) for r in load_routes(ROOT / "config" / "routes.yaml") for p in r.patterns()]


def premap(ms, records, binds) -> tuple[Counter, int, float, bytes]:
    """Deliveries expected per destination, messages, mean envelope size, one sample body."""
    expected, sizes, sample, dests_of = Counter(), [], b"", {}
    for rec in records:
        for env in ms.apply(SYSTEM, rec.data):
            body = env.model_dump_json().encode("utf-8")
            sizes.append(len(body))
            sample = sample or body
            key = env.routing_key
            if key not in dests_of:
                dests_of[key] = {d for d, p in binds if topic_match(p, key)}
            for dest in dests_of[key]:
                expected[dest] += 1
    return expected, len(sizes), statistics.fmean(sizes), sample


class Spy:
    """py-spy record on each pid (needs ptrace) until stop(); raw collapsed stacks."""

    def __init__(self, pids: list[int], out: Path, rate: int = 100, gil: bool = False):
        self.files, self.procs = [], []
        out.mkdir(parents=True, exist_ok=True)
        exe = Path(sys.executable).with_name("py-spy")
        for pid in pids:
            f = out / f"{pid}.txt"
            self.files.append(f)
            self.procs.append(subprocess.Popen([str(exe), "record", "--pid", str(pid), "--rate", str(rate),
                                                "--format", "raw", "--nonblocking", "-o", str(f)]
                                               + (["--gil"] if gil else []),
                                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        time.sleep(1.0)
        dead = [p.stderr.read().decode(errors="replace").strip() for p in self.procs if p.poll() is not None]
        if dead:
            raise RuntimeError(f"py-spy could not attach: {dead[0]}")

    def stop(self) -> list[Path]:
        for p in self.procs:
            p.send_signal(signal.SIGINT)
        for p in self.procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
        return [f for f in self.files if f.exists()]


# --- the parts -----------------------------------------------------------------------------------

def deployment(args, url: str, **kw) -> hubworkers.Deployment:
    return hubworkers.Deployment(url, sources=args.sources, partitions=args.partitions, store=args.store,
                                 page_size=args.page_size, prefetch=args.prefetch, batch=args.batch,
                                 linger=args.linger, **kw)


def run_hub(args, ctx, workers: int, spy_dir: Path | None = None) -> dict:
    total = sum(ctx["expected"].values())
    with deployment(args, ctx["url"], cases=ctx["cases"]) as d:
        pids = d.start(workers)
        spy = Spy(pids, spy_dir, gil=args.profile_gil) if spy_dir else None
        cpu0 = [hubworkers.proc_cpu(p) for p in pids]
        b0, m0 = broker_cpu(), machine_cpu()
        d.go()
        elapsed = d.wait_delivered(total, args.timeout)
        cpu = [hubworkers.proc_cpu(p) - c for p, c in zip(pids, cpu0)]
        b, m = broker_cpu() - b0, machine_cpu() - m0
        files = spy.stop() if spy else []
        d.stop()
        d.check_after(ctx["expected"], ctx["messages"])
        kind = d.kind
    return {"elapsed": elapsed, "delivered": total, "published": ctx["messages"], "records": len(ctx["records"]),
            "cpu": sum(cpu), "cpu_each": cpu, "broker_cpu": b, "other_cpu": m - b - sum(cpu), "store": kind,
            "spy": files}


def run_latency(args, url: str, workers: int, mappings, binds) -> dict:
    rate, seconds = args.latency_rate, args.latency_seconds
    cases = max(1, math.ceil(rate * seconds / 3))
    records = make_records(cases)
    expected, messages, _, _ = premap(mappings, records, binds)
    total = sum(expected.values())
    with deployment(args, url, cases=cases, rate=rate, latency=True) as d:
        d.start(workers)
        d.go()
        elapsed = d.wait_delivered(total, seconds * 3 + args.timeout)
        results = d.stop()
        d.check_after(expected, messages)
    reads, sends = {}, []
    for r in results:
        reads.update(r["reads"])
        sends += r["sends"]
    if len(sends) != total:
        raise RuntimeError(f"latency run: {len(sends)} sends noted of {total}")
    lat = sorted((t - reads[k]) * 1000 for k, t, _ in sends)
    # read -> mapped (the envelope's produced_at), and mapped -> accepted (publish, confirms,
    # message log, checkpoint, broker, consumer batch, store reads, send)
    src = statistics.quantiles([(p - reads[k]) * 1000 for k, _, p in sends], n=100, method="inclusive")
    rest = statistics.quantiles([(t - p) * 1000 for _, t, p in sends], n=100, method="inclusive")
    span = max(reads.values()) - min(reads.values())
    q = statistics.quantiles(lat, n=100, method="inclusive")
    return {"p50": q[49], "p99": q[98], "max": lat[-1], "split": (src[49], src[98], rest[49], rest[98]), "records": len(records), "deliveries": total,
            "read_rate": (len(reads) - 1) / span if span > 0 else float("nan"), "elapsed": elapsed,
            "workers": workers}


def run_backlog(args, url: str, workers: int) -> dict:
    cases = max(1, math.ceil(args.backlog / 4))
    with deployment(args, url, cases=0, deliver=False) as d:
        t = time.monotonic()
        filled = d.fill(cases, fillers=args.fillers)
        fill_s = time.monotonic() - t
        expected, total = filled["expected"], sum(filled["expected"].values())
        print(f"  backlog: {filled['published']:,} messages ({total:,} deliveries) in the partition queues "
              f"after {fill_s:.0f}s; draining with {workers} worker(s)", flush=True)
        d.deliver = True
        # The delivery loops start consuming as each worker comes up (before go, which only
        # opens the sources): sample from the moment the processes exist.
        import psutil
        samples, stop, first = [], threading.Event(), []

        def sample():
            procs: dict[int, psutil.Process] = {}
            while not stop.is_set():
                for p in list(d.procs):
                    if p.pid and p.pid not in procs:
                        procs[p.pid] = psutil.Process(p.pid)
                n = d.counter.value if hasattr(d, "counter") else 0
                if n and not first:
                    first.append(time.monotonic())
                try:
                    if procs:
                        samples.append((time.monotonic(), n, [q.memory_info().rss / 2**20 for q in procs.values()]))
                except psutil.Error:
                    pass
                stop.wait(0.2)
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        d.start(workers, timeout=300)
        d.go()
        d.wait_delivered(total, args.backlog_timeout)
        done_at = time.monotonic()
        stop.set()
        sampler.join()
        d.stop()
        d.check_after(expected, filled["published"])
    elapsed = done_at - (first[0] if first else done_at - 1e-9)
    samples = [s for s in samples if len(s[2]) == workers]
    # RSS at 10%, 25%, 50%, 75% and 100% of the deliveries, per worker; flat if after the
    # first 10% (the loops built, the store's pools filled) it grows by at most 16 MB or 10%
    marks = {}
    for frac in (0.1, 0.25, 0.5, 0.75, 1.0):
        s = next((s for s in samples if s[1] >= frac * total), samples[-1])
        marks[frac] = s[2]
    after = [s[2] for s in samples if s[1] >= 0.1 * total] or [samples[-1][2]]
    peak = [max(r[i] for r in after) for i in range(workers)]
    growth = [pk - m for pk, m in zip(peak, marks[0.1])]
    flat = all(g <= max(16.0, 0.1 * m) for g, m in zip(growth, marks[0.1]))
    return {"messages": filled["published"], "deliveries": total, "fill_s": fill_s, "elapsed": elapsed,
            "rate": total / elapsed, "rss_max": max(max(s[2]) for s in samples), "marks": marks,
            "growth": growth, "flat": flat, "workers": workers, "samples": len(samples)}


def measure(plans: list, runs: int) -> dict[str, dict]:
    """Runs round-robin (run 1 of each, then run 2 of each ...), so that a burst of load from
    elsewhere on the machine hits every variant alike; returns the median run of each."""
    rows: dict[str, list] = {label: [] for label, _ in plans}
    for i in range(runs):
        for label, one in plans:
            b0, m0 = broker_cpu(), machine_cpu()
            r = one()
            r.setdefault("broker_cpu", broker_cpu() - b0)
            r.setdefault("other_cpu", machine_cpu() - m0 - r["broker_cpu"] - r["cpu"])
            r["rate"] = r["delivered"] / r["elapsed"]
            rows[label].append(r)
            print(f"  run {i + 1} {label:<12} {r['rate']:>7,.0f} deliveries/s in {r['elapsed']:.2f}s", flush=True)
    return {label: {**sorted(rs, key=lambda r: r["rate"])[len(rs) // 2], "label": label,
                    "all": [r["rate"] for r in rs]} for label, rs in rows.items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a smoke run (small sizes, one run; < 1 minute)")
    ap.add_argument("--messages", type=int, default=12000, help="canonical messages per throughput run (4 per case)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workers", default="1,2", help="hub worker counts; the BENCH line uses the last")
    ap.add_argument("--only", default="hub,raw,faststream,latency,backlog",
                    help="comma list of hub, raw, faststream, latency, backlog")
    ap.add_argument("--amqp", default="amqp://guest:guest@127.0.0.1:5672", help="broker URL without the vhost")
    ap.add_argument("--store", default="auto", choices=("auto", "postgresql", "sqlite"))
    ap.add_argument("--sources", type=int, default=2, help="bench source adapters (a case's records in one)")
    ap.add_argument("--partitions", type=int, default=4, help="partitions per destination (config/hub.yaml)")
    ap.add_argument("--page-size", type=int, default=200)
    ap.add_argument("--prefetch", type=int, default=200)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--linger", type=float, help="experiment: patch BatchConsumer's linger (s) in the workers "
                    "(the hub's is 0.05 and has no setting)")
    ap.add_argument("--raw-window", type=int, default=2000, help="raw baseline: unconfirmed messages in flight")
    ap.add_argument("--raw-prefetch", type=int, default=300)
    ap.add_argument("--fs-in-flight", type=int, default=1000)
    ap.add_argument("--fs-prefetch", type=int, default=100)
    ap.add_argument("--latency-rate", type=float, default=1000.0, help="records per second offered")
    ap.add_argument("--latency-seconds", type=float, default=20.0)
    ap.add_argument("--backlog", type=int, default=100000, help="messages in the backlog (issue 9: 1000000)")
    ap.add_argument("--fillers", type=int, default=2, help="processes publishing the backlog")
    ap.add_argument("--backlog-timeout", type=float, default=3600.0)
    ap.add_argument("--timeout", type=float, default=300.0)
    ap.add_argument("--profile", metavar="DIR", help="after the measured runs, one more hub run per worker count "
                    "under py-spy (raw stacks in DIR; summarised with spysum.py)")
    ap.add_argument("--profile-gil", action="store_true", help="py-spy --gil: only the thread holding the GIL "
                    "(Python CPU work), not threads waiting on a socket or the store")
    args = ap.parse_args()
    if args.quick:
        args.messages, args.runs, args.latency_seconds, args.backlog = 2000, 1, 3.0, 4000
    parts = set(args.only.split(","))
    worker_counts = [int(w) for w in args.workers.split(",")]
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("tongban.catalog").setLevel(logging.ERROR)
    load = os.getloadavg()[0]
    print(f"load average {load:.2f} on {os.cpu_count()} cores" +
          ("  (busy machine: figures will be low and noisy)" if load > 0.7 else ""), flush=True)

    t = time.monotonic()
    cases = max(1, args.messages // 4)
    records = make_records(cases)
    binds = route_binds()
    mappings = load_mappings()
    expected, messages, mean_size, sample = premap(mappings, records, binds)
    print(f"{len(records)} records -> {messages} messages -> {sum(expected.values())} deliveries {dict(expected)}, "
          f"mean envelope {mean_size:.0f} B (prepared in {time.monotonic() - t:.1f}s)", flush=True)

    vhost = f"tongban-bench-{os.getpid()}"
    rabbitmqctl("add_vhost", vhost)
    results, latency, backlog, profiles = {}, None, None, {}
    try:
        rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        url = f"{args.amqp}/{vhost}"
        ctx = {"url": url, "cases": cases, "records": records, "expected": expected, "messages": messages}
        plans = []
        if "hub" in parts:
            for w in worker_counts:
                plans.append((f"hub/{w}w", lambda w=w: run_hub(args, ctx, w)))
        if "raw" in parts:
            body = (sample * 2)[: round(mean_size)]
            plans.append(("raw pika", lambda: raw_pika.run(url, messages, body, args.raw_window,
                                                             args.raw_prefetch, args.timeout)))
        if "faststream" in parts:
            import faststream_pipeline
            plans.append(("faststream", lambda: faststream_pipeline.run(
                url, records, SYSTEM, binds, expected, args.fs_in_flight, args.fs_prefetch, args.timeout)))
        if plans:
            results = measure(plans, args.runs)
        if "latency" in parts:
            print(f"  latency: {args.latency_rate:,.0f} records/s for {args.latency_seconds:.0f}s, "
                  f"{worker_counts[-1]} worker(s)", flush=True)
            latency = run_latency(args, url, worker_counts[-1], mappings, binds)
            print(f"  latency: p50 {latency['p50']:.1f} ms, p99 {latency['p99']:.1f} ms", flush=True)
        if "backlog" in parts:
            backlog = run_backlog(args, url, worker_counts[-1])
        if args.profile and "hub" in parts:
            for w in worker_counts:
                r = run_hub(args, ctx, w, Path(args.profile) / f"hub-{w}w")
                profiles[w] = r
                print(f"  profiled hub/{w}w: {r['delivered'] / r['elapsed']:,.0f} deliveries/s (not counted); "
                      f"stacks in {', '.join(str(f) for f in r['spy'])}", flush=True)
    finally:
        rabbitmqctl("delete_vhost", vhost)
    report(args, results, latency, backlog, worker_counts)
    return 0


def report(args, results: dict, latency: dict | None, backlog: dict | None, worker_counts: list[int]) -> None:
    print(f"\nthroughput: median of {args.runs} run(s), {args.messages} messages a run; deliveries/s from go "
          "to the last delivery recorded (raw: messages consumed/s)")
    print(f"{'':<12} {'delivered/s':>11} {'records/s':>9} {'published/s':>11} {'runs':>23}  "
          f"{'CPU: client':>11} {'broker':>6} {'others':>6}  {'broker ms/1k':>12}  store")
    for r in results.values():
        e = r["elapsed"]
        recs = f"{r['records'] / e:,.0f}" if r.get("records") else "-"
        runs = "/".join(f"{x:,.0f}" for x in r["all"])
        print(f"{r['label']:<12} {r['rate']:>11,.0f} {recs:>9} {r['published'] / e:>11,.0f} {runs:>23}  "
              f"{r['cpu']:>10.1f}s {r['broker_cpu']:>5.1f}s {r['other_cpu']:>5.1f}s  "
              f"{1000 * r['broker_cpu'] / r['delivered'] * 1000:>12.0f}  {r.get('store', '')}")
    print("CPU: seconds in the median run, of the hub's workers (or the baseline's processes), of the broker\n"
          "(beam.smp on 5672), and of everything else on the machine (noise). broker ms/1k: broker CPU per\n"
          "1,000 deliveries.")
    hubs = [results.get(f"hub/{w}w") for w in worker_counts]
    if len(worker_counts) > 1 and all(hubs):
        one, last = hubs[0], hubs[-1]
        print(f"workers {worker_counts[0]} -> {worker_counts[-1]}: x{last['rate'] / one['rate']:.2f} "
              f"(worker CPU per 1k deliveries {1000 * one['cpu'] / one['delivered']:.2f}s -> "
              f"{1000 * last['cpu'] / last['delivered']:.2f}s; per process "
              + " + ".join(f"{c:.1f}" for c in last["cpu_each"]) + f"s in {last['elapsed']:.1f}s)")
    if latency:
        print(f"latency at {args.latency_rate:,.0f} records/s offered ({latency['read_rate']:,.0f}/s read), "
              f"{latency['workers']} worker(s), {latency['deliveries']:,} deliveries: source read -> destination "
              f"accepted p50 {latency['p50']:.1f} ms, p99 {latency['p99']:.1f} ms, max {latency['max']:.0f} ms\n"
              "  of which read -> mapped p50 {:.1f} / p99 {:.1f} ms, mapped -> accepted p50 {:.1f} / p99 {:.1f} ms"
              .format(*latency["split"]))
    if backlog:
        marks = "  ".join(f"{int(k * 100)}%: " + "/".join(f"{v:.0f}" for v in vs) for k, vs in backlog["marks"].items())
        print(f"backlog {backlog['messages']:,} messages ({backlog['deliveries']:,} deliveries), {backlog['workers']} "
              f"worker(s): drained at {backlog['rate']:,.0f}/s in {backlog['elapsed']:.0f}s; worker RSS MB at "
              f"{marks}; max {backlog['rss_max']:.0f} MB, growth after 10% "
              + "/".join(f"{g:+.0f}" for g in backlog["growth"]) + f" MB: {'flat' if backlog['flat'] else 'NOT flat'}")
    w = worker_counts[-1]
    pipe, raw, fs = results.get(f"hub/{w}w"), results.get("raw pika"), results.get("faststream")
    nan = float("nan")
    p, rw, f = (pipe or {}).get("rate", nan), (raw or {}).get("rate", nan), (fs or {}).get("rate", nan)
    goals = [("pipeline/raw >= 0.5", p / rw, p / rw >= 0.5), ("pipeline/faststream >= 1.5", p / f, p / f >= 1.5)]
    if latency:
        goals.append(("p99 <= 10 ms", latency["p99"], latency["p99"] <= 10))
    if backlog:
        goals.append(("worker RSS <= 200 MB and flat", backlog["rss_max"], backlog["rss_max"] <= 200 and backlog["flat"]))
    print("goals: " + "; ".join(f"{g} ({v:.2f}): {'met' if ok else 'NOT met'}" for g, v, ok in goals))
    print(f"BENCH pipeline={p:.0f} raw={rw:.0f} ratio={p / rw:.2f} faststream={f:.0f} vs_faststream={p / f:.2f} "
          f"p99_ms={(latency or {}).get('p99', nan):.1f} workers={w} rss_mb={(backlog or {}).get('rss_max', nan):.0f}")


if __name__ == "__main__":
    sys.exit(main())
