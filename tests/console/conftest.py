"""The console app against a real store (SQLite and PostgreSQL, tests/conftest.py's
store_url) through Starlette's test client, with three users of different roles."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from starlette.testclient import TestClient

from hub.config import load_settings
from hub.console.app import create_app
from hub.console.passwords import hash_password
from hub.store import Store

PASSWORD = "correct horse 9"
USERS = {"vic": "viewer", "olga": "operator", "hana": "handover", "ada": "admin"}
# An applicant's resident ID (valid check digit) and mobile: what masking must hide.
RESIDENT_ID = "330106199003071236"
MOBILE = "13812345678"


@pytest.fixture
def console(store_url, broker_url):
    url, kwargs = store_url
    store = Store.open(url, engine_kwargs=kwargs)
    settings = load_settings()
    settings["broker_url"] = broker_url
    settings["console"] = {"lockout_attempts": 3, "lockout_minutes": 10, "refresh_seconds": 0,
                           "overview_cache_seconds": 0}
    for name, role in USERS.items():
        store.add_console_user(name, role, hash_password(PASSWORD))
    app = create_app(settings, store)
    yield app, store, settings
    store.close()


def client(app) -> TestClient:
    return TestClient(app, base_url="http://127.0.0.1")


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def login(app, name: str, password: str = PASSWORD) -> TestClient:
    c = client(app)
    token = csrf_of(c.get("/login").text)
    r = c.post("/login", data={"name": name, "password": password, "csrf": token, "next": "/"},
               follow_redirects=False)
    assert r.status_code == 303, r.text[:500]
    return c


def seed(store, case_no: str = "CASE-0001") -> dict:
    """A case with two published messages, one delivery, one dead delivery holding it, and
    a validate dead letter holding an applicant's ID number and phone."""
    now = datetime.now(timezone.utc)
    store.log_messages([
        {"message_id": "m-1", "kind": "case_event", "department": "commerce", "track": "old", "case_no": case_no,
         "sequence": 1, "routing_key": "commerce.case_event.submitted", "produced_at": now},
        {"message_id": "m-2", "kind": "case_event", "department": "commerce", "track": "old", "case_no": case_no,
         "sequence": 2, "routing_key": "commerce.case_event.accepted", "produced_at": now},
        {"message_id": "m-3", "kind": "application", "department": "platform", "track": "old", "case_no": "P-9",
         "produced_at": now}])
    store.record_deliveries("platform", [{"message_id": "m-1", "case_no": case_no, "sequence": 1,
                                          "kind": "case_event", "outcome": "accepted", "track": "old"}])
    store.record_deliveries("commerce", [{"message_id": "m-3", "case_no": "P-9", "kind": "application",
                                          "outcome": "accepted"}])
    store.add_dead_letter({"id": "dl-deliver-0001", "message_id": "m-2", "stage": "deliver", "department": "commerce",
                           "destination": "platform", "case_no": case_no, "reason": "gave up after 4 attempts",
                           "attempts": 4, "payload": "{}", "last_failed_at": now - timedelta(minutes=1)})
    store.add_dead_letter({"id": "dl-validate-0001", "stage": "validate", "department": "commerce",
                           "case_no": "CASE-0002", "attempts": 1,
                           "reason": f"applicant.id_number {RESIDENT_ID}: not a unified social credit code",
                           "payload": f'{{"applicant": {{"id_number": "{RESIDENT_ID}", "phone": "{MOBILE}"}}}}'})
    return {"case_no": case_no}
