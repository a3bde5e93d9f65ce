"""`tongban partitions show | set DEST N --reason TEXT`: each destination's partitions."""
from __future__ import annotations

import getpass
import json

from hub.config import load_settings


def _open(args):
    from hub.store import Store
    settings = load_settings(args.config)
    return settings, Store.open(settings["db_url"])


def show(args) -> int:
    from hub.ops.status import partitions_report
    _settings, store = _open(args)
    report = partitions_report(store)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2, default=str))
        return 0
    print(f"worker processes live: {len(report['workers'])}")
    for name, d in report["destinations"].items():
        draining = f"  (draining: {', '.join(map(str, d['draining']))})" if d["draining"] else ""
        print(f"{name:<16} {d['partitions']} partition(s){draining}")
        for q, w in d["holders"].items():
            print(f"    {q:<36} {w or '(free)'}")
    return 0


def set_(args) -> int:
    from hub.ops.partitions import set_partitions
    settings, store = _open(args)
    out = set_partitions(settings, store, args.destination, args.partitions,
                         actor=args.actor or getpass.getuser(), reason=args.reason)
    if args.json:
        print(json.dumps(out, ensure_ascii=False, default=str))
        return 0
    print(f"{out['destination']}: {out['from']} -> {out['to']} partition(s); the old layout drains first, "
          "then the new one starts (tongban partitions show)")
    return 0


def register(sub) -> None:
    p = sub.add_parser("partitions", help="each destination's partitions: show them, change their number")
    ps = p.add_subparsers(dest="partitions_command", required=True)
    sh = ps.add_parser("show", help="layouts, and which worker process holds which partition")
    sh.add_argument("--json", action="store_true")
    sh.set_defaults(func=show)
    st = ps.add_parser("set", help="change a destination's partition count on a running system (drain and switch)")
    st.add_argument("destination")
    st.add_argument("partitions", type=int)
    st.add_argument("--reason", required=True)
    st.add_argument("--actor")
    st.set_defaults(func=set_)
