"""Fixtures of the bad-input suite and its figure line.

The suite's store is a SQLite file of the run's own, var/badinput/run-<time>-<pid>.db, with
var/badinput/latest.db pointing at the newest (TONGBAN_BADINPUT_DB_URL to choose another
store). It is left behind at the end, so that

    TONGBAN_DB_URL=sqlite:///var/badinput/latest.db .venv/bin/tongban dlq list

shows what the run dead-lettered. One file per run: two runs at once (CI and a desk, or two
sessions) must not recreate each other's store. The five newest runs are kept.

At the end of the session one line is printed (harness.TALLY):
BADINPUT cases=N processed=P dead_lettered=D crashes=0"""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from hub.store import Store
from tests.badinput.harness import TALLY, Pipeline, LogWatch

ROOT = Path(__file__).resolve().parents[2]
RUNS = ROOT / "var" / "badinput"
KEEP = 5
STORE_USED: list[str] = []


@pytest.fixture(scope="session")
def bi_store_url() -> str:
    if os.environ.get("TONGBAN_BADINPUT_DB_URL"):
        return os.environ["TONGBAN_BADINPUT_DB_URL"]
    RUNS.mkdir(parents=True, exist_ok=True)
    path = RUNS / f"run-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.db"
    latest = RUNS / f".latest-{os.getpid()}"
    latest.unlink(missing_ok=True)
    latest.symlink_to(path.name)
    os.replace(latest, RUNS / "latest.db")       # atomic: readers see the old or the new run
    for old in sorted(RUNS.glob("run-*.db"), key=lambda p: p.stat().st_mtime)[:-KEEP]:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(str(old) + suffix).unlink(missing_ok=True)
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def bi_store(bi_store_url):
    STORE_USED.append(bi_store_url)
    store = Store.open(bi_store_url)
    yield store
    store.close()


@pytest.fixture(scope="module")
def pipeline(broker_url, bi_store):
    p = Pipeline(broker_url, bi_store)
    yield p
    p.close()


@pytest.fixture
def logs(caplog):
    return LogWatch(caplog)


def pytest_sessionfinish(session, exitstatus):
    if not any(TALLY.values()):
        return   # the suite did not run
    line = (f"BADINPUT cases={TALLY['cases']} processed={TALLY['processed']} "
            f"dead_lettered={TALLY['dead_lettered']} crashes={TALLY['crashes']}")
    note = (f"(bad-input store: {STORE_USED[0] if STORE_USED else '-'}; of the cases, {TALLY['refused']} were "
            f"whole pages or responses refused as unreadable: SourceUnavailable, cursor held, nothing lost; "
            f"{TALLY['fetch']} dead letters were pages of one that stayed unreadable, at stage fetch)")
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line("")
        reporter.write_line(note)
        reporter.write_line(line)
    else:
        print(note, line, sep="\n")
