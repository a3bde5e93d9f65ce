"""`tongban broker roles | provision | remove`: the hub's broker users (hub/bus/roles.py).

provision needs a broker administrator for the management API: --admin-user, and the
password from TONGBAN_BROKER_ADMIN_PASSWORD or standard input (--admin-password-stdin),
never from the command line."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from urllib.parse import unquote

from hub.config import ROOT, load_settings

DEFAULT_CREDENTIALS = "var/broker-credentials.json"
ADMIN_PASSWORD_ENV = "TONGBAN_BROKER_ADMIN_PASSWORD"


def needed_roles(settings: dict):
    """The roles these settings' `tongban run` connects as: one source user per enabled
    adapter, one delivery user per destination queue (platform, province, each sink)."""
    from hub.adapter import registry
    from hub.bus import roles
    from hub.runtime.runner import bindings, enabled_adapters
    destinations = sorted({b.destination for b in bindings(settings)})
    sources = {name: registry.load(name).department for name in enabled_adapters(settings)}
    return roles.all_roles(destinations, sources)


def _credentials_path(args, settings) -> Path:
    name = args.credentials or (settings.get("broker") or {}).get("credentials_file") or DEFAULT_CREDENTIALS
    path = Path(name)
    return path if path.is_absolute() else ROOT / path


def _api(args, settings):
    from hub.bus.inventory import management_url
    from hub.bus.provision import Management
    if not args.admin_user:
        raise ValueError("--admin-user is required: a broker administrator makes the hub's users")
    password = sys.stdin.readline().rstrip("\n") if args.admin_password_stdin else os.environ.get(ADMIN_PASSWORD_ENV)
    if not password:
        raise ValueError(f"the administrator's password: set {ADMIN_PASSWORD_ENV} or pass --admin-password-stdin")
    base, _auth, vhost = management_url(settings["broker_url"])
    verify = args.management_ca or True
    return Management(args.management_url or base, args.admin_user, password, verify=verify), unquote(vhost)


def _print(report: list[dict], as_json: bool) -> None:
    if as_json:
        print(json.dumps({"changes": report}, ensure_ascii=False))
        return
    for line in report:
        extra = "" if line["what"] == "vhost" else f"  role {line.get('role')}"
        print(f"{line['what']:6} {line['name']:40} {line['action']}{extra}")


def provision(args) -> int:
    from hub.bus.provision import ManagementError, provision as run
    settings = load_settings(args.config)
    api, vhost = _api(args, settings)
    path = _credentials_path(args, settings)
    try:
        report = run(api, args.vhost or vhost, needed_roles(settings), path, prefix=args.prefix, rotate=args.rotate)
    except ManagementError as exc:
        print(f"tongban broker provision: {exc}", file=sys.stderr)
        return 1
    _print(report, args.json)
    if not args.json:
        print(f"credentials: {path} (mode 0600); set broker.credentials_file to it "
              f"(TONGBAN__BROKER__CREDENTIALS_FILE={path})")
    return 0


def remove(args) -> int:
    from hub.bus.provision import ManagementError, remove as run
    settings = load_settings(args.config)
    api, _vhost = _api(args, settings)
    try:
        report = run(api, _credentials_path(args, settings), delete_vhost=args.delete_vhost)
    except ManagementError as exc:
        print(f"tongban broker remove: {exc}", file=sys.stderr)
        return 1
    _print(report, args.json)
    return 0


def show_roles(args) -> int:
    settings = load_settings(args.config)
    rows = [{"role": r.name, "tags": r.tags, **r.permissions(),
             "topics": [{"exchange": e, "write": w, "read": rd} for e, w, rd in r.topics]}
            for r in needed_roles(settings)]
    if args.json:
        print(json.dumps({"roles": rows}, ensure_ascii=False))
        return 0
    for r in rows:
        print(f"{r['role']:28} tags={r['tags'] or '-':11} configure={r['configure'] or '-'}  "
              f"write={r['write'] or '-'}  read={r['read'] or '-'}")
        for t in r["topics"]:
            print(f"{'':28} topic {t['exchange']}: write={t['write'] or '-'}")
    return 0


def _admin_args(p) -> None:
    p.add_argument("--admin-user", help="a broker administrator (the management API)")
    p.add_argument("--admin-password-stdin", action="store_true",
                   help=f"read its password from standard input (else ${ADMIN_PASSWORD_ENV})")
    p.add_argument("--management-url", help="the management API (default: http://<broker host>:15672)")
    p.add_argument("--management-ca", help="CA bundle for an https management API")
    p.add_argument("--credentials", help=f"the credentials file (default broker.credentials_file or "
                                         f"{DEFAULT_CREDENTIALS})")
    p.add_argument("--json", action="store_true")


def register(sub) -> None:
    p = sub.add_parser("broker", help="the hub's broker users: least privilege per role")
    ps = p.add_subparsers(dest="broker_command", required=True)
    r = ps.add_parser("roles", help="the users `tongban run` needs with these settings and their permissions")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=show_roles)
    pv = ps.add_parser("provision", help="make the vhost and one user per role (idempotent); write the "
                                         "credentials file (0600)")
    _admin_args(pv)
    pv.add_argument("--vhost", help="default: the broker URL's")
    pv.add_argument("--prefix", default="tongban", help="user names are <prefix>-<role> (default tongban)")
    pv.add_argument("--rotate", action="store_true", help="give every user a new password")
    pv.set_defaults(func=provision)
    rm = ps.add_parser("remove", help="delete the users the credentials file names, and the file")
    _admin_args(rm)
    rm.add_argument("--delete-vhost", action="store_true", help="delete the vhost too")
    rm.set_defaults(func=remove)
