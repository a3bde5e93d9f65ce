"""`python -m sims`: run the simulators in the foreground until SIGTERM or Ctrl-C.

Prints one JSON line, {"urls": {...}}, once every server listens, so a script can
wait for it and read the addresses."""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading

from .cluster import REGISTRY, register_installed, start_all


def main(argv: list[str] | None = None) -> int:
    register_installed()   # installed adapter packages' simulators can be named with --only
    parser = argparse.ArgumentParser(prog="python -m sims", description=__doc__)
    parser.add_argument("--host", default=os.environ.get("TONGBAN_SIM_HOST", "127.0.0.1"))
    parser.add_argument("--only", action="append", choices=sorted(REGISTRY),
                        help="start only this simulator (repeatable)")
    parser.add_argument("--seed", type=int, default=_env_int("TONGBAN_SIM_SEED"))
    parser.add_argument("--load", type=int, default=0, metavar="N",
                        help="preload N cases into the commerce simulator")
    args = parser.parse_args(argv)

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    cluster = start_all(host=args.host, names=args.only, seed=args.seed)
    try:
        if args.load and "commerce" in cluster.servers:
            cluster["commerce"].load(args.load)
        print(json.dumps({"urls": cluster.urls}), flush=True)
        while not stop.wait(1.0):
            pass
    finally:
        cluster.stop()
    return 0


def _env_int(name: str) -> int | None:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else None


if __name__ == "__main__":
    sys.exit(main())
