"""The dependency audit (issue 13, item 6; scripts/audit_deps.py): real pip-audit over this
environment against an OSV service on loopback that knows one vulnerability of an installed
package. A vulnerability with a fix fails the audit, one without a fix is reported and does
not, and a service that cannot be reached is said to be so, never passed off as clean."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.ports import free_port

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "audit_deps.py"
VICTIM = "requests"     # installed with the hub (its REST client)


def _vuln(fixed: str | None) -> dict:
    events = [{"introduced": "0"}] + ([{"fixed": fixed}] if fixed else [])
    return {"id": "GHSA-test-0001", "aliases": ["CVE-2099-0001"], "summary": "credentials leak on redirect",
            "affected": [{"package": {"name": VICTIM, "ecosystem": "PyPI"},
                          "ranges": [{"type": "ECOSYSTEM", "events": events}]}]}


@pytest.fixture
def osv():
    """An OSV /v1/query answering for VICTIM with what the test sets, {} for anything else."""
    known: dict = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            query = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            body = json.dumps({"vulns": [known["vuln"]]} if query["package"]["name"] == VICTIM else {}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield known, f"http://127.0.0.1:{server.server_address[1]}/v1/query"
    server.shutdown()


def audit(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=300)


def test_a_vulnerability_with_a_fix_fails_the_audit(osv):
    known, url = osv
    known["vuln"] = _vuln("99.0.0")
    run = audit("--service", "osv", "--osv-url", url)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "FAILED, 1 known vulnerability with a fix available" in run.stdout
    line = next(ln for ln in run.stdout.splitlines() if ln.strip().startswith(f"{VICTIM} {version(VICTIM)}:"))
    assert "GHSA-test-0001" in line and "CVE-2099-0001" in line and "fixed in 99.0.0: credentials leak" in line
    assert "not found there" not in run.stdout       # every installed package was looked up
    accepted = audit("--service", "osv", "--osv-url", url, "--ignore", "GHSA-test-0001")
    assert accepted.returncode == 0 and "OK, no known vulnerability with a fix" in accepted.stdout


def test_one_without_a_fix_is_reported_and_does_not_fail(osv):
    known, url = osv
    known["vuln"] = _vuln(None)
    run = audit("--service", "osv", "--osv-url", url)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "OK, no known vulnerability with a fix available" in run.stdout
    assert "1 known without a fix, not failing" in run.stdout and "no fix released yet" in run.stdout


def test_a_service_that_cannot_be_reached_is_said_so_and_does_not_fail():
    run = audit("--service", "osv", "--osv-url", f"http://127.0.0.1:{free_port()}/v1/query")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "NOT RUN, the vulnerability service (osv) cannot be reached" in run.stdout
    assert "not a clean audit" in run.stdout and "OK" not in run.stdout
