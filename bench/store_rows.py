"""Rows per second the store sustains for the hub's two hot writes, in the batches the
runtime uses: the delivery ledger (Store.commit_delivery_batch, one transaction per
consumer batch, as a DeliveryWorker commits before its acks) and the message log
(Store.log_messages, one per source page). SQLite (a file, WAL) and PostgreSQL (a schema
of its own, dropped after), with 1 and 2 writer processes at once, in the same run.

    .venv/bin/python bench/store_rows.py [--rows 20000] [--batch 100]

Last line: STORE sqlite_ledger=<rows/s> pg_ledger=<rows/s> pg_ledger_2p=<rows/s> ..."""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PG_URL = os.environ.get("TONGBAN_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _ledger_rows(n: int, tag: str) -> list[dict]:
    return [{"message_id": f"{tag}-{i}", "case_no": f"C{tag}{i // 3}", "sequence": i % 3 + 1, "kind": "case_event",
             "outcome": "accepted"} for i in range(n)]


def _log_rows(n: int, tag: str) -> list[dict]:
    now = datetime.now(timezone.utc)
    return [{"message_id": f"{tag}-{i}", "kind": "case_event", "department": "commerce", "system": "bench",
             "track": "old", "case_no": f"C{tag}{i // 3}", "sequence": i % 3 + 1, "routing_key": "commerce.case_event.x",
             "mapping": "commerce.case_event@1", "record_key": f"{tag}-{i}", "produced_at": now} for i in range(n)]


def _write(url: str, what: str, rows: int, batch: int, tag: str, ready, out) -> None:
    from hub.store import Store
    store = Store.open(url)
    data = _ledger_rows(rows, tag) if what == "ledger" else _log_rows(rows, tag)
    ready.wait()             # every writer set up (imports, connection) before the clock starts
    start = time.perf_counter()
    for i in range(0, rows, batch):
        part = data[i:i + batch]
        if what == "ledger":
            store.commit_delivery_batch("platform", delivered=part, hold_upserts=[], hold_deletes=[], parks=[],
                                        unparks=[])
        else:
            store.log_messages(part)
    out.put((start, time.perf_counter()))
    store.close()


def measure(url: str, what: str, rows: int, batch: int, procs: int) -> float:
    ctx = mp.get_context("spawn")
    out, ready = ctx.Queue(), ctx.Barrier(procs)
    ps = [ctx.Process(target=_write, args=(url, what, rows, batch, uuid.uuid4().hex[:8], ready, out))
          for _ in range(procs)]
    for p in ps:
        p.start()
    spans = [out.get() for _ in ps]
    for p in ps:
        p.join()
    return rows * procs / (max(e for _, e in spans) - min(s for s, _ in spans))


def _pg_schema() -> tuple[str, callable] | None:
    import sqlalchemy as sa
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    try:
        admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
        with admin.connect() as conn:
            conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    except Exception as exc:
        print(f"PostgreSQL not reachable ({exc.__class__.__name__}): SQLite only")
        return None

    def drop():
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()
    url = sa.make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False), drop


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=20000, help="rows per writer process")
    ap.add_argument("--batch", type=int, default=100, help="rows per transaction (the consumer batch)")
    args = ap.parse_args()
    from hub.store import Store
    figures = {}
    with tempfile.TemporaryDirectory() as tmp:
        stores = {"sqlite": f"sqlite:///{tmp}/bench.db"}
        pg = _pg_schema()
        if pg:
            stores["pg"] = pg[0]
        try:
            for name, url in stores.items():
                Store.open(url).close()        # migrate once, outside the clock
                for what in ("ledger", "log"):
                    for procs in (1, 2):
                        rate = measure(url, what, args.rows, args.batch, procs)
                        key = f"{name}_{what}" + ("" if procs == 1 else f"_{procs}p")
                        figures[key] = rate
                        print(f"{name:<7} {what:<7} {procs} writer(s)  batch {args.batch:>4}  {rate:>9,.0f} rows/s",
                              flush=True)
        finally:
            if pg:
                pg[1]()
    print("STORE " + " ".join(f"{k}={v:.0f}" for k, v in figures.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
