"""The console in a real browser (headless chromium), against a live hub: log in, the
overview's figures equal `tongban status --json`'s, a case found by its number, a dead
letter replayed and then seen delivered, a viewer refused an operator's action, a forged
form refused by the CSRF check. Screenshots of each page go to var/screenshots/."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import requests
from selenium.webdriver.common.by import By

from tests.browser.conftest import log_in, screenshot, settle
from tests.conftest import ROOT, hub_env, wait_until

pytestmark = [pytest.mark.broker, pytest.mark.browser]


def _status_json(settings) -> dict:
    env = hub_env(settings) | {"PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-m", "hub.cli.main", "status", "--json"], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=60, check=True)
    return json.loads(out.stdout)


def _logged(live, case_no: str) -> int:
    import sqlalchemy as sa
    from hub.store.schema import message_log
    with sa.create_engine(live.settings["db_url"]).connect() as conn:
        return conn.scalar(sa.select(sa.func.count()).where(message_log.c.case_no == case_no))


def _figure(driver, id_: str) -> int:
    return int(driver.find_element(By.ID, id_).text)


def test_log_in_and_the_overview_shows_what_tongban_status_says(live, browser):
    settle(live.store)
    want = _status_json(live.settings)["store"]
    log_in(browser, live, "olga")
    browser.get(live.url + "/")
    assert _figure(browser, "messages-logged") == want["messages"]
    assert want["deliveries"], "the hub delivered nothing"
    for dest, n in want["deliveries"].items():
        assert _figure(browser, f"delivered-{dest}") == n
    assert _figure(browser, "dead-dead") == want["dead_letters"]["dead"] == 1
    assert browser.find_elements(By.CSS_SELECTOR, "svg.chart polyline")
    assert "死信阻塞" in browser.find_element(By.ID, "destinations").text or \
        browser.find_element(By.ID, "destinations").text.count("1") >= 1
    screenshot(browser, "overview")


def test_find_a_case_by_its_number(live, browser):
    log_in(browser, live, "vic")
    browser.get(live.url + "/trace")
    browser.find_element(By.ID, "case_no").send_keys(live.stuck)
    browser.find_element(By.ID, "find").click()
    wait_until(lambda: browser.find_elements(By.ID, "timeline"), timeout=10, what="the timeline")
    kinds = [tr.get_attribute("class") for tr in browser.find_elements(By.CSS_SELECTOR, "#timeline tr[class]")]
    assert kinds.count("ev-message") == _logged(live, live.stuck) >= 3, kinds   # its steps (and certificate)
    assert "ev-dead_letter" in kinds and "ev-hold" in kinds and kinds.count("ev-parked") == 2
    assert live.stuck in browser.find_element(By.ID, "case_no").get_attribute("value")
    screenshot(browser, "case-trace")


def test_replay_a_dead_letter_and_see_it_delivered(live, browser):
    log_in(browser, live, "olga")
    browser.get(live.url + "/deadletters?stage=deliver")
    screenshot(browser, "dead-letters")
    browser.find_element(By.CSS_SELECTOR, "a.dl-link").click()
    assert live.stuck in browser.find_element(By.ID, "dl-fields").text
    screenshot(browser, "dead-letter")
    live.dest.heal(live.stuck)
    browser.find_element(By.ID, "reason").send_keys("platform fixed the outage")
    browser.find_element(By.ID, "replay").click()
    assert "replay" in browser.find_element(By.ID, "result").text

    def delivered():
        browser.get(f"{live.url}/trace?case_no={live.stuck}")
        rows = browser.find_elements(By.CSS_SELECTOR, "#timeline tr.ev-delivery")
        return sum("市分厅 platform" in r.text for r in rows) == 3   # the case's three steps at the platform
    wait_until(delivered, timeout=60, interval=1.0, what="the case delivered after the replay")
    received = requests.get(live.sims.urls["platform"] + "/_admin/received", timeout=10).json()["items"]
    assert [i["sequence"] for i in received if i["case_no"] == live.stuck] == [1, 2, 3]
    row = live.store.audit_log("dlq.replay")[0]
    assert (row["actor"], row["reason"]) == ("olga@console", "platform fixed the outage")
    screenshot(browser, "case-trace-after-replay")


def _forge(browser, action: str, fields: dict) -> None:
    """Post a form the page did not offer, as a script or a forged page would."""
    browser.execute_script("""
        const f = document.createElement('form'); f.method = 'post'; f.action = arguments[0];
        for (const [k, v] of Object.entries(arguments[1])) {
            const i = document.createElement('input'); i.type = 'hidden'; i.name = k; i.value = v; f.appendChild(i); }
        document.body.appendChild(f); f.submit();""", action, fields)


def test_a_viewer_is_refused_an_operator_action(live, browser):
    log_in(browser, live, "vic")
    browser.get(live.url + "/deadletters?status=")
    assert not browser.find_elements(By.ID, "replay")   # the page offers no action
    ids = [e.get_attribute("value") for e in browser.find_elements(By.CSS_SELECTOR, "input.pick")]
    assert ids
    csrf = browser.find_element(By.CSS_SELECTOR, "#act input[name=csrf]").get_attribute("value")
    before = {i: live.store.get_dead_letter(i)["status"] for i in ids}
    _forge(browser, "/deadletters/act", {"csrf": csrf, "action": "purge", "ids": ids[0], "reason": "viewer tries"})
    assert "Not allowed" in browser.find_element(By.ID, "refused").text
    assert {i: live.store.get_dead_letter(i)["status"] for i in ids} == before
    assert live.store.audit_log("console.denied")[0]["actor"] == "vic"
    screenshot(browser, "refused")


def test_csrf_refuses_a_forged_form(live, browser):
    log_in(browser, live, "olga")
    browser.get(live.url + "/deadletters?status=")
    ids = [e.get_attribute("value") for e in browser.find_elements(By.CSS_SELECTOR, "input.pick")]
    before = {i: live.store.get_dead_letter(i)["status"] for i in ids}
    _forge(browser, "/deadletters/act", {"action": "purge", "ids": ids[0], "reason": "forged", "csrf": "guess"})
    assert "CSRF" in browser.find_element(By.ID, "csrf-refused").text
    # the same form from another site: the SameSite cookie is not even sent with it
    page = ("data:text/html,<form method=post action='" + live.url + "/deadletters/act'>"
            "<input name=action value=purge><input name=ids value='" + ids[0] + "'><input name=reason value=x>"
            "</form><script>document.forms[0].submit()</script>")
    browser.get(page)
    wait_until(lambda: "not logged in" in browser.page_source or "CSRF" in browser.page_source, timeout=10,
               what="the cross-site form refused")
    assert {i: live.store.get_dead_letter(i)["status"] for i in ids} == before
    screenshot(browser, "csrf-refused")


def test_every_page_renders_in_the_browser(live, browser):
    log_in(browser, live, "ada")
    pages = {"overview": "/", "queues": "/queues", "dead-letters-all": "/deadletters?status=",
             "case-trace": f"/trace?case_no={live.stuck}", "dual-track": "/dualtrack", "audit": "/audit",
             "users": "/users"}
    for name, path in pages.items():
        browser.get(live.url + path)
        assert browser.find_element(By.TAG_NAME, "h1").text, path
        assert "Traceback" not in browser.page_source and "Internal Server Error" not in browser.page_source
        screenshot(browser, name if name not in ("overview", "case-trace") else name + "-admin")
    queues = browser.get(live.url + "/queues") or browser.find_element(By.ID, "queues-platform").text
    assert "tongban.to.platform.0of" in queues
    assert "olga@console" in (browser.get(live.url + "/audit") or browser.find_element(By.ID, "audit").text)
    assert os.path.exists(screenshot(browser, "audit"))
