"""Least privilege on the real broker: `tongban broker provision` makes one user per role in
a throwaway vhost (deleted afterwards, users too); the tests show what each may not do,
and that the hub runs on them (deliveries happen, and no connection is guest's)."""
from __future__ import annotations

import json
import time
import stat
import uuid

import pytest
import requests
from kombu import Connection, Exchange, Queue

from hub import bus
from hub.bus import credentials
from hub.bus.provision import Management
from hub.cli.main import main
from hub.config import load_settings, with_endpoints
from hub.runtime.runner import declare_topology
from tests.conftest import wait_delivered

MGMT = "http://127.0.0.1:15672"


def _cli(*args: str) -> int:
    return main(["broker", *args, "--admin-user", "guest"])


@pytest.fixture
def provisioned(tmp_path, monkeypatch, capsys):
    """(vhost, credentials file, user prefix); every user and the vhost deleted afterwards."""
    monkeypatch.setenv("TONGBAN_BROKER_ADMIN_PASSWORD", "guest")   # the tests' own set-up only
    vhost, prefix = f"tongban-roles-{uuid.uuid4().hex[:8]}", f"tbt{uuid.uuid4().hex[:6]}"
    path = tmp_path / "broker-credentials.json"
    assert _cli("provision", "--vhost", vhost, "--prefix", prefix, "--credentials", str(path), "--json") == 0
    first = json.loads(capsys.readouterr().out)["changes"]
    yield vhost, path, prefix, first
    _cli("remove", "--credentials", str(path), "--delete-vhost", "--json")
    left = [u["name"] for u in requests.get(f"{MGMT}/api/users", auth=("guest", "guest"), timeout=10).json()
            if u["name"].startswith(prefix)]
    assert not left, f"users left behind: {left}"


def _settings(vhost: str, path, tmp_path) -> dict:
    s = load_settings()
    s["broker_url"] = f"amqp://127.0.0.1:5672/{vhost}"      # no user in the URL: each role brings its own
    s["broker"] = {"credentials_file": str(path)}
    s["db_url"] = f"sqlite:///{tmp_path / 'hub.db'}"
    return s


def _connect(settings: dict, role: str) -> Connection:
    return bus.connect(credentials.url_for(settings, role))


def _refused(conn: Connection, action) -> str:
    """Run action(channel) and return the broker's refusal (ACCESS_REFUSED, 403)."""
    channel = conn.channel()
    with pytest.raises(conn.channel_errors) as info:
        action(channel)
        conn.drain_events(timeout=2)    # a refused publish is answered asynchronously
    assert getattr(info.value, "code", None) == 403, info.value
    return str(info.value)


def test_provision_is_idempotent_and_no_user_is_administrator(provisioned, capsys):
    vhost, path, prefix, first = provisioned
    assert {c["action"] for c in first} == {"created"}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    before = path.read_text()
    assert _cli("provision", "--vhost", vhost, "--prefix", prefix, "--credentials", str(path), "--json") == 0
    again = json.loads(capsys.readouterr().out)["changes"]
    assert {c["action"] for c in again} == {"unchanged"}, again
    assert path.read_text() == before
    users = {u["name"]: u for u in requests.get(f"{MGMT}/api/users", auth=("guest", "guest"), timeout=10).json()
             if u["name"].startswith(prefix)}
    assert len(users) == len(json.loads(before)["users"]) >= 6
    for name, u in users.items():
        tags = u["tags"] if isinstance(u["tags"], list) else u["tags"].split(",")
        assert "administrator" not in tags, name
    assert "monitoring" in (users[f"{prefix}-console"]["tags"])
    # --rotate: new passwords, and the file follows
    assert _cli("provision", "--vhost", vhost, "--prefix", prefix, "--credentials", str(path), "--rotate",
                "--json") == 0
    rotated = json.loads(capsys.readouterr().out)["changes"]
    assert {c["action"] for c in rotated if c["what"] == "user"} == {"rotated"}
    old, new = json.loads(before)["users"], json.loads(path.read_text())["users"]
    assert all(old[r]["password"] != new[r]["password"] for r in old)
    assert before.count("password") and "password" not in json.dumps(rotated)


def test_each_role_is_refused_what_is_not_its_own(provisioned, tmp_path):
    vhost, path, _prefix, _ = provisioned
    s = _settings(vhost, path, tmp_path)
    declare_topology(s)                              # as the operator role
    platform_q, province_q = "tongban.to.platform.0of4", "tongban.to.province.0of4"

    source = _connect(s, credentials.source("commerce"))
    try:
        _refused(source, lambda ch: ch.basic_consume(platform_q, callback=lambda m: None))
        _refused(source, lambda ch: ch.queue_declare("tongban.mine", durable=True))
        # its own department's routing keys only (topic permission on tongban.events)
        _refused(source, lambda ch: ch.basic_publish(ch.prepare_message(b"{}"), exchange=bus.names.EVENTS,
                                                     routing_key="ndrc.case_event.accepted"))
    finally:
        source.release()

    platform = _connect(s, credentials.deliver("platform"))
    try:
        why = _refused(platform, lambda ch: ch.basic_consume(province_q, callback=lambda m: None))
        assert province_q in why
        ch = platform.channel()                   # its own partition: allowed
        ch.basic_consume(platform_q, callback=lambda m: None)
        ch.close()
        _refused(platform, lambda ch: ch.basic_publish(ch.prepare_message(b"{}"), exchange=bus.names.EVENTS,
                                                       routing_key="commerce.case_event.accepted"))
    finally:
        platform.release()

    console = _connect(s, credentials.CONSOLE)
    try:
        _refused(console, lambda ch: ch.basic_publish(ch.prepare_message(b"{}"), exchange=bus.names.EVENTS,
                                                      routing_key="commerce.case_event.accepted"))
        _refused(console, lambda ch: ch.basic_consume(bus.names.DEAD_QUEUE, callback=lambda m: None))
    finally:
        console.release()
    # the console's figures come from the management API, as the monitoring user it is
    from hub.bus.inventory import management_queues
    listed = management_queues(credentials.url_for(s, credentials.CONSOLE))
    assert listed is not None and platform_q in {q["name"] for q in listed}


def test_credentials_errors_name_the_role_not_the_secret(tmp_path, monkeypatch):
    s = {"broker_url": "amqp://127.0.0.1:5672/x", "broker": {"credentials_file": str(tmp_path / "c.json")}}
    with pytest.raises(credentials.BrokerCredentialsError, match="does not exist"):
        credentials.url_for(s, credentials.CONSOLE)
    (tmp_path / "c.json").write_text(json.dumps({"users": {"console": {"user": "u", "password": "s3cret"}}}))
    (tmp_path / "c.json").chmod(0o644)
    with pytest.raises(credentials.BrokerCredentialsError, match="readable by others"):
        credentials.url_for(s, credentials.CONSOLE)
    (tmp_path / "c.json").chmod(0o600)
    with pytest.raises(credentials.BrokerCredentialsError, match="no user for role deliver.platform") as info:
        credentials.url_for(s, credentials.deliver("platform"))
    assert "s3cret" not in str(info.value)
    assert credentials.url_for(s, credentials.CONSOLE) == "amqp://u:s3cret@127.0.0.1:5672/x"
    monkeypatch.setenv("TONGBAN_AMQP_USER_DELIVER_PLATFORM", "d")
    monkeypatch.setenv("TONGBAN_AMQP_PASSWORD_DELIVER_PLATFORM", "p/w")
    assert credentials.url_for(s, credentials.deliver("platform")) == "amqp://d:p%2Fw@127.0.0.1:5672/x"
    # nothing configured: the URL exactly as it is, as before provisioning existed
    monkeypatch.delenv("TONGBAN_AMQP_USER_DELIVER_PLATFORM")
    plain = {"broker_url": "amqp://guest:guest@127.0.0.1:5672//"}
    assert credentials.url_for(plain, credentials.deliver("platform")) == plain["broker_url"]


def test_the_hub_delivers_with_provisioned_users(provisioned, sims, tmp_path):
    from hub.runtime.runner import Hub
    from hub.store import Store
    vhost, path, prefix, _ = provisioned
    s = with_endpoints(_settings(vhost, path, tmp_path), sims.endpoints)
    s["adapters"]["commerce"]["poll_interval"] = 0.1
    requests.post(s["adapters"]["commerce"]["url"] + "/_admin/load", json={"cases": 20},
                  timeout=60).raise_for_status()
    store = Store.open(s["db_url"])
    hub = Hub(s, store=store).start()
    try:
        report = wait_delivered(s, store, hub.mappings, timeout=120, what="every expected message delivered by the provisioned users")
        wanted = {f"{prefix}-source.commerce", f"{prefix}-deliver.platform", f"{prefix}-deliver.province",
                  f"{prefix}-recorder"}
        deadline = time.monotonic() + 20
        while True:   # the management API lists a connection a few seconds after it opened, under load
            conns = requests.get(f"{MGMT}/api/connections", auth=("guest", "guest"), timeout=10).json()
            users = {c["user"] for c in conns if c.get("vhost") == vhost}
            if wanted <= users or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    finally:
        hub.shutdown()
        store.close()
    assert report["destinations"]["platform"]["delivered"] == 60
    assert report["destinations"]["province"]["delivered"] == 40
    assert wanted <= users
    assert all(u.startswith(prefix) for u in users), users     # no guest, no shared user
