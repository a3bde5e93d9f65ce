"""How long the monthly report takes on a large store: fills a fresh PostgreSQL schema with a
year of simulated cases (default 2,000,000, a city's year), then times `build_report` for the
busiest month, all levels and county only, and prints the times.

    .venv/bin/python bench/report_monthly.py [--cases N] [--url postgresql+psycopg://...]

The rows are written straight to supervision_cases with COPY (hub/report/facts.py's shape,
without the pydantic round trip) so filling is not what is measured; its time is printed too."""
from __future__ import annotations

import argparse
import time
import uuid

import sqlalchemy as sa

from hub.report import build_report
from hub.report.facts import add_working_days
from hub.store import Store
from hub.store.schema import supervision_cases
from hub.store.types import utcnow
from sims import supervision


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=2_000_000)
    ap.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    ap.add_argument("--last-month", default="2027-03")
    a = ap.parse_args()
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(a.url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        store = Store.open(a.url, engine_kwargs={"connect_args": {"options": f"-csearch_path={schema}"}})
        store.save_catalogue(supervision.catalogue())
        months = supervision.months_back(a.last_month, 12)
        t0, now = time.perf_counter(), utcnow()
        cols = [c.name for c in supervision_cases.columns]
        # COPY, not INSERTs: 2,000,000 rows go in about as fast as they are made
        with store._engine.begin() as conn:
            cur = conn.connection.driver_connection.cursor()
            with cur.copy(f"COPY supervision_cases ({', '.join(cols)}) FROM STDIN") as copy:
                for c in supervision.cases(months, a.cases // 12, seed=11):
                    req = len(c["materials"])
                    reused = sum(1 for m in c["materials"] if m["reused_from"])
                    row = {
                        "case_no": c["case_no"], "department": c["department"], "item_code": c["item_code"],
                        "channel": c["channel"], "status": c["status"], "visits": c["visits"],
                        "materials_required": req, "materials_provided": req - reused, "materials_reused": reused,
                        "one_window": None if c["one_window"] is None else int(c["one_window"]),
                        "promised_days": c["promised_days"], "submitted_at": c["submitted_at"],
                        "accepted_at": c["accepted_at"], "completed_at": c["completed_at"],
                        "due_at": add_working_days(c["accepted_at"], c["promised_days"]), "updated_at": now,
                        "last_sequence": None}
                    copy.write_row([row[k] for k in cols])
            conn.exec_driver_sql("ANALYZE supervision_cases")
        fill = time.perf_counter() - t0
        month = months[-2]
        times = {}
        for level in (None, "county"):
            t1 = time.perf_counter()
            build_report(store, month, level)
            times[level or "all"] = time.perf_counter() - t1
        print(f"report_monthly: {store.supervision_case_count():,} cases (filled in {fill:.1f} s); "
              f"report {month}: all levels {times['all']:.2f} s, county {times['county']:.2f} s")
        store.close()
    finally:
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')


if __name__ == "__main__":
    main()
