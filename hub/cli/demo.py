"""`tongban demo`: simulators, hub and a live summary, until verify passes or time runs out.

Everything runs fresh: simulators on free ports, a new store file, emptied queues, so
a demo never counts what an earlier run left behind."""
from __future__ import annotations

import json
import logging
import os
import sys
import time

import requests

from hub import bus
from hub.cli import demo_deploy, live, sign
from hub.config import load_settings, with_endpoints
from hub.mapping import MappingSet
from hub.ops.catalog import sync as catalog_sync
from hub.ops.verify import verify
from hub.runtime.runner import Hub, declare_topology
from hub.store import Store


def _progress(report: dict, elapsed: float) -> str:
    parts = [f"{name} {d['delivered']}/{d['expected']}" for name, d in report["destinations"].items()]
    sb = report.get("southbound")
    down = f"  southbound {sb['delivered']}/{sb['submitted']} receipts {sb['receipts']}" if sb else ""
    return (f"[{elapsed:5.1f}s] cases {report['cases']}  " + "  ".join(parts) + down
            + f"  dead letters {report['dead_letters']}")


def fresh_queues(settings: dict) -> None:
    queues = declare_topology(settings)
    conn = bus.connect(bus.credentials.url_for(settings, bus.credentials.OPERATOR))
    try:
        bus.purge(conn, queues + [bus.names.DEAD_QUEUE, bus.names.UNROUTED_QUEUE])
    finally:
        conn.release()


def load_everything(settings: dict, cases: int, bad: int, applications: int, include_new: bool = True) -> dict:
    """New cases in every enabled legacy simulator (and its new-track copy, if configured:
    same seed, same cases), applications on the platform."""
    from hub.adapter import registry
    from hub.runtime.runner import enabled_adapters
    done = {}
    for name in enabled_adapters(settings):
        if registry.load(name).department == "platform":
            continue
        conf = settings["adapters"][name]
        instances = {name: conf}
        if include_new and (conf.get("tracks") or {}).get("new"):
            instances[f"{name}_new"] = conf["tracks"]["new"]
        for label, c in instances.items():
            admin = (c.get("admin_url") or c["url"]).rstrip("/")
            try:
                resp = requests.post(admin + "/_admin/load", json={"cases": cases, "bad": bad}, timeout=300)
            except requests.ConnectionError:
                if label != name:
                    continue   # the new copy is not running: dual-track is not in use
                raise
            resp.raise_for_status()
            done[label] = {"created": cases, "bad": bad}
    if applications and "platform" in enabled_adapters(settings):
        departments = [n for n in enabled_adapters(settings) if registry.load(n).has_sink]
        platform = settings["adapters"]["platform"]
        requests.post((platform.get("admin_url") or platform["url"]) + "/_admin/submit",
                      json={"count": applications, "departments": departments}, timeout=60).raise_for_status()
        done["platform"] = {"applications": applications}
    return done


# The drift each department's new copy shows in `demo --dualtrack` (sims/drift.py); a
# compared department not listed here runs its new copy without drift.
DEMO_DRIFT = {
    "commerce": {"drop_field": ["opinion"], "missing_rate": 0.03, "lag_seconds": 1, "seed": 11},
    "ndrc": {"utc_times": True, "extra_rate": 0.05, "seed": 12},
}


# Seconds a message waits for its twin. Wider than the skew between the tracks' reading while
# one hub reads eight feeds flat out (the old track also routes and logs: it runs up to ~20 s
# behind the new one here); narrower and late twins count as missing.
DEMO_LAG_WINDOW = 30


def dualtrack_setup(settings: dict, urls: dict) -> list[str]:
    """Shadow mode for every department whose new copy runs; drift on the first two."""
    compared = [n for n in (settings.get("adapters") or {}) if f"{n}_new" in urls
                and (settings["adapters"][n].get("tracks") or {}).get("new")]
    settings["dualtrack"] = {"lag_window": DEMO_LAG_WINDOW, "departments": {d: {"mode": "shadow"} for d in compared}}
    for dept in compared:
        if dept in DEMO_DRIFT:
            requests.post(urls[f"{dept}_new"] + "/_admin/drift", json=DEMO_DRIFT[dept],
                          timeout=10).raise_for_status()
    return compared


def dualtrack_settled(store, settings: dict, compared: list[str]) -> dict | None:
    from hub.dualtrack.report import department_summary
    out = {d: department_summary(store, settings, d) for d in compared}
    return out if all(s["waiting"] == 0 and s["pairs"] > 0 for s in out.values()) else None


def _workers_line(store) -> str:
    live = store.live_workers(3.0)
    held = [sum(1 for g in (w.get("holds") or {}).values() if g != "sources") for w in live]
    return f"  workers {len(live)} (partitions held {'+'.join(map(str, held)) or '-'})"


def run_demo(cases: int, bad: int, timeout: float, settings: dict, out=None, applications: int = 20,
             dualtrack: bool = False, workers: int = 1, console: bool = False) -> dict:
    from hub.observability.storm import STORM
    from sims.cluster import start_all
    out = out or sys.stderr      # looked up now: the CLI masks sys.stderr after this module is imported
    settings_in, metrics_server = settings, None
    on_screen = out is sys.stderr and live.interactive(out)   # sys.stderr changes under a live display
    if on_screen and not os.environ.get("TONGBAN_LOG_LEVEL"):
        logging.getLogger().setLevel(logging.WARNING)   # 50 "consuming" lines would push the table away
    started = time.monotonic()
    db_url = demo_deploy.store_url(workers, settings.get("db_url"))
    cluster = start_all(host="127.0.0.1", ports=0)
    hub = console_thread = None
    try:
        settings = with_endpoints(dict(settings, db_url=db_url), cluster.endpoints)
        sign.register_with_simulator(settings, cluster.urls["province"])   # the node trusts the hub's key
        compared = dualtrack_setup(settings, cluster.urls) if dualtrack else []
        fresh_queues(settings)
        store = Store.open(settings["db_url"])
        catalog_sync(settings, store)
        load_everything(settings, cases, bad, applications, include_new=dualtrack)
        mappings = MappingSet.load(settings["mappings_dir"])
        if workers == 1:
            hub = Hub(settings, store=store).start()
            metrics_server = serve_metrics(settings, store)
        else:
            hub = demo_deploy.WorkerProcesses(settings, workers)   # `tongban run` serves its own
        print(f"store: {db_url.split('?')[0].split('@')[-1]}; hub: {workers} worker process(es)", file=out, flush=True)
        if console:
            from hub.cli import demo_console
            console_thread = demo_console.start(settings, store, out)
        report = None
        with live.live() as display:
            while time.monotonic() - started < timeout:
                time.sleep(1.0)
                report = verify(settings, store, mappings)
                elapsed, extra = time.monotonic() - started, (_workers_line(store) if workers > 1 else "")
                if display is not None and on_screen:
                    display.update(live.demo_table(report, elapsed, extra))
                else:
                    print(_progress(report, elapsed) + extra, file=out, flush=True)
                if report["ok"] and report["dead_letters"] >= report["unmappable_records"]:
                    if not compared:
                        break
                    summaries = dualtrack_settled(store, settings, compared)
                    if summaries:
                        report["dualtrack"] = summaries
                        break
        report["monthly_report"] = write_monthly_report(store, settings_in)
        if report["monthly_report"]:
            print(f"monthly report of the demo's cases ({report['monthly_report']['month']}): "
                  f"{report['monthly_report']['path']}", file=out, flush=True)
        report["seconds"] = round(time.monotonic() - started, 2)
        report["workers"] = workers
        STORM.flush()            # the dead letters' summary before the demo's, not after it
        print(demo_deploy.how_to_open(db_url, settings_in.get("db_url")), file=out, flush=True)
        if console_thread is not None:
            _stay_up(out)
        return report
    finally:
        if console_thread is not None:
            console_thread.stop()
        if hub is not None:
            hub.shutdown()
        if metrics_server is not None:
            metrics_server.shutdown()
        cluster.stop()


def write_monthly_report(store, settings: dict) -> dict | None:
    """The 月度通报 of the month most of the demo's cases fall in (the simulators' clocks are
    their own), into the reports directory the console lists; None if no case was recorded."""
    from hub.report import schedule
    month = schedule.busiest_month(store)
    if month is None:
        return None
    done = schedule.write_month(store, schedule.reports_dir(settings), month, ("html",), force=True)
    return {"month": month, "path": done["written"][0], "cases": store.supervision_case_count()}


def _stay_up(out) -> None:
    """With the console: keep the simulators, the hub and the console up to be looked at."""
    print("the demo is done; the hub and the console stay up until Ctrl-C", file=out, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


def serve_metrics(settings: dict, store):
    """/metrics of the demo's hub, on the configured port if it is free (a `tongban run` may hold it)."""
    from hub.observability import server
    return server.serve(settings, store=store)


def demo(args) -> int:
    settings = load_settings(args.config)
    report = run_demo(args.cases, args.bad, args.timeout, settings, applications=args.applications,
                      dualtrack=args.dualtrack, workers=args.workers, console=args.console)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        from hub.ops.verify import render
        live.print_summary(report, render)
        if report.get("monthly_report"):
            print(f"monthly report ({report['monthly_report']['month']}): {report['monthly_report']['path']}")
        print(f"finished in {report['seconds']}s")
    return 0 if report["ok"] else 1


def register(sub) -> None:
    d = sub.add_parser("demo", help="simulators, hub and a live summary, end to end")
    d.add_argument("--cases", type=int, default=100)
    d.add_argument("--bad", type=int, default=2, help="extra cases with invalid credit codes (dead-lettered)")
    d.add_argument("--applications", type=int, default=20, help="applications submitted on the platform")
    d.add_argument("--timeout", type=float, default=300)
    d.add_argument("--dualtrack", action="store_true",
                   help="run the departments that have a new copy in shadow mode, two of them drifting")
    d.add_argument("--workers", type=int, default=1,
                   help="hub worker processes (`tongban run --workers N`); more than one uses PostgreSQL if it answers")
    d.add_argument("--console", action="store_true",
                   help="serve the web console on the demo's store (config console.host/port) and stay up "
                        "after the demo until Ctrl-C; prints a one-time password for user demo")
    d.add_argument("--json", action="store_true")
    d.set_defaults(func=demo)
