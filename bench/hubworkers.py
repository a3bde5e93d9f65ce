"""The hub as deployed: N worker processes, each a whole `hub.runtime.runner.Hub`, the way
`tongban run --workers N` starts them (hub/runtime/workers.py: spawned, one Hub each,
sharing the sources and the partitions through the allotment and the store), with two
things swapped for the benchmark and nothing else:

- the sources: `BenchAdapter`, an adapter (department commerce, system commerce-registry,
  the real mapping) whose source pages over the seeded records of benchlib.make_records,
  split by case over `sources` adapters (a case's records stay in one source, as a case
  stays in one department's system); it serves nothing until the parent says go, and can
  release its records at a fixed rate instead of all at once (latency.py);
- the destinations: `CountingDestination` (type `bench_counting`), which accepts every
  message and counts it in shared memory; it can note when each delivery was sent.

Everything between is the real hub: SourceLoop (map, validate, catalogue check, pipelined
confirms, message log, checkpoint), routing by the broker, a headers exchange and P
partition queues per destination, ConsumerLoop + DeliveryWorker per partition (holds,
ledger, acks), the dead-letter and unrouted recorders, the allotment's heartbeat.

Use: `with Deployment(...) as d: d.start(workers); d.go(); d.wait_delivered(); d.stop()`.
The store is a PostgreSQL schema of its own (dropped after) when PostgreSQL answers,
else a SQLite file; both are said in the output."""
from __future__ import annotations

import json
import logging
import math
import multiprocessing as mp
import os
import queue as queue_mod
import shutil
import sys
import tempfile
import time
import uuid
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import DEPARTMENT, ROOT, SYSTEM, make_records  # noqa: E402
from hub.adapter import Source  # noqa: E402

PG_URL = os.environ.get("TONGBAN_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
COUNTING = "bench_counting"


# --- what runs inside a worker ------------------------------------------------------------------
class GatedSource(Source):
    """Pages over a list; empty until `go` is set; with `rate`, only the records whose
    time has come (rate records per second from go) are served. Notes the read time of
    each record when `reads` is a dict."""

    def __init__(self, records, go, rate: float | None = None, reads: dict | None = None):
        self.records, self.go, self.rate, self.reads = records, go, rate, reads
        self.t0 = None

    def fetch(self, cursor, limit):
        from hub.adapter import Page
        start = (cursor or {}).get("next", 0)
        if not self.go.is_set():
            return Page(records=[], cursor=cursor or {"next": 0}, has_more=False)
        if self.t0 is None:
            self.t0 = self.go_time()
        end = min(len(self.records), start + limit)
        if self.rate:
            end = min(end, int((time.time() - self.t0) * self.rate))
        page = self.records[start:end] if end > start else []
        if self.reads is not None:
            now = time.time()
            for r in page:
                self.reads.setdefault(r.key, now)
        nxt = start + len(page)
        # has_more only while records are due now: else the loop waits its poll interval
        due = nxt < len(self.records) and (not self.rate or nxt < int((time.time() - self.t0) * self.rate))
        return Page(records=page, cursor={"next": nxt}, has_more=due)

    def go_time(self) -> float:
        return _GO_AT.value if _GO_AT is not None and _GO_AT.value else time.time()

    def close(self):
        pass


class BenchAdapter:
    style = "bench"
    has_sink = False

    def __init__(self, name: str, config: dict, records, go, rate=None, reads=None):
        self.name, self.department, self.system = name, DEPARTMENT, SYSTEM
        self.config = config
        self._source = GatedSource(records, go, rate, reads)

    def source(self):
        return self._source

    def sink(self):
        return None

    def check(self):
        return None


class CountingDestination:
    def __init__(self, name: str, counter=None, sends: list | None = None, **_):
        self.name, self.counter, self.sends = name, counter, sends

    def send(self, body: bytes, meta) -> str:
        if self.sends is not None:
            self.sends.append((body, time.time()))
        if self.counter is not None:
            with self.counter.get_lock():
                self.counter.value += 1
        return "accepted"

    def close(self) -> None:
        pass


_GO_AT = None


def _install(registry) -> None:
    """The registry finds the bench adapters by name (the hub asks it for has_sink too)."""
    if getattr(registry, "_bench", False):
        return
    real = registry.load
    registry.load = lambda name: BenchAdapter if name.startswith("bench") else real(name)
    registry._bench = True


def split_records(records, sources: int) -> list[list]:
    """A case's records in one source, by a stable hash of its case number."""
    out = [[] for _ in range(sources)]
    for r in records:
        out[zlib.crc32(str(r.data.get("applyNo", r.key)).encode()) % sources].append(r)
    return out


def _send_note(body: bytes, sent: float) -> tuple[str, float, float]:
    """(record key, sent at, produced at): the envelope's produced_at is stamped by the
    mapping, so it splits the latency into the source's part and the rest."""
    from datetime import datetime
    env = json.loads(body)
    return env["record_key"], sent, datetime.fromisoformat(env["produced_at"]).timestamp()


def _worker(index, settings, spec, go, go_at, stop, counter, out_q):
    global _GO_AT
    _GO_AT = go_at
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("tongban.catalog").setLevel(logging.ERROR)
    try:
        from hub import delivery
        from hub.adapter import registry
        from hub.runtime import runner
        records = make_records(spec["cases"]) if spec["cases"] else []
        parts = split_records(records, max(1, spec["sources"]))
        reads: dict | None = {} if spec.get("latency") else None
        sends: list | None = [] if spec.get("latency") else None
        adapters = {f"bench{j}": BenchAdapter(f"bench{j}", settings["adapters"][f"bench{j}"], parts[j], go,
                                              spec.get("rate_per_source"), reads)
                    for j in range(spec["sources"])}
        _install(registry)
        registry.create = lambda name, conf: adapters[name]
        if spec.get("linger") is not None:   # an experiment only: the hub has no setting for it
            from hub.bus.consumer import BatchConsumer
            BatchConsumer.__init__.__kwdefaults__["linger"] = spec["linger"]
        delivery.TYPES[COUNTING] = lambda name, **kw: CountingDestination(name, counter, sends)
        hub = runner.Hub(settings).start()
        out_q.put({"ready": index, "pid": os.getpid()})
        stop.wait()
        hub.stop.set()
        hub.shutdown()
        out = {"done": index, "cpu": time.process_time()}
        if reads is not None:
            out["reads"], out["sends"] = reads, [_send_note(b, t) for b, t in sends]
        out_q.put(out)
    except BaseException as exc:  # tell the parent, or it waits for nothing
        import traceback
        out_q.put({"error": index, "reason": f"{exc!r}\n{traceback.format_exc()}"})


class StreamSource(Source):
    """A Source over an iterator of record lists: serves them in order, `limit` at a time,
    holding one chunk at most (the backlog is bigger than memory should be)."""

    def __init__(self, chunks):
        self.chunks, self.buf, self.done = iter(chunks), [], False

    def fetch(self, cursor, limit):
        from hub.adapter import Page
        start = (cursor or {}).get("next", 0)
        while len(self.buf) < limit and not self.done:
            nxt = next(self.chunks, None)
            if nxt is None:
                self.done = True
            else:
                self.buf += nxt
        page, self.buf = self.buf[:limit], self.buf[limit:]
        return Page(records=page, cursor={"next": start + len(page)}, has_more=bool(self.buf) or not self.done)

    def close(self):
        pass


def _filler(j, parts, cases, settings, page_size, out_q):
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("tongban.catalog").setLevel(logging.ERROR)
    try:
        from benchlib import iter_records, topic_match
        from hub import bus
        from hub.mapping import MappingSet
        from hub.catalog import CatalogueCheck
        from hub.routing import load_routes
        from hub.runtime.source_worker import SourceWorker
        from hub.store import Store
        binds = [(r.destination, p) for r in load_routes(settings["routes_file"]) for p in r.patterns()]
        dests_of: dict[str, set] = {}
        expected: dict[str, int] = {}
        store = Store.open(settings["db_url"])
        conn = bus.connect(settings["broker_url"])
        publisher = bus.ConfirmingPublisher(conn)
        real_publish = publisher.publish

        def publish(body, exchange, routing_key, **kw):   # counts what each destination will get
            if routing_key not in dests_of:
                dests_of[routing_key] = {d for d, p in binds if topic_match(p, routing_key)}
            for d in dests_of[routing_key]:
                expected[d] = expected.get(d, 0) + 1
            real_publish(body, exchange, routing_key, **kw)
        publisher.publish = publish
        worker = SourceWorker(name=f"benchfill{j}:old", department=DEPARTMENT, system=SYSTEM, track="old",
                              source=StreamSource(iter_records(cases, j, parts)),
                              mappings=MappingSet.load(settings["mappings_dir"]), publisher=publisher,
                              store=store, page_size=page_size, check=CatalogueCheck(store))
        records = published = 0
        while True:
            r = worker.poll_once()
            records, published = records + r.records, published + r.published
            if not r.has_more:
                break
        publisher.close()
        conn.release()
        store.close()
        out_q.put({"filled": j, "records": records, "published": published, "expected": expected})
    except BaseException as exc:
        import traceback
        out_q.put({"error": j, "reason": f"{exc!r}\n{traceback.format_exc()}"})


# --- the parent --------------------------------------------------------------------------------
def _pg_ok() -> bool:
    try:
        import sqlalchemy as sa
        e = sa.create_engine(PG_URL, poolclass=sa.pool.NullPool, connect_args={"connect_timeout": 3})
        with e.connect() as c:
            c.exec_driver_sql("select 1")
        return True
    except Exception:
        return False


class Deployment:
    """One fresh store (PostgreSQL schema or SQLite file) and N hub worker processes on a
    vhost the caller made. `cases`: cases of seeded records (3 records each) over
    `sources` bench adapters; `rate`: records/s offered in all (None: all at once)."""

    def __init__(self, broker_url: str, *, cases: int, sources: int = 2, partitions: int = 4,
                 store: str = "auto", rate: float | None = None, latency: bool = False,
                 page_size: int = 200, poll_interval: float = 0.05, prefetch: int = 200, batch: int = 100,
                 deliver: bool = True, linger: float | None = None):
        from hub.config import load_settings
        self.broker_url, self.cases, self.sources = broker_url, cases, sources
        self.kind = ("postgresql" if _pg_ok() else "sqlite") if store == "auto" else store
        self.tmp = tempfile.mkdtemp(prefix="tongban-bench-")
        self.schema = None
        if self.kind == "postgresql":
            self.schema = f"bench_{uuid.uuid4().hex[:10]}"
            self._pg_admin(f'CREATE SCHEMA "{self.schema}"')
            db_url = f"{PG_URL}?options=-csearch_path%3D{self.schema}"
        else:
            db_url = f"sqlite:///{self.tmp}/hub.db"
        s = load_settings(ROOT / "config" / "hub.yaml", environ={})
        s.update(broker_url=broker_url, db_url=db_url)
        s["adapters"] = {f"bench{j}": {"page_size": page_size, "poll_interval": poll_interval}
                         for j in range(sources)}
        # deliver=False: no delivery loops at all (the partition queues are still declared and
        # fill up); set self.deliver and start again to drain them (the backlog run)
        self.dest_settings = {"platform": {"type": COUNTING}, "province": {"type": COUNTING}}
        s["destinations"] = dict(self.dest_settings) if deliver else {}
        self.deliver = deliver
        s["partitions"] = {"default": partitions}
        s.setdefault("consumer", {}).update(prefetch=prefetch, batch_size=batch)
        self.settings = s
        self.spec = {"cases": cases, "sources": sources, "latency": latency, "linger": linger,
                     "rate_per_source": (rate / sources) if rate else None}
        self.procs: list[mp.Process] = []
        self.results: list[dict] = []

    def _pg_admin(self, sql: str) -> None:
        import sqlalchemy as sa
        e = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
        with e.connect() as c:
            c.exec_driver_sql(sql)

    def __enter__(self) -> "Deployment":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
        if self.schema:
            try:
                self._pg_admin(f'DROP SCHEMA "{self.schema}" CASCADE')
            except Exception as e:  # say so; never hide a leftover
                print(f"  (could not drop schema {self.schema}: {e})")
        shutil.rmtree(self.tmp, ignore_errors=True)

    def prepare(self) -> None:
        """Migrate the store and declare the topology once, before any worker starts."""
        from hub.adapter import registry
        from hub.runtime.runner import declare_topology
        from hub.store import Store
        _install(registry)
        with Store.open(self.settings["db_url"]) as store:
            declare_topology(self.settings, store)

    def start(self, workers: int, timeout: float = 120.0) -> list[int]:
        """Start the workers; returns their pids once each Hub runs and the allotment has
        spread the sources and partitions evenly (each process at most its share). May be
        called again after stop(), on the same store and queues (e.g. with deliver changed)."""
        self.settings["destinations"] = dict(self.dest_settings) if self.deliver else {}
        self.prepare()
        ctx = mp.get_context("spawn")
        self.go_event, self.stop_event = ctx.Event(), ctx.Event()
        self.go_at = ctx.Value("d", 0.0)
        self.counter = ctx.Value("q", 0)
        self.out_q = ctx.Queue()
        self.procs = [ctx.Process(target=_worker, name=f"bench-hub-{i}", args=(
            i, self.settings, self.spec, self.go_event, self.go_at, self.stop_event, self.counter, self.out_q))
            for i in range(workers)]
        for p in self.procs:
            p.start()
        pids = []
        deadline = time.monotonic() + timeout
        while len(pids) < workers:
            msg = self._get(deadline)
            pids.append(msg["pid"])
        self.pids = pids
        self.wait_balanced(workers, deadline)
        return pids

    def _get(self, deadline: float) -> dict:
        while True:
            try:
                msg = self.out_q.get(timeout=max(0.1, min(1.0, deadline - time.monotonic())))
            except queue_mod.Empty:
                if time.monotonic() > deadline:
                    raise TimeoutError("hub workers did not answer in time") from None
                if any(p.exitcode not in (None, 0) for p in self.procs):
                    raise RuntimeError("a hub worker died: " + str([p.exitcode for p in self.procs])) from None
                continue
            if "error" in msg:
                raise RuntimeError(f"hub worker {msg['error']} failed: {msg['reason']}")
            return msg

    def wait_balanced(self, workers: int, deadline: float) -> None:
        """Until every unit of every group is held and no process holds more than its share."""
        from hub.store import Store
        with Store.open(self.settings["db_url"]) as store:
            while time.monotonic() < deadline:
                live = store.live_workers(3.0)
                groups: dict[str, list[int]] = {}
                for w in live:
                    per: dict[str, int] = {}
                    for _unit, group in (w["holds"] or {}).items():
                        per[group] = per.get(group, 0) + 1
                    for g, n in per.items():
                        groups.setdefault(g, []).append(n)
                parts = self.settings["partitions"]["default"]
                want = {"sources": self.sources, **({"platform": parts, "province": parts} if self.deliver else {})}
                ok = len(live) == workers and all(g in groups for g in want)
                if ok:
                    for g, counts in groups.items():
                        total = sum(counts)
                        if g in want and total != want[g]:
                            ok = False
                        if max(counts) > math.ceil(total / workers):
                            ok = False
                if ok:
                    self.holds = {g: sorted(c) for g, c in groups.items()}
                    return
                time.sleep(0.5)
        raise TimeoutError(f"the allotment did not spread the work over {workers} worker(s) in time")

    def go(self) -> float:
        self.go_at.value = time.time()
        self.go_event.set()
        self.t0 = time.monotonic()
        return self.t0

    def wait_delivered(self, expected: int, timeout: float) -> float:
        """Seconds from go until the destinations had every delivery and the ledger recorded it."""
        from hub.store import Store
        deadline = self.t0 + timeout
        while self.counter.value < expected:
            if time.monotonic() > deadline:
                raise TimeoutError(f"delivered {self.counter.value} of {expected} in {timeout:.0f}s")
            if any(p.exitcode is not None for p in self.procs):
                raise RuntimeError("a hub worker exited during the run")
            time.sleep(0.01)
        with Store.open(self.settings["db_url"]) as store:
            while sum(store.counts()["deliveries"].values()) < expected:
                if time.monotonic() > deadline:
                    raise TimeoutError("the ledger did not record every delivery in time")
                time.sleep(0.02)
        return time.monotonic() - self.t0

    def stop(self, timeout: float = 60.0) -> list[dict]:
        """Stop every worker (they finish the batch in hand); their final reports."""
        if not self.procs:
            return self.results
        self.stop_event.set()
        deadline = time.monotonic() + timeout
        results = []
        try:
            while len(results) < len(self.procs):
                msg = self._get(deadline)
                if "done" in msg:
                    results.append(msg)
        except (TimeoutError, RuntimeError) as exc:
            print(f"  (stopping workers: {exc})")
        for p in self.procs:
            if p.pid is None:   # never started (an earlier one failed to)
                continue
            p.join(max(0.1, deadline - time.monotonic()))
            if p.is_alive():
                p.kill()
                p.join(5)
        self.procs, self.results = [], results
        return results

    def fill(self, cases: int, fillers: int = 2, page_size: int = 500, timeout: float = 3600.0) -> dict:
        """The backlog: `fillers` processes, each a real SourceWorker (map, validate, publish
        confirmed, message log, checkpoint) over its share of `cases` cases made chunk by chunk
        (benchlib.iter_records: never all in memory), with no hub worker delivering, so every
        message stays in the partition queues. Returns published messages and the deliveries
        expected per destination."""
        self.prepare()
        ctx = mp.get_context("spawn")
        out_q = ctx.Queue()
        procs = [ctx.Process(target=_filler, name=f"bench-fill-{j}", args=(j, fillers, cases, self.settings,
                                                                           page_size, out_q))
                 for j in range(fillers)]
        for p in procs:
            p.start()
        got, deadline = [], time.monotonic() + timeout
        while len(got) < fillers:
            try:
                msg = out_q.get(timeout=1.0)
            except queue_mod.Empty:
                if time.monotonic() > deadline or any(p.exitcode not in (None, 0) for p in procs):
                    for p in procs:
                        p.kill()
                    raise RuntimeError("filling the backlog failed: " + str([p.exitcode for p in procs])) from None
                continue
            if "error" in msg:
                raise RuntimeError(f"backlog filler {msg['error']} failed: {msg['reason']}")
            got.append(msg)
        for p in procs:
            p.join(30)
        expected: dict[str, int] = {}
        for m in got:
            for d, n in m["expected"].items():
                expected[d] = expected.get(d, 0) + n
        return {"published": sum(m["published"] for m in got), "records": sum(m["records"] for m in got),
                "expected": expected}

    def check_after(self, expected: dict, published: int) -> None:
        """Every queue drained, every message logged, every delivery in the ledger."""
        from hub import bus
        from hub.store import Store
        conn = bus.connect(self.broker_url)
        try:
            queues = [q for d in expected for q in bus.names.partition_queues(d, self.settings["partitions"]["default"])]
            left = {q: bus.queue_depth(conn, q)[0] for q in queues + [bus.names.DEAD_QUEUE, bus.names.UNROUTED_QUEUE]}
        finally:
            conn.release()
        with Store.open(self.settings["db_url"]) as store:
            counts = store.counts()
        problems = [f"{q}: {n} left" for q, n in left.items() if n]
        if counts["messages"] != published:
            problems.append(f"message log has {counts['messages']} of {published}")
        if counts["deliveries"] != dict(expected):
            problems.append(f"ledger {counts['deliveries']} != expected {dict(expected)}")
        if problems:
            raise RuntimeError("after the run: " + "; ".join(problems))


def proc_cpu(pid: int) -> float:
    """utime+stime of a process (all its threads), seconds; nan once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            f = fh.read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return float("nan")


def rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")
