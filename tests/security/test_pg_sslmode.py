"""PostgreSQL with sslmode: the URL's query carries it to psycopg. The local server has TLS
off, so sslmode=require is refused, with an error naming the setting; prefer and disable
connect (prefer falls back to plain where the server offers no TLS)."""
from __future__ import annotations

import pytest

from hub.store import Store
from hub.store.engine import StoreTLSError
from tests.conftest import PG_URL, _pg_schema_url


@pytest.fixture
def schema():
    name, drop = _pg_schema_url()
    yield name
    drop()


def _url(schema: str, sslmode: str) -> str:
    return f"{PG_URL}?options=-csearch_path%3D{schema}&sslmode={sslmode}"


def test_sslmode_require_against_a_server_without_tls_is_a_clear_error(schema):
    with pytest.raises(StoreTLSError) as info:
        Store.open(_url(schema, "require"))
    text = str(info.value)
    assert "sslmode=require" in text and "does not support SSL" in text and "postgresql.conf" in text, text


@pytest.mark.parametrize("mode", ["prefer", "disable"])
def test_sslmode_prefer_and_disable_connect(schema, mode):
    store = Store.open(_url(schema, mode))
    try:
        assert store.counts()["messages"] == 0
    finally:
        store.close()
