"""`tongban store keygen | rekey | purge-expired` and `dlq show --unmasked` end to end on a store
of its own (SQLite and PostgreSQL): a key made, payloads sealed, a rotation re-sealed, expired
payloads counted in a dry run then removed, and `tongban log verify` still passing."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
import yaml

from hub.cli.main import main
from hub.config import DEFAULT_FILE
from hub.store import Store
from hub.store.protection import protect

ID_NUMBER = "330106199003071236"


@pytest.fixture
def cli(tmp_path, shared_db_url):
    settings = yaml.safe_load(DEFAULT_FILE.read_text(encoding="utf-8"))
    settings["db_url"] = shared_db_url
    settings["audit"] = {**settings["audit"], "signing_key": str(tmp_path / "keys" / "log.key"), "hash": "sha256"}
    cfg = tmp_path / "hub.yaml"

    def configure(**sections):
        settings.update(sections)
        cfg.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
        return settings
    configure()
    yield (lambda *a: main(["--config", str(cfg), *a])), configure, tmp_path


def _letter(store, id, status, days_ago):
    store.add_dead_letter({"id": id, "stage": "validate", "reason": "bad", "attempts": 1, "status": status,
                           "payload": json.dumps({"applicant": {"id_number": ID_NUMBER}}),
                           "last_failed_at": datetime.now(timezone.utc) - timedelta(days=days_ago)})


def test_keygen_rekey_purge_expired_and_log_verify(cli, capsys, shared_db_url):
    run, configure, tmp = cli
    for kid, alg in (("k1", "aes-gcm"), ("k2", "sm4-gcm")):
        assert run("store", "keygen", str(tmp / "keys" / f"{kid}.key"), "--algorithm", alg) == 0
        assert (tmp / "keys" / f"{kid}.key").stat().st_mode & 0o777 == 0o600
    assert run("store", "keygen", str(tmp / "keys" / "k1.key")) == 2          # never overwrites a key
    keys = {"k1": {"algorithm": "aes-gcm", "key_file": str(tmp / "keys" / "k1.key")},
            "k2": {"algorithm": "sm4-gcm", "key_file": str(tmp / "keys" / "k2.key")}}
    settings = configure(payload_encryption={"current": "k1", "keys": {"k1": keys["k1"]}})
    store = protect(Store.open(shared_db_url), settings)
    try:
        store.chain_algorithm = "sha256"
        store.log_messages([{"message_id": f"m{i}", "kind": "case", "department": "land", "system": "land",
                             "track": "old", "produced_at": datetime.now(timezone.utc)} for i in range(4)])
        _letter(store, "dl-old-replayed", "replayed", 100)
        _letter(store, "dl-old-dead", "dead", 100)
        _letter(store, "dl-new", "replayed", 1)
    finally:
        store.close()

    # rotation: k2 becomes current, k1 stays listed until the rekey has run
    configure(payload_encryption={"current": "k2", "keys": keys})
    capsys.readouterr()
    assert run("store", "rekey", "--dry-run", "--json") == 0
    assert json.loads(capsys.readouterr().out)["columns"]["dead_letters.payload"] == {"stale": 3}
    assert run("store", "rekey") == 0
    assert "3 re-sealed with k2" in capsys.readouterr().out
    configure(payload_encryption={"current": "k2", "keys": {"k2": keys["k2"]}})
    engine = sa.create_engine(shared_db_url)
    with engine.connect() as conn:
        stored = [r[0] for r in conn.execute(sa.text("SELECT payload FROM dead_letters"))]
    assert all(s.startswith("enc:v1:k2:") and ID_NUMBER not in s for s in stored)
    assert run("dlq", "show", "dl-old-dead", "--unmasked") == 0
    # opened with k2 alone (earlier main() calls in this process left stdout's masking on)
    shown = json.loads(capsys.readouterr().out)
    assert "payload_error" not in shown and "id_number" in shown["payload"]["applicant"]

    configure(retention={"payload_days": 30})
    assert run("store", "purge-expired", "--dry-run", "--json") == 0
    dry = json.loads(capsys.readouterr().out)
    assert dry["dry_run"] and dry["tables"]["dead_letters"] == {"days": 30, "expired": 1, "kept_unresolved": 1}
    assert run("store", "purge-expired", "--reason", "monthly") == 0
    out = capsys.readouterr().out
    assert "1 payload(s) removed" in out and "dead_letters" in out
    with engine.connect() as conn:
        gone = conn.execute(sa.text("SELECT id FROM dead_letters WHERE payload IS NULL")).scalars().all()
        actions = conn.execute(sa.text("SELECT action FROM audit_log ORDER BY id")).scalars().all()
    engine.dispose()
    assert gone == ["dl-old-replayed"]
    assert actions == ["store.rekey", "cli.unmasked_view", "store.purge_expired"]
    assert run("log", "verify") == 0
    assert "OK: every chain" in capsys.readouterr().out
