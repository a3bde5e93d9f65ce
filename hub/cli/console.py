"""`tongban console [--host H] [--port P]` and `tongban users add NAME --role ROLE`."""
from __future__ import annotations

import getpass
import sys

from hub.config import load_settings


def _store(settings):
    from hub.store import Store
    return Store.open(settings["db_url"])


def console(args) -> int:
    import uvicorn
    from hub.console.app import console_settings, create_app
    settings = load_settings(args.config)
    conf = console_settings(settings)
    store = _store(settings)
    if not store.console_users():
        print("no console user yet: add one with `tongban users add NAME --role admin`", file=sys.stderr)
    host, port = args.host or conf["host"], int(args.port or conf["port"])
    print(f"console on http://{host}:{port}/ (store {store.url})", file=sys.stderr, flush=True)
    uvicorn.run(create_app(settings, store), host=host, port=port, log_level="warning", access_log=False)
    return 0


def users_add(args) -> int:
    from hub.console.passwords import hash_password
    from hub.console.roles import check_role
    settings = load_settings(args.config)
    role = check_role(args.role)
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(f"password for {args.name}: ")
        if password != getpass.getpass("again: "):
            print("the two passwords differ", file=sys.stderr)
            return 1
    store = _store(settings)
    new = store.add_console_user(args.name, role, hash_password(password))
    store.audit(args.actor or getpass.getuser(), "console.user_add" if new else "console.user_change", args.name,
                args.reason or "tongban users add", {"role": role})
    print(f"{'added' if new else 'updated'} {args.name} ({role})")
    return 0


def users_list(args) -> int:
    for u in _store(load_settings(args.config)).console_users():
        locked = f"  locked until {u['locked_until']:%Y-%m-%d %H:%M}" if u["locked_until"] else ""
        print(f"{u['name']:<20}{u['role']:<10}{locked}")
    return 0


def register(sub) -> None:
    from hub.console.roles import ROLES
    c = sub.add_parser("console", help="the web console (defaults in config/hub.yaml: 127.0.0.1:8400)")
    c.add_argument("--host")
    c.add_argument("--port", type=int)
    c.set_defaults(func=console)
    u = sub.add_parser("users", help="the console's local users")
    us = u.add_subparsers(dest="action", required=True)
    a = us.add_parser("add", help="add a user, or change its role and password")
    a.add_argument("name")
    a.add_argument("--role", required=True, choices=ROLES)
    a.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    a.add_argument("--reason", help="recorded in the audit trail")
    a.add_argument("--actor")
    a.set_defaults(func=users_add)
    us.add_parser("list").set_defaults(func=users_list)
