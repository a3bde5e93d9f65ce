"""Fixtures shared by the integration and end-to-end tests: a RabbitMQ vhost of the
test session's own on the real broker, fresh simulators on free ports, settings
pointing at both, and stores on SQLite and PostgreSQL."""
from __future__ import annotations

import os
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from hub.config import load_settings, with_endpoints

ROOT = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get("TONGBAN_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def wait_until(predicate, timeout: float = 60.0, interval: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last value {last!r})")


def all_delivered(settings: dict, store, mappings=None, extra=lambda report: True):
    """A predicate for wait_until: `tongban verify`'s report once it is ok and no destination
    misses a message (and `extra(report)` holds); falsy before."""
    from hub.ops.verify import verify

    def check():
        r = verify(settings, store, mappings)
        return r["ok"] and all(d["missing"] == 0 for d in r["destinations"].values()) and extra(r) and r
    return check


def wait_delivered(settings: dict, store, mappings=None, timeout: float = 120,
                   what: str = "every expected message delivered") -> dict:
    return wait_until(all_delivered(settings, store, mappings), timeout=timeout, interval=1, what=what)


def _ctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="session")
def broker_url():
    """A vhost for this test session, so tests never see the demo's or another run's messages."""
    vhost = f"tongban-test-{uuid.uuid4().hex[:8]}"
    _ctl("add_vhost", vhost)
    _ctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    yield f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    subprocess.run(["rabbitmqctl", "delete_vhost", vhost], capture_output=True, timeout=60)


@pytest.fixture
def sims():
    from sims.cluster import start_all
    cluster = start_all(host="127.0.0.1", ports=0, seed=7)
    yield cluster
    cluster.stop()


def _pg_schema_url():
    import sqlalchemy as sa
    schema = f"t_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')

    def drop():
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    return schema, drop


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_db_url(request, tmp_path):
    """A fresh store URL that several processes can open: a SQLite file, or a PostgreSQL
    schema of its own named in the URL (search_path), dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'hub.db'}"
        return
    schema, drop = _pg_schema_url()
    yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    drop()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    """(url, engine_kwargs) for a fresh store on each database the hub supports."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'hub.db'}", {}
        return
    schema, drop = _pg_schema_url()
    yield PG_URL, {"connect_args": {"options": f"-csearch_path={schema}"}}
    drop()


@pytest.fixture
def settings(broker_url, sims, tmp_path):
    """Settings pointing at this test's simulators, the session's vhost and a fresh SQLite store,
    with every queue of the vhost emptied first."""
    from hub.cli.sign import register_with_simulator
    s = with_endpoints(load_settings(), sims.endpoints)
    register_with_simulator(s, sims.urls["province"])   # the province checks the hub's signatures
    s["broker_url"] = broker_url
    s["db_url"] = f"sqlite:///{tmp_path / 'hub.db'}"
    s["adapters"]["commerce"]["poll_interval"] = 0.1
    s["consumer"]["backoff_initial"] = 0.2
    s["consumer"]["backoff_max"] = 1.0
    empty_queues(s)
    return s


def empty_queues(settings: dict) -> None:
    """Declare these settings' topology and empty every queue of it (and the dead and unrouted
    queues): a test that adds a queue (a department, retry tiers) calls it again, so that no
    earlier test's messages come into it."""
    from hub import bus
    from hub.runtime.runner import declare_topology
    conn = bus.connect(settings["broker_url"])
    try:
        bus.purge(conn, declare_topology(settings) + [bus.names.DEAD_QUEUE, bus.names.UNROUTED_QUEUE])
    finally:
        conn.release()


def hub_env(settings: dict) -> dict:
    """Environment for a `tongban run` subprocess with exactly these settings: they are written
    to a file of their own (TONGBAN_CONFIG), so every adapter points at this test's simulators
    and none at whatever may hold the fixed ports."""
    import tempfile
    import yaml
    fd, path = tempfile.mkstemp(prefix="tongban-test-", suffix=".yaml")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        yaml.safe_dump(settings, fh, allow_unicode=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TONGBAN")}
    env["TONGBAN_CONFIG"] = path
    return env


def partition_queues(settings: dict, destination: str) -> list[str]:
    """The partition queues of a destination in these settings' first layout."""
    from hub import bus
    from hub.routing.partitions import configured_partitions
    return bus.names.partition_queues(destination, configured_partitions(settings, destination))


def queue_of_case(settings: dict, destination: str, case_no: str) -> str:
    from hub import bus
    from hub.routing.partitions import configured_partitions, partition_of
    p = configured_partitions(settings, destination)
    return bus.names.partition_queue(destination, partition_of(case_no, p), p)


def slot_headers(case_no: str) -> dict:
    """What a publisher puts on a message of this case so that it reaches its partition."""
    from hub import bus
    from hub.routing.partitions import slot_of
    return {bus.names.H_CASE_NO: case_no, bus.names.H_SLOT: str(slot_of(case_no))}


def publish_applications(settings: dict, department: str, messages, times: int = 1) -> None:
    """Publish platform applications (body, message id) to tongban.commands as the hub's
    own source does: each logged in the store's message log (no delivery without evidence,
    hub/runtime/evidence.py), then published with its case number and partition slot,
    `times` over."""
    import json as _json
    from hub import bus
    from hub.model import Envelope
    from hub.runtime.outbound import log_row
    from hub.store import Store
    store = Store.open(settings["db_url"])
    try:
        envs = {mid: Envelope.model_validate_json(body) for body, mid in messages}
        known = store.logged_ids(list(envs))
        store.log_messages([log_row(e, str(e.source.department), str(e.source.system), "old") | {"message_id": mid}
                            for mid, e in envs.items() if mid not in known])
    finally:
        store.close()
    conn = bus.connect(settings["broker_url"])
    pub = bus.ConfirmingPublisher(conn)
    try:
        for _ in range(times):
            for body, mid in messages:
                pub.publish(body, bus.names.COMMANDS, f"{department}.application.submitted", message_id=mid,
                            headers=slot_headers(_json.loads(body)["case_no"]))
        pub.flush()
    finally:
        pub.close()
        conn.release()
