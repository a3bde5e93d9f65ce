"""`tongban dlq list | show | replay | purge`: the dead letters an operator can see and put back."""
from __future__ import annotations

import getpass
import json
import sys
from datetime import datetime

from hub.config import load_settings


def _store(args):
    from hub.store import Store
    from hub.store.protection import protect
    settings = load_settings(args.config)
    return protect(Store.open(settings["db_url"]), settings)


def _since(text: str | None):
    return datetime.fromisoformat(text) if text else None


def dlq_list(args) -> int:
    from hub.model.masking import mask, mask_text
    rows = _store(args).list_dead_letters(stage=args.stage, department=args.dept, destination=args.dest,
                                          since=_since(args.since), status=args.status, limit=args.limit)
    if args.json:
        print(json.dumps(mask(rows), ensure_ascii=False, indent=2, default=str))
        return 0
    print(f"{'id':<10}{'stage':<10}{'dept':<10}{'dest':<10}{'record':<12}{'attempts':>8}  reason")
    for r in rows:
        print(f"{r['id'][:8]:<10}{r['stage']:<10}{r['department'] or '-':<10}{r['destination'] or '-':<10}"
              f"{mask_text(r['record_key'] or '-')[:11]:<12}{r['attempts']:>8}  {mask_text(r['reason'])[:100]}")
    print(f"{len(rows)} dead letter(s)")
    return 0


def dlq_show(args) -> int:
    from hub.model.masking import mask, mask_record, mask_text
    store = _store(args)
    row = store.get_dead_letter(args.id)
    if row is None:
        print(f"no dead letter with id {args.id}", file=sys.stderr)
        return 1
    if args.unmasked:   # as the console's admin view: each unmasked view is in the audit trail
        store.audit(getpass.getuser(), "cli.unmasked_view", row["id"], "dlq show --unmasked",
                    {"case_no": row.get("case_no")})
    else:   # the reason and headers too: a header may carry a case's applicant
        row = {k: (v if k == "payload" else mask(v, k)) for k, v in row.items()}
    try:
        payload = json.loads(row["payload"])
        row["payload"] = payload if args.unmasked else mask_record(payload)
    except (TypeError, ValueError):
        # not JSON (an XML answer, a cut-off page, a CSV line): masked as text, fields unknown
        if isinstance(row["payload"], str) and not args.unmasked:
            row["payload"] = mask_text(row["payload"])
    print(json.dumps(row, ensure_ascii=False, indent=2, default=str))
    return 0


def dlq_replay(args) -> int:
    from hub.cli.live import progress
    from hub.ops.replay import replay
    settings = load_settings(args.config)
    store = _store(args)
    with progress("replay 重放") as advance:
        done = replay(settings, store, ids=args.ids, stage=args.stage, department=args.dept, destination=args.dest,
                      to=args.to, actor=args.actor or getpass.getuser(), reason=args.reason, progress=advance)
    print(json.dumps(done, ensure_ascii=False))
    return 0 if done["replayed"] or not done["skipped"] else 1


def dlq_release(args) -> int:
    from hub.ops.replay import release_case
    settings = load_settings(args.config)
    done = release_case(settings, _store(args), destination=args.dest, case_no=args.case_no,
                        actor=args.actor or getpass.getuser(), reason=args.reason)
    print(json.dumps(done, ensure_ascii=False, default=str))
    return 0


def dlq_purge(args) -> int:
    store = _store(args)
    rows = store.list_dead_letters(stage=args.stage, department=args.dept, destination=args.dest, limit=100000)
    if not rows:
        print(json.dumps({"purged": 0, "released": []}) if args.json else "nothing to purge")
        return 0
    if not args.yes:
        answer = input(f"purge {len(rows)} dead letter(s)? They stay in the store, marked purged. [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("not purged")
            return 1
    from hub.ops.purge import purge
    done = purge(load_settings(args.config), store, [r["id"] for r in rows], actor=args.actor or getpass.getuser(),
                 reason=args.reason)
    released = done["released"]
    if args.json:
        print(json.dumps({"purged": done["purged"], "released": released}, ensure_ascii=False, default=str))
        return 0
    print(f"purged {done['purged']} dead letter(s)" + (f"; released {len(released)} held case(s)" if released else ""))
    return 0


def register(sub) -> None:
    d = sub.add_parser("dlq", help="dead letters: list, show, replay, purge")
    ds = d.add_subparsers(dest="action", required=True)

    def filters(p):
        p.add_argument("--stage")
        p.add_argument("--dept")
        p.add_argument("--dest")

    ls = ds.add_parser("list")
    filters(ls)
    ls.add_argument("--since", help="ISO time")
    ls.add_argument("--status", default="dead", help="dead, replayed or purged")
    ls.add_argument("--limit", type=int, default=100)
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=dlq_list)
    sh = ds.add_parser("show")
    sh.add_argument("id")
    sh.add_argument("--unmasked", action="store_true", help="show personal data (needs the permission to see it)")
    sh.set_defaults(func=dlq_show)
    rp = ds.add_parser("replay", help="put dead letters back (by id or filter), optionally to one destination")
    rp.add_argument("ids", nargs="*")
    filters(rp)
    rp.add_argument("--to", help="deliver only to this destination")
    rp.add_argument("--reason", required=True, help="why (recorded with who replayed)")
    rp.add_argument("--actor")
    rp.set_defaults(func=dlq_replay)
    rl = ds.add_parser("release", help="let a case held behind a dead letter go on without it (in order)")
    rl.add_argument("case_no")
    rl.add_argument("--dest", required=True, help="the destination the case is held at")
    rl.add_argument("--reason", required=True)
    rl.add_argument("--actor")
    rl.set_defaults(func=dlq_release)
    pg = ds.add_parser("purge")
    filters(pg)
    pg.add_argument("--reason", required=True)
    pg.add_argument("--actor")
    pg.add_argument("--yes", action="store_true", help="do not ask")
    pg.set_defaults(func=dlq_purge)
