"""`tongban log verify | checkpoint | export | keygen`: the tamper-evident logs (hub/audit/)."""
from __future__ import annotations

import json
import sys
from datetime import datetime, timezone

from hub.config import load_settings


def _open(args):
    from hub.audit.settings import audit_settings
    from hub.store import Store
    settings = load_settings(args.config)
    store = Store.open(settings["db_url"])
    store.chain_algorithm = audit_settings(settings)["hash"]
    return settings, store


def _since(text: str | None) -> datetime | None:
    if not text:
        return None
    t = datetime.fromisoformat(text)
    if t.tzinfo is None:   # a date or time as people type it here: Asia/Shanghai
        from zoneinfo import ZoneInfo
        t = t.replace(tzinfo=ZoneInfo("Asia/Shanghai"))
    return t.astimezone(timezone.utc)


def verify(args) -> int:
    from hub.audit.settings import public_keys
    from hub.audit.verify import verify_store
    settings, store = _open(args)
    try:
        report = verify_store(store, since=_since(args.since), keys=public_keys(settings, args.key or ()))
    finally:
        store.close()
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2, default=str))
        return 0 if report["ok"] else 1
    for log, s in report["logs"].items():
        print(f"{log:<12} {s['chains']} chain(s), {s['rows']} row(s) walked")
    print(f"checkpoints  {report['checkpoints']}")
    for f in report["findings"]:
        row = f" row {f['row']}" if f["row"] is not None else ""
        pos = f" position {f['position']}" if f["position"] is not None else ""
        print(f"{f['kind'].upper():<10} {f['log']} chain {f['chain']}{pos}{row}: {f['detail']}")
    print("OK: every chain and checkpoint verifies" if report["ok"]
          else f"FAILED: {len(report['findings'])} finding(s)")
    return 0 if report["ok"] else 1


def checkpoint(args) -> int:
    from hub.audit.checkpoints import make_checkpoints
    from hub.audit.settings import signer
    settings, store = _open(args)
    try:
        made = make_checkpoints(store, signer(settings))
    finally:
        store.close()
    if args.json:
        print(json.dumps(made, ensure_ascii=False, indent=2, default=str))
    else:
        for c in made:
            print(f"{c['log']} {c['chain']}: {c['chain_seq']} row(s), head {c['head_hash']} (key {c['key_id']})")
        print(f"{len(made)} checkpoint(s) signed")
    return 0


def export(args) -> int:
    from hub.audit.checkpoints import export as export_doc
    from hub.audit.settings import public_keys
    settings, store = _open(args)
    try:
        doc = export_doc(store, public_keys(settings).values())
    finally:
        store.close()
    text = json.dumps(doc, ensure_ascii=False, indent=2)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
        print(f"{len(doc['checkpoints'])} checkpoint(s) and {len(doc['public_keys'])} public key(s) -> {args.out}")
    else:
        sys.stdout.write(text + "\n")
    return 0


def keygen(args) -> int:
    from hub.audit.signing import Signer
    s = Signer.generate(args.algorithm)
    s.save(args.path)
    print(f"{args.algorithm} key {s.key_id} -> {args.path} (mode 0600); set audit.signing_key to use it, "
          "and list the old key's export under audit.public_keys while its checkpoints matter")
    return 0


def register(sub) -> None:
    p = sub.add_parser("log", help="the tamper-evident message log and audit trail: verify, checkpoint, export")
    ps = p.add_subparsers(dest="log_command", required=True)
    v = ps.add_parser("verify", help="walk every chain; name each edited, deleted, inserted or reordered row")
    v.add_argument("--since", help="only rows logged since this time (ISO; without an offset: Asia/Shanghai)")
    v.add_argument("--key", action="append", help="a public key export or key file to check checkpoints with")
    v.add_argument("--json", action="store_true")
    v.set_defaults(func=verify)
    c = ps.add_parser("checkpoint", help="sign a checkpoint of every chain whose head moved (the hub does it periodically)")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=checkpoint)
    e = ps.add_parser("export", help="the checkpoints and the public keys, for a verifier outside the hub")
    e.add_argument("--out", help="file to write (default: standard output)")
    e.add_argument("--json", action="store_true")
    e.set_defaults(func=export)
    k = ps.add_parser("keygen", help="a new checkpoint signing key file")
    k.add_argument("path")
    k.add_argument("--algorithm", choices=("ed25519", "sm2"), default="ed25519")
    k.add_argument("--json", action="store_true")
    k.set_defaults(func=keygen)
