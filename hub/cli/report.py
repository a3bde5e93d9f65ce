"""`tongban report`: the monthly supervision report (月度通报, hub/report/)."""
from __future__ import annotations

import json
import time


def register(sub) -> None:
    r = sub.add_parser("report", help="the monthly supervision report (月度通报)")
    rs = r.add_subparsers(dest="action", required=True)
    m = rs.add_parser("monthly", help="write the report of one month: figures against the seed's targets")
    m.add_argument("--month", required=True, help="YYYY-MM")
    m.add_argument("--level", choices=["city", "county"], help="only the items of this level (default: all)")
    m.add_argument("--format", choices=["html", "xlsx", "json"], help="default: from --out's suffix, else html")
    m.add_argument("--out", required=True, help="the file to write")
    m.set_defaults(func=monthly)
    s = rs.add_parser("seed", help="write a seeded, repeatable year of simulated cases and items into the store")
    s.add_argument("--last-month", default="2027-03", help="the last month of cases (YYYY-MM)")
    s.add_argument("--months", type=int, default=12)
    s.add_argument("--per-month", type=int, default=2000)
    s.add_argument("--seed", type=int, default=7)
    s.set_defaults(func=seed)


def _store(args):
    from hub.config import load_settings
    from hub.store import Store
    return Store.open(load_settings(args.config)["db_url"])


def monthly(args) -> int:
    from hub.report import build_report
    from hub.report.output import write
    store = _store(args)
    try:
        t0 = time.perf_counter()
        report = build_report(store, args.month, args.level)
        path = write(report, args.out, args.format)
    finally:
        store.close()
    summary = {f["key"]: {"rate": f["overall"]["rate"], "target": f["target"]} for f in report["figures"]}
    print(json.dumps({"written": str(path), "month": args.month, "seconds": round(time.perf_counter() - t0, 3),
                      "figures": summary}, ensure_ascii=False))
    return 0


def seed(args) -> int:
    from hub.report.facts import case_fact
    from sims import supervision
    store = _store(args)
    try:
        items = supervision.catalogue()
        store.save_catalogue(items)
        months = supervision.months_back(args.last_month, args.months)
        batch, n = [], 0
        for c in supervision.cases(months, args.per_month, seed=args.seed):
            batch.append(case_fact(c))
            if len(batch) >= 5000:
                n += store.record_case_facts(batch)
                batch = []
        n += store.record_case_facts(batch)
    finally:
        store.close()
    print(json.dumps({"items": len(items), "cases": n, "months": months}, ensure_ascii=False))
    return 0
