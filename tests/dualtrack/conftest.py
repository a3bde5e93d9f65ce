"""Fixtures for the dual-track tests: stores on SQLite and PostgreSQL, settings whose
dual-track file is the tests' own, and a fixed start time."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from hub.store import Store

from dt_data import write_rules


@pytest.fixture
def t0() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=1)


@pytest.fixture
def dstore(store_url):
    url, kwargs = store_url
    s = Store.open(url, engine_kwargs=dict(kwargs))
    yield s
    s.close()


@pytest.fixture
def dt_settings(tmp_path) -> dict:
    return write_rules(tmp_path)
