"""`tongban store purge-expired | rekey | keygen`: personal data at rest, the stored payloads'
retention and encryption (hub/store/retention.py, rekey.py, keyring.py)."""
from __future__ import annotations

import getpass
import json

from hub.config import load_settings


def _open(args):
    from hub.audit.settings import audit_settings
    from hub.store import Store
    from hub.store.protection import protect
    settings = load_settings(args.config)
    store = protect(Store.open(settings["db_url"]), settings)
    store.chain_algorithm = audit_settings(settings)["hash"]
    return settings, store


def purge_expired(args) -> int:
    from hub.store.protection import retention
    from hub.store.retention import purge_expired as run
    settings, store = _open(args)
    policy = retention(settings)
    if args.batch_size:
        policy.batch_size = args.batch_size
    try:
        counts = run(store, policy, dry_run=args.dry_run, actor=args.actor or getpass.getuser(),
                     reason=args.reason or "retention policy (tongban store purge-expired)")
    finally:
        store.close()
    if args.json:
        print(json.dumps({"dry_run": args.dry_run, "tables": counts}, ensure_ascii=False, indent=2))
        return 0
    verb = "would remove" if args.dry_run else "removed"
    print(f"{'table':<18}{'days':>6}{verb:>14}{'kept (unresolved)':>20}")
    for table, c in counts.items():
        days = c["days"] or "keep"
        print(f"{table:<18}{days:>6}{c['expired']:>14}{c['kept_unresolved']:>20}")
    total = sum(c["expired"] for c in counts.values())
    print(f"{total} payload(s) {verb}" + (" (dry run: nothing changed)" if args.dry_run else ""))
    return 0


def rekey(args) -> int:
    from hub.store.rekey import rekey as run
    _, store = _open(args)
    try:
        done = run(store, batch=args.batch_size or 1000, dry_run=args.dry_run, actor=getpass.getuser())
        current = store.payload_keys.current
    finally:
        store.close()
    if args.json:
        print(json.dumps({"dry_run": args.dry_run, "current": current, "columns": done}, ensure_ascii=False, indent=2))
        return 0
    for column, c in done.items():
        if args.dry_run:
            print(f"{column:<28} {c['stale']} to re-seal with {current}")
            continue
        missing = ", ".join(f"{k}: {n}" for k, n in c["unopened"].items())
        print(f"{column:<28} {c['resealed']} re-sealed with {current}" + (f"; not opened (key missing) {missing}"
                                                                           if missing else ""))
    left = sum(sum(c.get("unopened", {}).values()) for c in done.values())
    return 1 if left else 0


def keygen(args) -> int:
    from hub.store.protection import write_key
    path = write_key(args.path, args.algorithm)
    print(f"{args.algorithm} payload key -> {path} (mode 0600); list it under payload_encryption.keys and make it "
          "payload_encryption.current, then `tongban store rekey`")
    return 0


def register(sub) -> None:
    p = sub.add_parser("store", help="stored payloads: retention (purge-expired), encryption (rekey, keygen)")
    ps = p.add_subparsers(dest="store_command", required=True)
    pe = ps.add_parser("purge-expired", help="remove stored payloads older than retention allows (rows stay)")
    pe.add_argument("--dry-run", action="store_true", help="only count, per table, what would be removed")
    pe.add_argument("--batch-size", type=int, help="rows per transaction (default retention.batch_size)")
    pe.add_argument("--actor", help="who runs it, for the audit trail (default: the OS user)")
    pe.add_argument("--reason", help="why, for the audit trail")
    pe.add_argument("--json", action="store_true")
    pe.set_defaults(func=purge_expired)
    rk = ps.add_parser("rekey", help="re-seal every stored payload with payload_encryption.current")
    rk.add_argument("--dry-run", action="store_true", help="only count what would be re-sealed")
    rk.add_argument("--batch-size", type=int, help="rows per transaction (default 1000)")
    rk.add_argument("--json", action="store_true")
    rk.set_defaults(func=rekey)
    kg = ps.add_parser("keygen", help="a new payload key file (base64, mode 0600)")
    kg.add_argument("path")
    kg.add_argument("--algorithm", choices=("aes-gcm", "sm4-gcm"), default="aes-gcm")
    kg.add_argument("--json", action="store_true")
    kg.set_defaults(func=keygen)
