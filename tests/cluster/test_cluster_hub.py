"""The hub on a three-node cluster, its work queues quorum queues, while broker nodes stop
under load: `tongban run --workers 2` (PostgreSQL store) is given the three nodes as a
kombu failover list; cases are loaded in three parts, the second while node b is down
(the hub is connected to a, the first of the list: a follower of every queue goes), the
third while node a is down (every connection of the hub goes and moves to b, and the
queues elect new leaders). Each node comes back before the next step. Then `tongban
verify --json` must find every message delivered once, in order, nothing unexpected."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa

from hub.config import load_settings, with_endpoints
from hub.store import Store
from tests.conftest import PG_URL, ROOT, _pg_schema_url, hub_env

pytestmark = [pytest.mark.cluster, pytest.mark.postgres]
CASES = (40, 40, 40)   # per department: before, with b down, with a down
DOWN_SECONDS = 8


def tongban(env, *args, timeout=300):
    return subprocess.run([sys.executable, "-m", "hub.cli.main", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture
def pg_db_url():
    schema, drop = _pg_schema_url()
    # a subprocess only gets the URL, so the schema travels in it (libpq's options)
    yield sa.make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False)
    drop()


def _delivered(store) -> int:
    return sum(store.counts()["deliveries"].values())


def _wait_delivered(store, more: int, timeout: float, log) -> int:
    target = _delivered(store) + more
    deadline = time.monotonic() + timeout
    while (n := _delivered(store)) < target:
        assert time.monotonic() < deadline, f"{n} delivered, waiting for {target}; hub log:\n{log()}"
        time.sleep(0.3)
    return n


def _settings(cluster3, sims, db_url: str) -> dict:
    settings = with_endpoints(load_settings(), sims.endpoints)
    settings.update(broker_url=cluster3.failover_url, db_url=db_url, queues={"type": "quorum"},
                    # shorter waits than production's, so the test ends soon; same logic
                    retry={"tiers": [2, 5, 15], "max_attempts": 8})
    settings["adapters"]["commerce"]["poll_interval"] = 0.1
    settings["consumer"].update(backoff_initial=0.2, backoff_max=1.0)
    return settings


class _Run:
    """`tongban run [--workers N]` in a session of its own, its stderr in a file; killed on the
    way out if it is still running."""

    def __init__(self, env: dict, log_path, *args: str):
        self.log_path = log_path
        self.proc = subprocess.Popen([sys.executable, "-m", "hub.cli.main", "run", *args], cwd=ROOT, env=env,
                                     stdout=subprocess.DEVNULL, stderr=open(log_path, "wb"), start_new_session=True)

    def log(self, chars: int | None = 4000) -> str:
        text = self.log_path.read_text(errors="replace")
        return text[-chars:] if chars else text

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(30)


def _load(env, cases: int, bad: int = 0) -> None:
    result = tongban(env, "load", "--cases", str(cases), "--bad", str(bad))
    assert result.returncode == 0, result.stderr[-2000:]


def test_hub_on_a_cluster_loses_nothing_when_nodes_stop(cluster3, sims, pg_db_url, tmp_path):
    env = hub_env(_settings(cluster3, sims, pg_db_url))
    store = Store.open(pg_db_url)
    try:
        with _Run(env, tmp_path / "hub.log", "--workers", "2") as hub:
            _load(env, CASES[0])
            _wait_delivered(store, 100, 120, hub.log)
            # the setting reached the broker: every partition queue replicated on all three nodes
            listed = cluster3.nodes[0].ctl("list_queues", "-p", cluster3.vhost, "--no-table-headers", "--quiet",
                                           "name", "type", "members").stdout
            partitions = [line for line in listed.splitlines() if line.startswith("tongban.to.")]
            assert partitions and all("quorum" in p and all(n.name in p for n in cluster3.nodes)
                                      for p in partitions), listed

            for node, cases in ((1, CASES[1]), (0, CASES[2])):
                cluster3.stop_node(node)
                try:
                    _load(env, cases)
                    # the hub carries on while the node is down, not only once it is back
                    _wait_delivered(store, 100, 60, hub.log)
                    time.sleep(DOWN_SECONDS)
                finally:
                    cluster3.start_node(node)
            assert hub.proc.poll() is None, hub.log()

            report = _wait_verified(env, store, 240, hub.log)
            hub.proc.send_signal(signal.SIGTERM)
            assert hub.proc.wait(90) == 0, hub.log()
            log = hub.log(None)
    finally:
        store.close()
        os.unlink(env["TONGBAN_CONFIG"])
    for name, d in report["destinations"].items():
        assert d["delivered"] == d["expected"] > 0, (name, d)
        assert d["missing"] == d["duplicates"] == d["out_of_order"] == d["unexpected"] == d["altered"] == 0, (name, d)
    # node a's stop reached the hub: its connections were forced closed and it reconnected
    assert "CONNECTION_FORCED" in log or "Connection reset" in log, log[-4000:]


# tongban.dead, tongban.unrouted and tongban.compare are of queues.type too (hub/bus/topology.py
# declare()): were they classic, they would live on the node the hub first connected to, and
# while it is down the broker would confirm a dead letter routed to them and drop it, and
# declaring them would fail with 404 "home node ... is down or inaccessible".


def _dead_letters(store) -> int:
    return sum(store.counts().get("dead_letters", {}).values())


def _unmappable(env) -> int:
    return json.loads(tongban(env, "verify", "--json").stdout)["unmappable_records"]


def test_dead_letters_made_while_node_a_is_down_are_kept(cluster3, sims, pg_db_url, tmp_path):
    env = hub_env(_settings(cluster3, sims, pg_db_url))
    store = Store.open(pg_db_url)
    try:
        with _Run(env, tmp_path / "hub.log") as hub:
            _load(env, 10, bad=1)
            # all nodes up: every record that cannot be delivered becomes a dead letter (invariant 3)
            unmappable = _unmappable(env)
            assert unmappable > 0
            _wait(lambda: _dead_letters(store) == unmappable, 120, "the dead letters of the first load", hub.log)
            cluster3.stop_node(0)
            try:
                _load(env, 10, bad=2)   # the sources dead-letter these bad records while a is down
                _wait_delivered(store, 20, 60, hub.log)   # 10 cases a department: fewer than 100 deliveries
                time.sleep(DOWN_SECONDS)
            finally:
                cluster3.start_node(0)
            unmappable = _unmappable(env)
            _wait(lambda: _dead_letters(store) == unmappable, 30, f"{unmappable} dead letters", hub.log)
    finally:
        store.close()
        os.unlink(env["TONGBAN_CONFIG"])


def test_the_hub_starts_while_node_a_is_down(cluster3, sims, pg_db_url, tmp_path):
    env = hub_env(_settings(cluster3, sims, pg_db_url))
    try:
        with _Run(env, tmp_path / "first.log") as first:   # lays the topology down, every node up
            _wait(lambda: "hub running" in first.log(), 60, "the first hub", first.log)
            first.proc.send_signal(signal.SIGTERM)
            assert first.proc.wait(60) == 0, first.log()
        cluster3.stop_node(0)
        try:
            with _Run(env, tmp_path / "hub.log") as hub:
                _wait(lambda: "hub running" in hub.log() or hub.proc.poll() is not None, 60, "the hub", hub.log)
                assert hub.proc.poll() is None, hub.log()
        finally:
            cluster3.start_node(0)
    finally:
        os.unlink(env["TONGBAN_CONFIG"])


def _wait(predicate, timeout: float, what: str, log) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out after {timeout}s waiting for {what}; log:\n{log()}"
        time.sleep(0.3)


def _wait_verified(env, store, timeout: float, log) -> dict:
    # verify reads every legacy event and every delivery: once for the targets, then the
    # ledger is watched, then verify again
    first = json.loads(tongban(env, "verify", "--json").stdout)
    targets = {d: r["expected"] for d, r in first["destinations"].items()}
    deadline = time.monotonic() + timeout
    report = first
    while time.monotonic() < deadline:
        counts = store.counts()["deliveries"]
        if all(counts.get(d, 0) >= n for d, n in targets.items()):
            result = tongban(env, "verify", "--json")
            report = json.loads(result.stdout)
            if result.returncode == 0 and all(d["missing"] == 0 for d in report["destinations"].values()):
                return report
        time.sleep(1)
    raise AssertionError(f"not everything arrived in {timeout}s: {report['destinations']}\n{log()}")
