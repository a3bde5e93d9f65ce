"""Bad input against the store the hub runs on in production, PostgreSQL, whose text columns
have sizes (case_no 100, record_key 255) that SQLite does not enforce. A value too long for
them must be refused as a dead letter, not fail the message log insert on every re-read of the
page (which would stall the source) nor fail the dead-letter recorder on every redelivery."""
from __future__ import annotations

import itertools

import pytest

from adapters.commerce import CommerceAdapter
from hub.store import Store
from sims.land_files import render_csv
from tests.badinput.fakes import commerce_pool, dumps, json_page, land_pool, wire
from tests.badinput.harness import Pipeline
from tests.conftest import PG_URL, _pg_schema_url

pytestmark = pytest.mark.postgres
SERIAL = itertools.count(1)


@pytest.fixture(scope="module")
def pg_pipeline(broker_url):
    schema, drop = _pg_schema_url()
    store = Store.open(PG_URL, engine_kwargs={"connect_args": {"options": f"-csearch_path={schema}"}})
    p = Pipeline(broker_url, store)
    yield p
    p.close()
    store.close()
    drop()


@pytest.fixture(scope="module")
def land_source(tmp_path_factory):
    from adapters.land import LandAdapter
    base = tmp_path_factory.mktemp("pg-land")
    (base / "outbox").mkdir()
    adapter = LandAdapter({"outbox": str(base / "outbox"), "inbox": str(base)})
    return adapter, adapter.source()


def land_run(pg_pipeline, land_source, records):
    adapter, source = land_source
    name = f"TDSP_20260307_{next(SERIAL):08d}.csv"
    (adapter.folders().outbox / name).write_bytes(render_csv(records, "GB18030"))
    return pg_pipeline.poll(source, system="land-approval", department="land", name="bi-pg-land")


@pytest.mark.parametrize("field, value, why", [
    ("SHXXID", "K" * 300, "the key is 300 characters long"),              # record_key: 255 in the store
    ("SLBH", "T" * 150, "String should have at most 100 characters"),   # case_no: 100
])
def test_a_value_longer_than_its_store_column_is_dead_lettered_and_the_checkpoint_moves(field, value, why,
                                                                                        pg_pipeline, land_source):
    pool = land_pool()
    records = [dict(pool[0], GXSJ=f"2026-03-07 08:00:00.{next(SERIAL):06d}"), dict(pool[1], **{field: value}),
               dict(pool[2], GXSJ=f"2026-03-07 08:00:00.{next(SERIAL):06d}")]
    out = land_run(pg_pipeline, land_source, records)
    assert [out.processed(r) for r in out.records] == [True, False, True]
    assert why in out.row_of(out.records[1])["reason"]
    assert pg_pipeline.store.get_checkpoint("bi-pg-land")["next"] == 3


def test_a_dead_letter_whose_raw_case_number_is_too_long_is_still_recorded(pg_pipeline):
    """The raw applyNo used to travel as the dead letter's case_no: its insert into dead_letters
    (case_no 100) failed on every redelivery, and every dead letter behind it waited."""
    pool = commerce_pool(1)
    source = CommerceAdapter({"url": "http://pg.test"}).source()
    wire(source.session, "http://pg.test/", body=json_page([dumps(dict(pool[0], applyNo="S" * 150))]))
    out = pg_pipeline.poll(source, system="commerce-registry", department="commerce", name="bi-pg-commerce")
    assert out.dead and out.dead[0]["stage"] == "validate"
