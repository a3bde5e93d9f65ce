"""Fixtures of the bad-input suite and its figure line.

The suite's store is a SQLite file, var/badinput.db by default (TONGBAN_BADINPUT_DB_URL to
choose another), recreated at the start of a run and left behind at the end, so that

    TONGBAN_DB_URL=sqlite:///var/badinput.db .venv/bin/tongban dlq list

shows what the run dead-lettered. At the end of the session one line is printed:
BADINPUT cases=N processed=P dead_lettered=D crashes=0 (refused pages are in N, see harness)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from hub.store import Store
from tests.badinput.harness import TALLY, Pipeline, LogWatch

ROOT = Path(__file__).resolve().parents[2]


def _store_url() -> str:
    return os.environ.get("TONGBAN_BADINPUT_DB_URL") or f"sqlite:///{ROOT / 'var' / 'badinput.db'}"


@pytest.fixture(scope="session")
def bi_store_url() -> str:
    url = _store_url()
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///"):])
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    return url


@pytest.fixture(scope="session")
def bi_store(bi_store_url):
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
    refused = TALLY["refused"]
    line = (f"BADINPUT cases={TALLY['cases']} processed={TALLY['processed']} "
            f"dead_lettered={TALLY['dead_lettered']} crashes={TALLY['crashes']}")
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line("")
        if refused:
            reporter.write_line(f"(of the cases, {refused} were whole pages or responses refused as unreadable: "
                                f"SourceUnavailable, cursor held, nothing lost)")
        reporter.write_line(line)
    else:
        print(line)
