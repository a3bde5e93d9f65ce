"""A live hub and console for the browser tests: the simulators, the hub in this process
(so a destination can be made to fail: tests/reliability/flaky.py), a case dead-lettered at
the platform, the console served by uvicorn on a free port, and Debian's chromium driven
through chromedriver (scripts/browser_deps.sh installs both)."""
from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

import pytest
import requests

from hub import bus
from hub.config import load_settings, with_endpoints
from hub.console.app import create_app
from hub.console.passwords import hash_password
from hub.runtime.runner import Hub, declare_topology
from hub.store import Store
from tests.conftest import ROOT, wait_until
from tests.reliability import flaky

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
SCREENSHOTS = Path(os.environ.get("TONGBAN_SCREENSHOTS", ROOT / "var" / "screenshots"))
PASSWORD = "browser pass 1"
USERS = {"olga": "operator", "vic": "viewer", "ada": "admin"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Live:
    """What the tests share: settings, store, the failing destination, the stuck case."""


@pytest.fixture(scope="module")
def live(broker_url, tmp_path_factory):
    import uvicorn
    from sims.cluster import start_all
    tmp = tmp_path_factory.mktemp("console")
    mp = pytest.MonkeyPatch()
    sims = start_all(host="127.0.0.1", ports=0, seed=7)
    hub = server = None
    try:
        s = with_endpoints(load_settings(), sims.endpoints)
        s.update(broker_url=broker_url, db_url=f"sqlite:///{tmp / 'hub.db'}")
        s["adapters"]["commerce"]["poll_interval"] = 0.1
        s["consumer"]["backoff_initial"], s["consumer"]["backoff_max"] = 0.2, 1.0
        s["retry"] = {"tiers": [0.5, 1.0], "max_attempts": 2}
        s["console"] = {"overview_cache_seconds": 0}   # figures of the moment, to compare with `tongban status`
        conn = bus.connect(broker_url)
        try:
            bus.purge(conn, declare_topology(s) + [bus.names.DEAD_QUEUE, bus.names.UNROUTED_QUEUE])
        finally:
            conn.release()
        dest = flaky.install(mp, s)
        cases = requests.post(sims.urls["commerce"] + "/_admin/load", json={"cases": 5}, timeout=60).json()["applyNos"]
        stuck = cases[0]
        dest.fail_first(stuck)
        store = Store.open(s["db_url"])
        hub = Hub(s, store=store).start()
        wait_until(lambda: store.list_dead_letters(stage="deliver"), timeout=90, what="a dead letter at the platform")
        wait_until(lambda: len(store.parked("platform", stuck)) == 2, timeout=60, what="the case's later steps parked")
        for name, role in USERS.items():
            store.add_console_user(name, role, hash_password(PASSWORD))
        port = _free_port()
        server = uvicorn.Server(uvicorn.Config(create_app(s, store), host="127.0.0.1", port=port, log_level="warning"))
        threading.Thread(target=server.run, daemon=True).start()
        wait_until(lambda: server.started, timeout=20, what="the console listening")
        live = Live()
        live.settings, live.store, live.sims, live.dest, live.stuck = s, store, sims, dest, stuck
        live.url = f"http://127.0.0.1:{port}"
        yield live
    finally:
        if server is not None:
            server.should_exit = True
        if hub is not None:
            hub.shutdown()
        sims.stop()
        mp.undo()


@pytest.fixture
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    assert os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER), \
        "chromium and chromium-driver are missing: scripts/browser_deps.sh installs them"
    profile = tempfile.mkdtemp(prefix="tongban-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                f"--user-data-dir={profile}", "--window-size=1400,1100", "--lang=zh-CN"):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.implicitly_wait(2)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def log_in(driver, live, name: str) -> None:
    from selenium.webdriver.common.by import By
    driver.get(live.url + "/")
    assert "/login" in driver.current_url   # deny by default: the overview sends us to log in
    driver.find_element(By.ID, "name").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "login").click()
    wait_until(lambda: driver.find_elements(By.ID, "logout"), timeout=10, what=f"{name} logged in")


def screenshot(driver, name: str) -> Path:
    """Saved under var/screenshots/ (the README names it), the whole page's height."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1400, min(max(height + 40, 700), 4000))
    path = SCREENSHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    driver.set_window_size(1400, 1100)
    return path


def settle(store, seconds: float = 1.5, timeout: float = 60) -> dict:
    """The store's counts once they stopped moving (the hub is idle)."""
    deadline = time.monotonic() + timeout
    last = store.counts()
    while time.monotonic() < deadline:
        time.sleep(seconds)
        now = store.counts()
        if now == last:
            return now
        last = now
    raise AssertionError("the store's counts kept moving")
