"""How long each console page takes to render over a large store (issue 11: < 200 ms with
1,000,000 messages, 1,000,000 deliveries and 10,000 dead letters, on PostgreSQL).

The store is a PostgreSQL schema of its own, filled in SQL (generate_series: a million rows
in seconds, where the hub's own insert path would take minutes) and dropped afterwards; the
pages are rendered through the app (Starlette's test client, logged in as an admin), each
--runs times, and the median is printed per page. The overview also asks the RabbitMQ
management API (hub/ops/status.py), as it does when served.

    .venv/bin/python bench/console_pages.py [--messages 1000000] [--dead-letters 10000] [--runs 5]

Last line: CONSOLE messages=<n> deliveries=<n> dead_letters=<n> slowest=<page> <ms> ..."""
from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PG_URL = os.environ.get("TONGBAN_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

# 20 departments x 3 steps per case; two destinations; deliveries spread over the last two
# hours so the rate chart's window holds some of them.
FILL = [
    """INSERT INTO message_log (message_id, kind, department, system, track, case_no, sequence, routing_key,
                                mapping, record_key, produced_at, logged_at)
       SELECT 'm-' || i, CASE WHEN i % 10 = 0 THEN 'certificate' ELSE 'case_event' END,
              (ARRAY['commerce','ndrc','housing','land'])[i % 4 + 1], 'bench', 'old', 'C' || (i / 3), i % 3 + 1,
              'commerce.case_event.accepted', 'commerce.case_event@1', 'r-' || i,
              now() - (i % 7200) * interval '1 second', now() - (i % 7200) * interval '1 second'
       FROM generate_series(1, :n) AS i""",
    """INSERT INTO deliveries (message_id, destination, case_no, sequence, kind, outcome, delivered_at, track)
       SELECT 'm-' || i, CASE WHEN i % 5 = 0 THEN 'province' ELSE 'platform' END, 'C' || (i / 3), i % 3 + 1,
              'case_event', 'accepted', now() - (i % 7200) * interval '1 second', 'old'
       FROM generate_series(1, :d) AS i""",
    """INSERT INTO dead_letters (id, message_id, stage, reason, department, destination, record_key, case_no,
                                 attempts, first_failed_at, last_failed_at, payload, headers, status, created_at,
                                 updated_at)
       SELECT 'dl-' || i, 'm-' || i, (ARRAY['validate','map','deliver','decode'])[i % 4 + 1],
              'gave up after 5 attempts: HTTP 503 from the platform (case ' || (i / 3) || ')',
              (ARRAY['commerce','ndrc','housing','land'])[i % 4 + 1], CASE WHEN i % 4 = 2 THEN 'platform' END,
              'r-' || i, 'C' || (i / 3), 5, now() - (i % 86400) * interval '1 second',
              now() - (i % 86400) * interval '1 second', '{"applicant": {"id_number": "330106199003071236"}}',
              NULL, CASE WHEN i % 10 = 0 THEN 'replayed' ELSE 'dead' END, now(), now()
       FROM generate_series(1, :k) AS i""",
    """INSERT INTO audit_log (at, actor, action, target, reason)
       SELECT now() - i * interval '1 minute', 'bench', 'dlq.replay', 'dl-' || i, 'bench'
       FROM generate_series(1, 2000) AS i""",
    "ANALYZE",
]


def fill(url: str, messages: int, deliveries: int, dead: int) -> None:
    import sqlalchemy as sa
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for sql in FILL:
            conn.execute(sa.text(sql), {"n": messages, "d": deliveries, "k": dead})
    engine.dispose()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--deliveries", type=int, help="default: as many as messages")
    ap.add_argument("--dead-letters", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--overview-cache", type=float, default=0,
                    help="overview_cache_seconds (default 0: gather the figures on every request)")
    ap.add_argument("--keep", action="store_true", help="keep the schema (its name is printed)")
    args = ap.parse_args()
    deliveries = args.messages if args.deliveries is None else args.deliveries

    from starlette.testclient import TestClient
    from hub.config import load_settings
    from hub.console.app import create_app
    from hub.console.passwords import hash_password
    from hub.store import Store
    from hub.store.schemas import fresh_schema_url

    schema = f"bench_console_{uuid.uuid4().hex[:8]}"
    url = fresh_schema_url(PG_URL, schema)
    store = Store.open(url)
    try:
        t = time.perf_counter()
        fill(url, args.messages, deliveries, args.dead_letters)
        print(f"filled {args.messages:,} messages, {deliveries:,} deliveries, {args.dead_letters:,} dead letters "
              f"in {time.perf_counter() - t:.1f}s (schema {schema})", flush=True)
        settings = load_settings()
        settings["db_url"] = url
        # uncached: what gathering the figures costs on each request (the overview's worst case)
        settings["console"] = {"refresh_seconds": 0, "overview_cache_seconds": args.overview_cache}
        store.add_console_user("bench", "admin", hash_password("bench password"))
        c = TestClient(create_app(settings, store), base_url="http://127.0.0.1")
        token = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text).group(1)
        c.post("/login", data={"name": "bench", "password": "bench password", "csrf": token})
        pages = {"overview": "/", "queues": "/queues", "dead letters": "/deadletters",
                 "dead letters filtered": "/deadletters?stage=deliver&dest=platform&cause=503",
                 "dead letters page 100": "/deadletters?page=100", "dead letter": "/deadletters/dl-4242",
                 "case trace": "/trace?case_no=C123456", "dual-track": "/dualtrack", "audit": "/audit"}
        medians = {}
        for name, path in pages.items():
            times = []
            for _ in range(args.runs + 1):   # the first warms caches and the pool; not counted
                t = time.perf_counter()
                r = c.get(path)
                times.append((time.perf_counter() - t) * 1000)
                assert r.status_code == 200, (path, r.status_code, r.text[:300])
            medians[name] = statistics.median(times[1:])
            print(f"{name:<24}{medians[name]:8.1f} ms   (runs: {' '.join(f'{x:.0f}' for x in times[1:])})",
                  flush=True)
        slowest = max(medians, key=medians.get)
        print(f"CONSOLE messages={args.messages} deliveries={deliveries} dead_letters={args.dead_letters} "
              f"slowest={slowest.replace(' ', '_')} {medians[slowest]:.0f}ms "
              + " ".join(f"{k.replace(' ', '_')}={v:.0f}" for k, v in medians.items()))
    finally:
        store.close()
        if not args.keep:
            import sqlalchemy as sa
            admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
