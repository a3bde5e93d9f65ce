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
    c = rs.add_parser("schedule", help="write the previous month's report into the reports directory if it is "
                                       "not there yet (config report.dir); loops unless --once")
    c.add_argument("--once", action="store_true", help="check once and exit (for cron: `5 0 1 * *`)")
    c.add_argument("--every", type=float, default=3600, help="seconds between checks in the loop (default 3600)")
    c.add_argument("--formats", default="html,xlsx,json", help="comma-separated, of html, xlsx, json")
    c.add_argument("--month", help="this month (YYYY-MM) instead of the previous one")
    c.set_defaults(func=schedule)
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


def schedule(args) -> int:
    """Idempotent: a month whose files are there is left alone (hub/report/schedule.py)."""
    import signal
    import threading
    from hub.config import load_settings
    from hub.report import schedule as sched
    from hub.store import Store
    settings = load_settings(args.config)
    formats = tuple(f.strip() for f in args.formats.split(",") if f.strip())
    stop = threading.Event()
    if not args.once:
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    store = Store.open(settings["db_url"])
    try:
        while True:
            if args.month:
                done = sched.write_month(store, sched.reports_dir(settings), args.month, formats)
            else:
                done = sched.write_due(store, settings, formats=formats)
            if done["written"]:
                store.audit("tongban", "report.written", done["month"], "monthly report written",
                            {"files": [p.rsplit("/", 1)[-1] for p in done["written"]]})
            print(json.dumps(done, ensure_ascii=False), flush=True)
            if args.once or stop.wait(args.every):
                return 0
    except KeyboardInterrupt:
        return 0
    finally:
        store.close()
