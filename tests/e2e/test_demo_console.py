"""`tongban demo --console`: the console beside the demo, on the demo's store, behind a login."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import requests

from tests.ports import free_port

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_demo_with_the_console_serves_its_store_behind_a_login(broker_url, tmp_path):
    port = free_port()
    env = dict(os.environ, TONGBAN_BROKER_URL=broker_url, TONGBAN_DB_URL=f"sqlite:///{tmp_path}/demo.db",
               TONGBAN__CONSOLE__PORT=str(port), TONGBAN__METRICS_PORT="0")
    demo = subprocess.Popen([sys.executable, "-m", "hub.cli.main", "demo", "--cases", "6", "--bad", "1",
                             "--applications", "2", "--console"], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        password, lines, deadline = None, [], time.monotonic() + 240
        for line in demo.stderr:
            lines.append(line)
            if m := re.search(r"console: http://\S+ +user demo, password (\S+)", line):
                password = m.group(1)
            if "stay up until Ctrl-C" in line or time.monotonic() > deadline:
                break
        assert password, "".join(lines[-40:])
        base = f"http://127.0.0.1:{port}"
        assert requests.get(base + "/", allow_redirects=False, timeout=10).status_code in (302, 303)  # deny by default
        s = requests.Session()
        token = re.search(r'name="csrf" value="([^"]+)"', s.get(base + "/login", timeout=10).text).group(1)
        assert s.post(base + "/login", data={"name": "demo", "password": "wrong", "csrf": token, "next": "/"},
                      timeout=10).url.endswith("/login")
        token = re.search(r'name="csrf" value="([^"]+)"', s.get(base + "/login", timeout=10).text).group(1)
        s.post(base + "/login", data={"name": "demo", "password": password, "csrf": token, "next": "/"}, timeout=10)
        page = s.get(base + "/deadletters", timeout=10)
        assert page.status_code == 200 and "死信" in page.text
        # the demo's bad case is there: the console reads the demo's store
        assert "validate" in page.text or "map" in page.text
        demo.send_signal(signal.SIGINT)
        assert demo.wait(timeout=60) == 0
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
