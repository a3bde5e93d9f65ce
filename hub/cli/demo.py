"""`tongban demo`: simulators, hub and a live summary, until verify passes or time runs out.

Everything runs fresh: simulators on free ports, a new store file, emptied queues, so
a demo never counts what an earlier run left behind."""
from __future__ import annotations

import json
import sys
import time

import requests

from hub import bus
from hub.config import ROOT, load_settings, with_endpoints
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
    conn = bus.connect(settings["broker_url"])
    try:
        bus.purge(conn, queues + [bus.names.DEAD_QUEUE, bus.names.UNROUTED_QUEUE])
    finally:
        conn.release()


def load_everything(settings: dict, cases: int, bad: int, applications: int) -> None:
    """New cases in every enabled legacy simulator, applications on the platform, the catalogue synced."""
    from hub.adapter import registry
    from hub.runtime.runner import enabled_adapters
    for name in enabled_adapters(settings):
        if registry.load(name).department == "platform":
            continue
        admin = settings["adapters"][name].get("admin_url") or settings["adapters"][name]["url"]
        requests.post(admin + "/_admin/load", json={"cases": cases, "bad": bad}, timeout=300).raise_for_status()
    if applications and "platform" in enabled_adapters(settings):
        departments = [n for n, c in enabled_adapters(settings).items() if registry.load(n).has_sink]
        requests.post(settings["adapters"]["platform"]["admin_url"] + "/_admin/submit",
                      json={"count": applications, "departments": departments}, timeout=60).raise_for_status()


def run_demo(cases: int, bad: int, timeout: float, settings: dict, out=sys.stderr, applications: int = 20) -> dict:
    from sims.cluster import start_all
    started = time.monotonic()
    db = ROOT / "var" / "demo.db"
    db.parent.mkdir(exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        db.with_name(db.name + suffix).unlink(missing_ok=True)
    cluster = start_all(host="127.0.0.1", ports=0)
    hub = None
    try:
        settings = with_endpoints(dict(settings, db_url=f"sqlite:///{db}"), cluster.endpoints)
        fresh_queues(settings)
        store = Store.open(settings["db_url"])
        catalog_sync(settings, store)
        load_everything(settings, cases, bad, applications)
        hub = Hub(settings, store=store).start()
        report = None
        while time.monotonic() - started < timeout:
            time.sleep(1.0)
            report = verify(settings, store, hub.mappings)
            print(_progress(report, time.monotonic() - started), file=out, flush=True)
            if report["ok"] and report["dead_letters"] >= report["unmappable_records"]:
                break
        report["seconds"] = round(time.monotonic() - started, 2)
        return report
    finally:
        if hub is not None:
            hub.shutdown()
        cluster.stop()


def demo(args) -> int:
    settings = load_settings(args.config)
    report = run_demo(args.cases, args.bad, args.timeout, settings, applications=args.applications)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        from hub.ops.verify import render
        print(render(report))
        print(f"finished in {report['seconds']}s")
    return 0 if report["ok"] else 1


def register(sub) -> None:
    d = sub.add_parser("demo", help="simulators, hub and a live summary, end to end")
    d.add_argument("--cases", type=int, default=100)
    d.add_argument("--bad", type=int, default=2, help="extra cases with invalid credit codes (dead-lettered)")
    d.add_argument("--applications", type=int, default=20, help="applications submitted on the platform")
    d.add_argument("--timeout", type=float, default=300)
    d.add_argument("--json", action="store_true")
    d.set_defaults(func=demo)
