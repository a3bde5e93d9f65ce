"""Fault injection and the cluster: what the hub's retry and recovery code is tested against."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from sims import start_all

ROOT = Path(__file__).resolve().parents[2]


def set_faults(http, sim, **faults):
    r = http.post(f"{sim.url}/_admin/faults", json=faults)
    assert r.status_code == 200, r.text
    return r.json()


def test_latency_delays_api_but_not_admin(http, commerce):
    assert set_faults(http, commerce, latency_ms=300)["latency_ms"] == 300
    started = time.monotonic()
    assert http.get(f"{commerce.url}/api/v1/changes").status_code == 200
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    assert http.get(f"{commerce.url}/_admin/health").json()["faults"]["latency_ms"] == 300
    assert time.monotonic() - started < 0.25


def test_error_rate_one_answers_503_and_stores_nothing(http, platform):
    set_faults(http, platform, error_rate=1.0)
    for n in range(5):
        r = http.post(f"{platform.url}/api/v1/messages", headers={"Idempotency-Key": f"k{n}"},
                      json={"message_id": f"m{n}", "kind": "case_event", "case_no": "C", "sequence": 1})
        assert r.status_code == 503
    assert http.get(f"{platform.url}/_admin/stats").json()["accepted"] == 0


def test_error_rate_is_seeded_and_roughly_right(http, commerce):
    def run():
        http.post(f"{commerce.url}/_admin/reset")
        set_faults(http, commerce, error_rate=0.3, seed=99)
        return [http.get(f"{commerce.url}/api/v1/changes").status_code for _ in range(200)]
    first = run()
    assert first == run()
    assert 35 <= first.count(503) <= 85


def test_down_drops_the_connection_until_lifted(http, commerce):
    set_faults(http, commerce, down=True)
    with pytest.raises(requests.ConnectionError):
        http.get(f"{commerce.url}/api/v1/changes", timeout=5)
    assert http.get(f"{commerce.url}/_admin/health").status_code == 200
    set_faults(http, commerce, down=False)
    assert http.get(f"{commerce.url}/api/v1/changes").status_code == 200


def test_malformed_body_after_the_work_is_done(http, platform):
    set_faults(http, platform, malformed_rate=1.0)
    body = {"message_id": "m1", "kind": "case_event", "case_no": "C", "sequence": 1}
    r = http.post(f"{platform.url}/api/v1/messages", headers={"Idempotency-Key": "k"}, json=body)
    with pytest.raises(ValueError):
        r.json()
    # the platform did take it: a retry must now be told "duplicate"
    set_faults(http, platform, malformed_rate=0)
    r = http.post(f"{platform.url}/api/v1/messages", headers={"Idempotency-Key": "k"}, json=body)
    assert r.status_code == 409


def test_fault_settings_are_validated_and_reset(http, commerce):
    for bad in ({"error_rate": 2}, {"down": "yes"}, {"latency_ms": -1}, {"explode": True}):
        assert http.post(f"{commerce.url}/_admin/faults", json=bad).status_code == 400
    set_faults(http, commerce, down=True, error_rate=0.5)
    http.post(f"{commerce.url}/_admin/reset")
    assert http.get(f"{commerce.url}/_admin/health").json()["faults"] == {
        "latency_ms": 0, "error_rate": 0.0, "down": False, "malformed_rate": 0.0}


def test_start_all_on_ephemeral_ports(http):
    with start_all(ports=0, seed=1) as cluster:
        # more simulators join the registry over time; these three are the contract here
        assert set(cluster.urls) >= {"commerce", "platform", "province"}
        for url in cluster.urls.values():
            assert http.get(f"{url}/_admin/health").json()["status"] == "ok"
        url = cluster.urls["commerce"]
    with pytest.raises(requests.ConnectionError):
        http.get(f"{url}/_admin/health", timeout=2)


def test_python_m_sims_prints_urls_and_stops_on_sigterm(http):
    from sims.cluster import REGISTRY
    # every simulator on a free port: a fixed one may be held by a demo or another run
    env = {**os.environ, **{spec.port_env: "0" for spec in REGISTRY.values()}}
    proc = subprocess.Popen([sys.executable, "-m", "sims", "--load", "2"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, text=True)
    try:
        urls = json.loads(proc.stdout.readline())["urls"]
        page = http.get(f"{urls['commerce']}/api/v1/changes").json()
        assert len(page["items"]) == 6
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
