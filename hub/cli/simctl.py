"""`tongban sims up|down` and `tongban load`: the simulators of the external systems."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import requests

from hub.config import ROOT, load_settings

PIDFILE = ROOT / "var" / "sims.pid"


def sim_ports(settings: dict) -> dict[str, int]:
    """{simulator name: port} from the sims section (keys <name>_port)."""
    s = settings.get("sims") or {}
    return {k[: -len("_port")]: int(v) for k, v in s.items() if k.endswith("_port")}


def sim_env(settings: dict) -> dict:
    env = dict(os.environ)
    for name, port in sim_ports(settings).items():
        env[f"TONGBAN_SIM_{name.upper()}_PORT"] = str(port)
    if ((settings.get("destinations") or {}).get("province") or {}).get("signing") is not None \
            and "TONGBAN_SIM_PROVINCE_TRUST" not in env:
        # The simulated node trusts the hub's current key, as the real one would once handed it.
        from .sign import trust_document
        trust = ROOT / "var" / "sims-province-trust.json"
        trust.parent.mkdir(exist_ok=True)
        trust.write_text(json.dumps(trust_document(settings, "province"), indent=2), encoding="utf-8")
        env["TONGBAN_SIM_PROVINCE_TRUST"] = str(trust)
    return env


def _health(url: str) -> bool:
    try:
        return requests.get(url + "/_admin/health", timeout=1).status_code == 200
    except requests.RequestException:
        return False


def sim_urls(settings: dict) -> dict:
    host = (settings.get("sims") or {}).get("host", "127.0.0.1")
    return {name: f"http://{host}:{port}" for name, port in sim_ports(settings).items()}


def up(args) -> int:
    settings = load_settings(args.config)
    urls = sim_urls(settings)
    if all(_health(u) for u in urls.values()):
        print(json.dumps({"already_running": True, "urls": urls}))
        return 0
    PIDFILE.parent.mkdir(exist_ok=True)
    log = open(ROOT / "var" / "sims.log", "ab")
    proc = subprocess.Popen([sys.executable, "-m", "sims"], cwd=ROOT, env=sim_env(settings), stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    PIDFILE.write_text(str(proc.pid))
    deadline = time.monotonic() + 60   # a loaded machine starts a dozen servers slowly; done as soon as all answer
    while time.monotonic() < deadline:
        if all(_health(u) for u in urls.values()):
            print(json.dumps({"pid": proc.pid, "urls": urls}))
            return 0
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    print(f"simulators did not start; see {ROOT / 'var' / 'sims.log'}", file=sys.stderr)
    return 1


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:   # the pid was reused by another user's process: ours is gone
        return False


def _stop(pid: int, grace: float = 20.0) -> None:
    """SIGTERM, then wait until it has gone: `down` returns only once the ports are free and the
    simulators' files removed, so an `up` straight after (a test, a script) does not collide.
    The simulators run in their own session, so the whole group is killed after the grace."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _alive(pid):
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def down(args) -> int:
    if not PIDFILE.exists():
        print(json.dumps({"stopped": None}) if args.json else "simulators are not running (no pid file)")
        return 0
    pid = int(PIDFILE.read_text())
    _stop(pid)
    PIDFILE.unlink()
    print(json.dumps({"stopped": pid}) if args.json else f"stopped simulators (pid {pid})")
    return 0


def load(args) -> int:
    from hub.cli.demo import load_everything
    settings = load_settings(args.config)
    print(json.dumps(load_everything(settings, args.cases, args.bad, args.applications), ensure_ascii=False))
    return 0


def register(sub) -> None:
    sims = sub.add_parser("sims", help="start or stop the simulators of the external systems")
    ss = sims.add_subparsers(dest="action", required=True)
    ss.add_parser("up", help="start every simulator in the background").set_defaults(func=up)
    ss.add_parser("down", help="stop them").set_defaults(func=down)
    ld = sub.add_parser("load", help="create new cases, with their events, in the legacy simulators")
    ld.add_argument("--cases", type=int, required=True)
    ld.add_argument("--bad", type=int, default=0, help="extra cases whose records fail validation")
    ld.add_argument("--applications", type=int, default=0, help="applications submitted on the platform")
    ld.set_defaults(func=load)
