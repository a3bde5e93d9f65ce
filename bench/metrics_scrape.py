"""How long one /metrics scrape takes (issue 11: < 100 ms): the hub's counters and histograms
for every department, destination and stage, summed over N worker processes' files
(multiprocess mode, as `tongban run --workers N` serves them), plus the state gauges read
from the store and the broker's management API at scrape time.

    .venv/bin/python bench/metrics_scrape.py [--workers 2] [--scrapes 50] [--db-url URL]

Prints the median and p95 per part and a BENCH line. The store is a fresh SQLite file
unless --db-url names one (a PostgreSQL with a million deliveries, say: the gauges read
holds and breakers only, not the ledger, so its size should not matter)."""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DEPARTMENTS = ("commerce", "ndrc", "housing", "land", "platform")
DESTINATIONS = ("platform", "province", "commerce", "commerce.new", "ndrc", "ndrc.new", "housing", "land")
STAGES = ("fetch", "decode", "map", "validate", "conflict", "route", "sequence", "deliver")


def _fill(_index: int) -> None:
    """One worker's worth of figures: every label combination the hub can produce."""
    from hub.observability import metrics
    for d in DEPARTMENTS:
        for track in ("old", "new"):
            metrics.source_page(d, track, 200, 199, True)
        for s in STAGES:
            metrics.dead_letter(d, "platform" if s == "deliver" else None, s)
    for dest in DESTINATIONS:
        metrics.delivery_batch(dest, {(d, t): 100 for d in DEPARTMENTS for t in ("old", "new")}, 3)
        for i in range(200):
            metrics.delivered_one(dest, 0.0005 * i, time.time() - 0.01 * i)


def _timed(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--scrapes", type=int, default=50)
    ap.add_argument("--db-url")
    args = ap.parse_args()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="tongban-bench-metrics-")
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_fill, args=(i,)) for i in range(args.workers)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    from hub.config import load_settings
    from hub.observability import exposition, state
    from hub.store import Store
    settings = load_settings()
    settings["db_url"] = args.db_url or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    store = Store.open(settings["db_url"])
    body, _ = exposition.render_metrics(settings, store)      # warm: the store's first connection
    parts = {
        "scrape": lambda: exposition.render_metrics(settings, store),
        "store gauges": lambda: state.store_families(store, list(settings["destinations"])),
        "queue gauges": lambda: state.queue_families(settings["broker_url"]),
    }
    results = {name: sorted(_timed(fn, args.scrapes)) for name, fn in parts.items()}
    for name, ms in results.items():
        print(f"{name:<14} median {statistics.median(ms):7.2f} ms   p95 {ms[int(len(ms) * 0.95) - 1]:7.2f} ms")
    lines = body.count(b"\n")
    print(f"body {len(body)} bytes, {lines} lines, {args.workers} worker process file sets")
    scrape = results["scrape"]
    print(f"BENCH metrics_scrape_ms={statistics.median(scrape):.2f} p95_ms={scrape[int(len(scrape) * 0.95) - 1]:.2f} "
          f"workers={args.workers} lines={lines}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
