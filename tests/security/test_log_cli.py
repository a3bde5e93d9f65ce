"""`tongban log verify | checkpoint | export | keygen` end to end on a store of its own (SQLite
and PostgreSQL): a clean log exits 0, each kind of tampering exits 1 naming the row."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
import yaml

from hub.cli.main import main
from hub.config import DEFAULT_FILE
from hub.store import Store


@pytest.fixture
def cli(tmp_path, shared_db_url):
    settings = yaml.safe_load(DEFAULT_FILE.read_text(encoding="utf-8"))
    settings["db_url"] = shared_db_url
    settings["audit"] = {**settings["audit"], "signing_key": str(tmp_path / "keys" / "log.key"), "hash": "sha256"}
    cfg = tmp_path / "hub.yaml"
    cfg.write_text(yaml.safe_dump(settings), encoding="utf-8")
    store = Store.open(shared_db_url)
    store.chain_algorithm = "sha256"
    store.log_messages([{"message_id": f"m{i}", "kind": "case_event", "department": "land", "system": "land",
                         "track": "old", "produced_at": datetime(2026, 12, 1, tzinfo=timezone.utc)}
                        for i in range(6)])
    store.audit("li.wei", "dlq.purge", "-", "test data")
    yield (lambda *a: main(["--config", str(cfg), *a])), store, tmp_path
    store.close()


def test_verify_checkpoint_export_and_tampering(cli, capsys):
    run, store, tmp = cli
    assert run("log", "verify") == 0
    assert "OK: every chain" in capsys.readouterr().out
    assert run("log", "checkpoint") == 0
    assert "2 checkpoint(s) signed" in capsys.readouterr().out     # the land chain and the audit chain
    assert (tmp / "keys" / "log.key").stat().st_mode & 0o777 == 0o600
    assert run("log", "export", "--out", str(tmp / "export.json")) == 0
    doc = json.loads((tmp / "export.json").read_text())
    assert len(doc["checkpoints"]) == 2 and doc["public_keys"][0]["algorithm"] == "ed25519"
    assert all(c["head_hash"].startswith("sha256:") for c in doc["checkpoints"])

    with store._engine.begin() as conn:
        conn.execute(sa.text("UPDATE message_log SET record_key = 'changed' WHERE message_id = 'm2'"))
        conn.execute(sa.text("DELETE FROM message_log WHERE message_id = 'm5'"))
    capsys.readouterr()
    assert run("log", "verify", "--json") == 1
    report = json.loads(capsys.readouterr().out)
    assert sorted((f["kind"], f["row"], f["position"]) for f in report["findings"]) == \
        [("deleted", None, 6), ("edited", "m2", 3)]
    assert run("log", "verify") == 1
    out = capsys.readouterr().out
    assert "EDITED" in out and "m2" in out and "FAILED: 2 finding(s)" in out
    # the checkpoint verifies only with its key: another public key alone does not
    assert run("log", "keygen", str(tmp / "other.key"), "--algorithm", "sm2") == 0
    assert run("log", "verify", "--since", "2020-01-01") == 1
