"""Personal data at rest in the console (issue 13, item 5): a dead letter stored sealed shows
masked to a viewer and an operator, who cannot reveal it (each refusal audited), and in clear
only to an admin, each reveal audited; names in its free text are masked by what its name
fields hold; a payload removed by retention, or sealed with a key the console lacks, says so."""
from __future__ import annotations

import base64
import json
import os

import pytest
import sqlalchemy as sa

from hub.console.app import create_app
from hub.console.passwords import hash_password
from hub.store import Store
from hub.store.protection import Retention
from hub.store.retention import purge_expired
from tests.console.conftest import PASSWORD, RESIDENT_ID, login

NAME = "张三丰"
PAYLOAD = json.dumps({"applicant": {"kind": "person", "name": NAME, "id_type": "resident_id",
                                    "id_number": RESIDENT_ID}, "opinion": f"{NAME}的材料齐全"}, ensure_ascii=False)


@pytest.fixture
def sealed_console(store_url, broker_url, monkeypatch):
    from hub.config import load_settings
    url, kwargs = store_url
    monkeypatch.setenv("TONGBAN_TEST_CONSOLE_KEY", base64.b64encode(os.urandom(16)).decode())
    settings = load_settings()
    settings["broker_url"] = broker_url
    settings["console"] = {"refresh_seconds": 0, "overview_cache_seconds": 0}
    settings["payload_encryption"] = {"current": "c1", "keys": {"c1": {"algorithm": "sm4-gcm",
                                                                       "key_env": "TONGBAN_TEST_CONSOLE_KEY"}}}
    store = Store.open(url, engine_kwargs=kwargs)
    for name, role in {"vic": "viewer", "olga": "operator", "ada": "admin"}.items():
        store.add_console_user(name, role, hash_password(PASSWORD))
    app = create_app(settings, store)
    store.add_dead_letter({"id": "dl-sealed-0001", "stage": "validate", "department": "commerce", "case_no": "C-9",
                           "attempts": 1, "reason": "applicant.id_number: bad check digit", "payload": PAYLOAD})
    yield app, store, settings
    store.close()


def _stored(store) -> str:
    with store._engine.connect() as conn:
        return conn.execute(sa.text("SELECT payload FROM dead_letters WHERE id = 'dl-sealed-0001'")).scalar()


def test_viewer_and_operator_see_it_masked_only_an_admin_reveals_it_audited(sealed_console):
    app, store, _ = sealed_console
    assert _stored(store).startswith("enc:v1:c1:") and RESIDENT_ID not in _stored(store)
    for name in ("vic", "olga"):
        c = login(app, name)
        html = c.get("/deadletters/dl-sealed-0001").text
        assert RESIDENT_ID not in html and NAME not in html
        assert "330106********1236" in html and "张**的材料齐全" in html   # the opinion's name too
        assert 'id="show-unmasked"' not in html
        assert c.get("/deadletters/dl-sealed-0001?unmasked=1").status_code == 403
    assert not store.audit_log("console.unmasked_view")
    assert {r["actor"] for r in store.audit_log("console.denied")} == {"vic", "olga"}
    admin = login(app, "ada")
    assert 'id="show-unmasked"' in admin.get("/deadletters/dl-sealed-0001").text
    html = admin.get("/deadletters/dl-sealed-0001?unmasked=1").text
    assert RESIDENT_ID in html and NAME in html
    admin.get("/deadletters/dl-sealed-0001?unmasked=1")
    views = store.audit_log("console.unmasked_view")
    assert [(r["actor"], r["target"]) for r in views] == [("ada", "dl-sealed-0001")] * 2


def test_a_removed_or_unopenable_payload_says_why(sealed_console, store_url):
    app, store, settings = sealed_console
    admin = login(app, "ada")
    # a console whose ring lacks the key: the page names the key, and shows no content
    url, kwargs = store_url
    other = Store.open(url, engine_kwargs=kwargs)
    try:
        keyless = create_app({**settings, "payload_encryption": {}}, other)
        html = login(keyless, "ada").get("/deadletters/dl-sealed-0001?unmasked=1").text
        assert "&#39;c1&#39;" in html or "'c1'" in html
        assert RESIDENT_ID not in html
    finally:
        other.close()
    store.mark_dead_letters(["dl-sealed-0001"], "purged", "ada", "test")
    from datetime import datetime, timedelta, timezone
    purge_expired(store, Retention(payload_days=1), now=datetime.now(timezone.utc) + timedelta(days=2))
    html = admin.get("/deadletters/dl-sealed-0001?unmasked=1").text
    assert "removed by retention" in html and RESIDENT_ID not in html
