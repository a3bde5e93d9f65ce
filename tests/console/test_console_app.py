"""The console app on SQLite and PostgreSQL: access (deny by default, roles, CSRF,
sessions, lock-out), the actions and their audit rows, masking, and the pages' figures."""
from __future__ import annotations

import re

import pytest
from starlette.routing import Route

from hub.ops.status import status
from tests.console.conftest import MOBILE, PASSWORD, RESIDENT_ID, client, csrf_of, login, seed

pytestmark = [pytest.mark.broker]


def test_every_route_but_login_refuses_an_anonymous_request(console):
    app, store, _ = console
    c = client(app)
    checked = 0
    for r in app.routes:
        if not isinstance(r, Route) or getattr(r, "public", False):
            continue
        path = r.path.replace("{id}", "x").replace("{dept}", "commerce").replace("{action}", "cutover")
        for method in r.methods - {"HEAD"}:
            resp = c.request(method, path, follow_redirects=False)
            if method == "GET":
                assert resp.status_code == 303 and resp.headers["location"].startswith("/login"), path
            else:
                assert resp.status_code == 401, path
            checked += 1
    assert checked >= 10
    assert c.get("/login").status_code == 200


def test_wrong_password_is_refused_and_repeated_failures_lock_the_account(console):
    app, store, _ = console
    c = client(app)
    token = csrf_of(c.get("/login").text)
    for _ in range(3):   # lockout_attempts: 3 in the fixture
        r = c.post("/login", data={"name": "olga", "password": "wrong password", "csrf": token})
        assert r.status_code == 401 and "wrong name or password" in r.text
    r = c.post("/login", data={"name": "olga", "password": PASSWORD, "csrf": token}, follow_redirects=False)
    assert r.status_code == 401 and "locked" in r.text
    assert store.console_user("olga")["locked_until"] is not None
    actions = [a["action"] for a in store.audit_log(limit=10)]
    assert actions.count("console.login_failed") == 3 and "console.login_refused" in actions
    # an unknown name fails the same way and locks nothing
    r = c.post("/login", data={"name": "nobody", "password": PASSWORD, "csrf": token})
    assert r.status_code == 401 and "wrong name or password" in r.text


def test_login_form_needs_its_csrf_token(console):
    app, _, _ = console
    c = client(app)
    c.get("/login")
    r = c.post("/login", data={"name": "olga", "password": PASSWORD, "csrf": "forged"}, follow_redirects=False)
    assert r.status_code == 403 and "CSRF" in r.text


def test_session_cookie_is_httponly_samesite_and_logout_ends_it(console):
    app, store, settings = console
    c = client(app)
    token = csrf_of(c.get("/login").text)
    r = c.post("/login", data={"name": "vic", "password": PASSWORD, "csrf": token}, follow_redirects=False)
    cookie = [h for h in r.headers.get_list("set-cookie") if h.startswith("tongban_session=")][0]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
    session = c.cookies.get("tongban_session")
    assert c.get("/", follow_redirects=False).status_code == 200
    page = c.get("/").text
    c.post("/logout", data={"csrf": csrf_of(page)}, follow_redirects=False)
    # the old cookie no longer opens anything: the session is gone from the store
    again = client(app)
    again.cookies.set("tongban_session", session)
    assert again.get("/", follow_redirects=False).status_code == 303
    assert store.audit_log("console.logout")[0]["actor"] == "vic"


def test_secure_flag_when_configured(console):
    app, _, _ = console
    app.state.console.conf["secure_cookies"] = True
    c = client(app)
    token = csrf_of(c.get("/login").text)
    r = c.post("/login", data={"name": "vic", "password": PASSWORD, "csrf": token}, follow_redirects=False)
    assert all("Secure" in h for h in r.headers.get_list("set-cookie"))


def test_a_form_without_the_csrf_token_changes_nothing(console):
    app, store, _ = console
    seed(store)
    c = login(app, "olga")
    for forged in ({}, {"csrf": "not-the-token"}):
        r = c.post("/deadletters/act", data={"action": "purge", "ids": "dl-validate-0001", "reason": "x", **forged})
        assert r.status_code == 403 and "CSRF" in r.text
    assert store.get_dead_letter("dl-validate-0001")["status"] == "dead"
    assert store.audit_log("console.csrf_refused")


def test_a_viewer_is_refused_operator_and_handover_actions(console):
    app, store, _ = console
    seed(store)
    c = login(app, "vic")
    page = c.get("/deadletters").text
    assert 'id="replay"' not in page   # no buttons for a viewer
    token = csrf_of(page)
    r = c.post("/deadletters/act", data={"action": "purge", "ids": "dl-validate-0001", "reason": "x", "csrf": token})
    assert r.status_code == 403 and 'id="refused"' in r.text
    r = c.post("/dualtrack/commerce/cutover", data={"reason": "x", "csrf": token})
    assert r.status_code == 403
    assert c.get("/users").status_code == 403
    assert store.get_dead_letter("dl-validate-0001")["status"] == "dead"
    denied = store.audit_log("console.denied")
    assert {d["target"] for d in denied} >= {"/deadletters/act", "/dualtrack/commerce/cutover", "/users"}


def test_an_operator_purges_with_a_reason_recorded_and_shown_on_the_audit_page(console):
    app, store, _ = console
    seed(store)
    c = login(app, "olga")
    token = csrf_of(c.get("/deadletters").text)
    r = c.post("/deadletters/act", data={"action": "purge", "ids": "dl-validate-0001", "reason": " ", "csrf": token})
    assert r.status_code == 400 and "reason" in r.text
    assert store.get_dead_letter("dl-validate-0001")["status"] == "dead"
    r = c.post("/deadletters/act", data={"action": "purge", "ids": "dl-validate-0001", "csrf": token,
                                         "reason": "credit code wrong at source; re-entered"})
    assert r.status_code == 200 and 'id="result"' in r.text
    assert store.get_dead_letter("dl-validate-0001")["status"] == "purged"
    row = store.audit_log("dlq.purge")[0]
    assert (row["actor"], row["target"], row["reason"]) == ("olga@console", "dl-validate-0001",
                                                            "credit code wrong at source; re-entered")
    assert "credit code wrong at source" in c.get("/audit").text


def test_purge_by_filter_takes_exactly_what_the_filter_shows(console):
    app, store, _ = console
    seed(store)
    c = login(app, "olga")
    listed = c.get("/deadletters?stage=validate").text
    assert "dl-valid" in listed and "dl-deliv" not in listed
    r = c.post("/deadletters/act", data={"action": "purge", "scope": "filter", "stage": "validate", "status": "dead",
                                         "reason": "bad batch", "csrf": csrf_of(listed)})
    assert r.status_code == 200
    assert store.get_dead_letter("dl-validate-0001")["status"] == "purged"
    assert store.get_dead_letter("dl-deliver-0001")["status"] == "dead"
    assert "dl-valid" not in c.get("/deadletters?cause=credit").text   # only dead ones listed by default


def _figure(html: str, id_: str) -> int:
    return int(re.search(rf'id="{re.escape(id_)}"[^>]*>(\d+)<', html).group(1))


def test_overview_shows_the_figures_of_tongban_status(console):
    app, store, settings = console
    seed(store)
    html = login(app, "vic").get("/").text
    want = status(settings, store)["store"]
    assert _figure(html, "messages-logged") == want["messages"] == 3
    for dest, n in want["deliveries"].items():
        assert _figure(html, f"delivered-{dest}") == n
    assert _figure(html, "dead-dead") == want["dead_letters"]["dead"] == 2
    assert "<svg" in html and "投递 delivered/min" in html
    assert "市场监督管理局" in html and "南向 southbound" in html


def test_case_trace_puts_messages_deliveries_holds_and_dead_letters_on_one_timeline(console):
    app, store, _ = console
    seed(store)
    html = login(app, "vic").get("/trace?case_no=CASE-0001").text
    rows = re.findall(r'<tr class="ev-(\w+)">', html)
    assert rows.count("message") == 2 and rows.count("delivery") == 1 and rows.count("dead_letter") == 1
    assert 'href="/deadletters/dl-deliver-0001"' in html
    counts = re.search(r'<p id="trace-counts">(.*?)</p>', html).group(1)
    assert "消息 messages 2" in counts and "投递 deliveries 1" in counts and "死信 dead letters 1" in counts
    assert "nothing in the store" in login(app, "vic").get("/trace?case_no=NO-SUCH").text


def test_a_dead_letters_fields_are_named_in_chinese_and_english(console):
    app, store, _ = console
    seed(store)
    html = login(app, "vic").get("/deadletters/dl-deliver-0001").text
    fields = re.findall(r"<tr><th>(.*?)</th>", re.search(r'<table id="dl-fields">(.*?)</table>', html, re.S).group(1))
    assert fields[:4] == ["阶段 stage", "状态 status", "部门 department", "目的地 destination"]
    assert "办件编号 case number" in fields and "原因 reason" in fields


def test_dead_letter_detail_is_masked_and_only_an_admin_sees_it_unmasked_audited(console):
    app, store, _ = console
    seed(store)
    viewer = login(app, "vic")
    html = viewer.get("/deadletters/dl-validate-0001").text
    assert RESIDENT_ID not in html and MOBILE not in html and "330106********1236" in html
    assert RESIDENT_ID not in viewer.get("/deadletters").text
    assert viewer.get("/deadletters/dl-validate-0001?unmasked=1").status_code == 403
    assert not store.audit_log("console.unmasked_view")
    admin = login(app, "ada")
    html = admin.get("/deadletters/dl-validate-0001?unmasked=1").text
    assert RESIDENT_ID in html and MOBILE in html
    row = store.audit_log("console.unmasked_view")[0]
    assert (row["actor"], row["target"]) == ("ada", "dl-validate-0001")


def test_cutover_is_refused_with_the_reasons_when_not_ready(console):
    app, store, settings = console
    settings["dualtrack"] = {"departments": {"commerce": {"mode": "shadow"}}}
    c = login(app, "hana")
    page = c.get("/dualtrack").text
    assert 'id="cutover-commerce"' in page and "未就绪 not ready" in page
    r = c.post("/dualtrack/commerce/cutover", data={"reason": "try", "csrf": csrf_of(page)})
    assert r.status_code == 409 and 'id="refused"' in r.text and "<li>" in r.text
    assert store.dualtrack_stored_modes() == {}
    assert c.get("/dualtrack/commerce/report").status_code == 200


def test_admin_adds_a_user_from_the_users_page(console):
    app, store, _ = console
    c = login(app, "ada")
    token = csrf_of(c.get("/users").text)
    r = c.post("/users", data={"name": "newop", "role": "operator", "password": "long enough 1",
                               "reason": "new shift", "csrf": token})
    assert r.status_code == 200 and store.console_user("newop")["role"] == "operator"
    assert store.audit_log("console.user_add")[0]["target"] == "newop"
    login(app, "newop", "long enough 1")


def test_every_page_renders_for_every_role(console):
    app, store, _ = console
    seed(store)
    for name in ("vic", "olga", "hana", "ada"):
        c = login(app, name)
        for path in ("/", "/queues", "/deadletters", "/deadletters/dl-deliver-0001", "/trace?case_no=CASE-0001",
                     "/dualtrack", "/audit"):
            assert c.get(path).status_code == 200, (name, path)
