"""Rows per second of `tongban store purge-expired` and `tongban store rekey` over dead letters
sealed with AES-GCM, on SQLite (a temp file) or PostgreSQL (a schema of its own), and what
sealing costs a dead-letter write.

    .venv/bin/python bench/payload_retention.py --rows 20000 [--pg]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hub.store import Store  # noqa: E402
from hub.store.keyring import Key, KeyRing  # noqa: E402
from hub.store.protection import Retention  # noqa: E402
from hub.store.rekey import rekey  # noqa: E402
from hub.store.retention import purge_expired  # noqa: E402

PAYLOAD = '{"applicant": {"name": "张三丰", "id_number": "330106199003071236"}, "pad": "' + "x" * 900 + '"}'


def _open(pg: bool):
    if not pg:
        return Store.open(f"sqlite:///{tempfile.mkdtemp()}/bench.db"), None
    import sqlalchemy as sa
    url = os.environ.get("TONGBAN_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE SCHEMA "{schema}"')

    def drop():
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    return Store.open(url, engine_kwargs={"connect_args": {"options": f"-csearch_path={schema}"}}), drop


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=20000)
    ap.add_argument("--pg", action="store_true")
    args = ap.parse_args()
    store, drop = _open(args.pg)
    k1, k2 = Key("k1", "aes-gcm", os.urandom(32)), Key("k2", "sm4-gcm", os.urandom(16))
    old = datetime.now(timezone.utc) - timedelta(days=100)
    try:
        for label, ring in (("plain", KeyRing()), ("aes-gcm", KeyRing([k1], "k1"))):
            store.payload_keys = ring
            t = time.perf_counter()
            for i in range(2000):
                store.add_dead_letter({"id": f"{label}-{i}", "stage": "deliver", "reason": "r", "attempts": 1,
                                       "status": "replayed", "payload": PAYLOAD, "last_failed_at": old})
            print(f"add_dead_letter {label}: {2000 / (time.perf_counter() - t):,.0f}/s")
        store.payload_keys = KeyRing([k1], "k1")
        with store._engine.begin() as conn:   # the bulk of the rows in one go: the bench times purge and rekey
            from hub.store.schema import dead_letters
            now = datetime.now(timezone.utc)
            rows = [{"id": f"bulk-{i}", "stage": "deliver", "reason": "r", "attempts": 1, "status": "replayed",
                     "payload": store.payload_keys.seal(PAYLOAD, "dead_letters.payload"), "first_failed_at": old,
                     "last_failed_at": old, "created_at": now, "updated_at": now} for i in range(args.rows)]
            conn.execute(dead_letters.insert(), rows)
        total = args.rows + 4000
        store.payload_keys = KeyRing([k1, k2], "k2")
        t = time.perf_counter()
        done = rekey(store, batch=1000)["dead_letters.payload"]
        print(f"rekey k1 -> k2 (sm4-gcm): {done['resealed']:,} rows, {done['resealed'] / (time.perf_counter() - t):,.0f} rows/s")
        t = time.perf_counter()
        dry = purge_expired(store, Retention(payload_days=30), dry_run=True)["dead_letters"]["expired"]
        print(f"purge-expired --dry-run: {dry:,} rows counted in {time.perf_counter() - t:.2f} s")
        t = time.perf_counter()
        n = purge_expired(store, Retention(payload_days=30, batch_size=1000))["dead_letters"]["expired"]
        print(f"purge-expired: {n:,} payloads removed, {n / (time.perf_counter() - t):,.0f} rows/s")
        assert n == total == dry, (n, total, dry)
    finally:
        store.close()
        if drop:
            drop()


if __name__ == "__main__":
    main()
