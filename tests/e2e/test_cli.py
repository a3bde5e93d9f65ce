"""The `tongban` command as a user runs it, in subprocesses."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest
import yaml

from tests.conftest import ROOT, wait_until
from tests.ports import free_port


def tongban(*args, env=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "hub.cli.main", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, env=env or os.environ.copy())



def test_demo_json_summary(broker_url):
    env = dict(os.environ, TONGBAN_BROKER_URL=broker_url)
    result = tongban("demo", "--cases", "30", "--bad", "1", "--applications", "8", "--json", env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    departments = report["departments"]
    assert report["cases"] == 30 * len(departments) and report["seconds"] > 0
    for dest in report["destinations"].values():
        assert dest["delivered"] == dest["expected"] > 0
        assert dest["missing"] == dest["duplicates"] == dest["out_of_order"] == 0
    commerce = departments["commerce"]
    assert commerce["province"]["delivered"] == 60          # 核准 + licence per case
    assert commerce["platform"]["delivered"] >= 90          # 3 steps per case, plus receipts
    assert report["southbound"] == {"submitted": 8, "delivered": 8, "receipts": 8, "missing": 0, "duplicates": 0}
    assert report["dead_letters"] >= 3   # at least the bad commerce case's three steps
    assert "[" in result.stderr and "southbound 8/8 receipts 8" in result.stderr  # live progress
    # One store: what the demo did is what the tools read next, with no setting changed
    assert "the demo's store is the default one" in result.stderr
    listed = json.loads(tongban("dlq", "list", "--json", "--limit", "1000", env=env).stdout)
    assert len(listed) == report["dead_letters"]
    status = json.loads(tongban("status", "--json", env=env).stdout)
    assert status["store"]["deliveries"]["platform"] == report["destinations"]["platform"]["delivered"]
    assert sum(1 for line in result.stderr.splitlines() if " WARNING " in line) <= 6   # a storm, summarised
    demo_monthly_report_counts_its_cases(report, result.stderr, 30)


def demo_monthly_report_counts_its_cases(report: dict, stderr: str, per_department: int) -> None:
    """The demo ends by writing the 月度通报 of its cases: every case it routed has its row, the
    commerce cases with the facts their system sent, and the page shows the store's counts."""
    import re
    from pathlib import Path

    import sqlalchemy as sa

    from hub.config import load_settings
    from hub.store import Store
    monthly = report["monthly_report"]
    path = Path(monthly["path"])
    assert path.is_file() and path.parent.name == "reports" and f"{monthly['path']}" in stderr
    html = path.read_text(encoding="utf-8")
    assert f"{monthly['month']} 一网通办月度通报" in html and "<svg" in html
    store = Store.open(load_settings()["db_url"])
    try:
        with store._engine.connect() as conn:
            routed = conn.scalar(sa.text("SELECT COUNT(DISTINCT case_no) FROM message_log WHERE kind = 'case_event'"))
            rows = dict(conn.execute(sa.text("SELECT department, COUNT(*) FROM supervision_cases GROUP BY department")).all())
            told = conn.scalar(sa.text("SELECT COUNT(*) FROM supervision_cases WHERE department = 'commerce' "
                                       "AND channel IS NOT NULL AND visits IS NOT NULL AND materials_required > 0"))
        assert sum(rows.values()) == routed == monthly["cases"]
        assert rows["commerce"] >= per_department and told == per_department   # the bad case is not routed
        from hub.report import build_report
        counted = {f["label"]: f["overall"] for f in build_report(store, monthly["month"])["figures"]}
    finally:
        store.close()
    one_visit = counted["最多跑一次"]
    assert one_visit["denominator"] > 0
    shown = re.search(r'<td class="l">最多跑一次</td><td>[^<]*</td><td>[^<]*</td><td>(\d+)/(\d+)</td>', html)
    assert shown and (int(shown.group(1)), int(shown.group(2))) == (one_visit["numerator"], one_visit["denominator"])


def test_demo_with_two_worker_processes_on_postgresql(broker_url):
    schema = f"t_demo_{os.getpid()}"
    env = dict(os.environ, TONGBAN_BROKER_URL=broker_url, TONGBAN_DEMO_PG_SCHEMA=schema)
    try:
        result = tongban("demo", "--cases", "20", "--bad", "1", "--applications", "6", "--workers", "2", "--json",
                         env=env)
    finally:
        import sqlalchemy as sa
        from tests.conftest import PG_URL
        admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert report["ok"] and report["workers"] == 2
    for dest in report["destinations"].values():
        assert dest["delivered"] == dest["expected"] > 0 and dest["duplicates"] == dest["out_of_order"] == 0
    assert report["southbound"]["receipts"] == 6
    assert "store: 127.0.0.1:5432/test; hub: 2 worker process(es)" in result.stderr
    assert "workers 2 (partitions held" in result.stderr, result.stderr[-2000:]
    assert f"export TONGBAN_DB_URL='" in result.stderr and schema in result.stderr   # how to open its store


def test_pieces_run_alone_sims_load_run_verify_status(broker_url, tmp_path):
    ports = {n: free_port() for n in ("commerce", "platform", "province")}
    env = dict(os.environ, TONGBAN_BROKER_URL=broker_url, TONGBAN_DB_URL=f"sqlite:///{tmp_path}/cli.db",
               TONGBAN__SIMS__COMMERCE_PORT=str(ports["commerce"]), TONGBAN__SIMS__PLATFORM_PORT=str(ports["platform"]),
               TONGBAN__SIMS__PROVINCE_PORT=str(ports["province"]),
               TONGBAN__ADAPTERS__COMMERCE__URL=f"http://127.0.0.1:{ports['commerce']}",
               TONGBAN__ADAPTERS__COMMERCE__POLL_INTERVAL="0.1",
               TONGBAN__DESTINATIONS__PLATFORM__URL=f"http://127.0.0.1:{ports['platform']}",
               TONGBAN__DESTINATIONS__PROVINCE__WSDL=f"http://127.0.0.1:{ports['province']}/ws/report?wsdl")
    up = tongban("sims", "up", env=env)
    assert up.returncode == 0, up.stderr
    hub = None
    try:
        assert tongban("load", "--cases", "12", env=env).returncode == 0
        assert tongban("verify", env=env).returncode == 1  # nothing delivered yet
        hub = subprocess.Popen([sys.executable, "-m", "hub.cli.main", "run"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_until(lambda: tongban("verify", env=env).returncode == 0, timeout=90, interval=1, what="verify ok")
        report = json.loads(tongban("verify", "--json", env=env).stdout)
        assert report["departments"]["commerce"]["platform"]["delivered"] == 36
        assert report["departments"]["commerce"]["province"]["delivered"] == 24
        status = json.loads(tongban("status", "--json", env=env).stdout)
        deliveries = status["store"]["deliveries"]
        assert deliveries["platform"] == report["destinations"]["platform"]["delivered"]
        assert deliveries["province"] == report["destinations"]["province"]["delivered"]
        assert {q["queue"] for q in status["queues"]} >= {f"tongban.to.{d}.{i}of4" for d in ("platform", "province")
                                                          for i in range(4)}
        held = status["partitions"]["destinations"]["platform"]["holders"]
        assert len(held) == 4 and all(held.values())   # the one worker process holds every partition
        hub.send_signal(signal.SIGTERM)
        assert hub.wait(30) == 0  # graceful stop
        hub = None
    finally:
        if hub is not None:
            hub.kill()
        assert tongban("sims", "down", env=env).returncode == 0


def test_schema_export_writes_each_model(tmp_path):
    result = tongban("schema", "export", str(tmp_path))
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(f"{n}.schema.json" for n in
                           ("applicant", "application", "case", "case_event", "certificate", "envelope", "service_item",
                            "receipt", "headers", "dead_letter_headers", "fence_headers"))
    envelope = json.loads((tmp_path / "envelope.schema.json").read_text())
    assert envelope["$schema"].endswith("2020-12/schema") and envelope["$id"].endswith("/envelope.schema.json")
    # one variant per kind, each requiring the message id (no pydantic discriminator keyword)
    variants = [envelope["$defs"][v["$ref"].rsplit("/", 1)[1]] for v in envelope["oneOf"]]
    assert len(variants) >= 4 and all("message_id" in v["required"] for v in variants)
    assert "discriminator" not in json.dumps(envelope)


def test_mapping_test_command_passes_on_the_shipped_samples():
    result = tongban("mapping", "test")
    assert result.returncode == 0, result.stdout[-3000:]
    assert " 0 failed" in result.stdout


def test_adapters_list_describe_and_unknown_name():
    assert "commerce" in tongban("adapters", "list").stdout
    spec = json.loads(tongban("adapters", "describe", "commerce").stdout)
    assert {f["name"] for f in spec["config"]} >= {"url", "page_size", "timeout"}
    wrong = tongban("adapters", "describe", "comerce")
    assert wrong.returncode == 2 and "did you mean 'commerce'" in wrong.stderr


def test_compose_file_parses_and_names_the_settings_the_code_reads():
    from hub.config import load_settings
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert {"rabbitmq", "postgres", "sims", "hub"} <= set(compose["services"])
    env = compose["services"]["hub"]["environment"]
    settings = load_settings(environ={k: str(v) for k, v in env.items()})
    assert settings["broker_url"] == env["TONGBAN_BROKER_URL"]
    assert settings["db_url"] == env["TONGBAN_DB_URL"]
    assert settings["adapters"]["commerce"]["url"] == "http://sims:18081"
    assert settings["destinations"]["province"]["wsdl"].startswith("http://sims:18083/")
    # every department's new copy is where the sims container serves it (dual-track)
    from hub.runtime.runner import new_track
    sims_env = compose["services"]["sims"]["environment"]
    assert new_track(settings, "commerce")["url"] == "http://sims:18091"
    assert new_track(settings, "ndrc")["url"] == "http://sims:18092"
    assert new_track(settings, "housing")["db_url"] == sims_env["TONGBAN_SIM_HOUSING_NEW_DB_URL"]
    assert new_track(settings, "land")["outbox"] == sims_env["TONGBAN_SIM_LAND_DIR"] + "/new/outbox"
    sims_env = compose["services"]["sims"]["environment"]
    from sims.cluster import REGISTRY
    assert {spec.port_env for spec in REGISTRY.values()} <= set(sims_env)
    assert "management" in compose["services"]["rabbitmq"]["image"]
