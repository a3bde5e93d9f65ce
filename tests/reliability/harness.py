"""What the fault tests share: settings on a restartable broker node, hub worker processes
(`python -m hub.cli.main run`, as an operator runs them) and the figures at the end."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from hub import bus
from hub.config import load_settings, with_endpoints
from tests.conftest import ROOT, hub_env
from tests.reliability.broker_node import BrokerNode, available


@pytest.fixture(scope="module")
def broker_node():
    why = available()
    if why:
        pytest.skip(why)
    node = BrokerNode.start()
    try:
        yield node
    finally:
        node.stop()


def fault_settings(node: BrokerNode, sims, tmp_path: Path, **sections) -> dict:
    """Settings pointing at the simulators, a fresh vhost on `node` and a fresh SQLite store,
    with fast back-off; `sections` replace whole settings sections (retry, breaker...)."""
    from hub.runtime.runner import declare_topology
    s = with_endpoints(load_settings(), sims.endpoints)
    s["broker_url"] = node.url(node.add_vhost())
    s["db_url"] = f"sqlite:///{tmp_path / 'hub.db'}"
    s["adapters"]["commerce"]["poll_interval"] = 0.1
    s["consumer"]["backoff_initial"] = 0.2
    s["consumer"]["backoff_max"] = 1.0
    s.update(sections)
    queues = declare_topology(s)
    conn = bus.connect(s["broker_url"])
    try:
        bus.purge(conn, queues + [bus.names.DEAD_QUEUE, bus.names.UNROUTED_QUEUE])
    finally:
        conn.release()
    return s


class Worker:
    """One `tongban run` process with exactly these settings (tests/conftest.hub_env); its
    stderr goes to a file, kept for a failure's report."""

    def __init__(self, settings: dict, log_dir: Path, n: int, args: tuple[str, ...] = ()):
        self.log = log_dir / f"worker-{n}.log"
        self.proc = subprocess.Popen([sys.executable, "-m", "hub.cli.main", "run", *args], cwd=ROOT,
                                     env=hub_env(settings), stdout=subprocess.DEVNULL,
                                     stderr=open(self.log, "wb"), start_new_session=True)

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(30)

    def terminate(self, timeout: float = 60) -> int:
        """SIGTERM: the worker finishes the batch in hand and exits; returns its exit code."""
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def figures(report: dict, dead_lettered: int, restarts: int) -> tuple[str, dict]:
    """The one line the fault suite prints, and its numbers."""
    dests = report["destinations"].values()
    sb = report.get("southbound") or {}
    n = {
        "events": sum(d["expected"] for d in dests),
        "lost": sum(d["missing"] for d in dests) + sb.get("missing", 0),
        "duplicates": sum(d["duplicates"] for d in dests) + sb.get("duplicates", 0),
        "out_of_order": sum(d["out_of_order"] for d in dests),
        "dead_lettered": dead_lettered,
        "restarts": restarts,
    }
    line = (f"FAULTS events={n['events']} lost={n['lost']} duplicates={n['duplicates']} "
            f"out_of_order={n['out_of_order']} dead_lettered={n['dead_lettered']} restarts={n['restarts']}")
    return line, n
