"""Payload size limits: `max_record_bytes` on each adapter, declared in its config spec (so
`tongban adapters describe` shows it and TONGBAN__ADAPTERS__<NAME>__MAX_RECORD_BYTES sets it).
A record over the limit is dead-lettered at stage decode with a reason naming its size, and the
rest of the page flows. The default (64 KiB) also keeps what travels in AMQP headers (record
keys, case numbers) far below the broker's frame_max (128 KiB): a header over it closes the
publishing connection, so one huge key would otherwise stop a source for good."""
from __future__ import annotations

import json

import pytest

from adapters.commerce import CommerceAdapter
from hub.adapter import DEFAULT_MAX_RECORD_BYTES
from adapters.housing import HousingAdapter
from adapters.land import LandAdapter
from adapters.ndrc import NdrcAdapter
from adapters.platform import PlatformAdapter
from hub.adapter import registry
from hub.config import load_settings
from sims.housing import HousingSim
from sims.land_files import render_csv
from tests.badinput.fakes import (NDRC_WSDL, commerce_pool, dumps, json_page, land_pool, ndrc_pool, ndrc_response,
                                  platform_pool, wire)

COMMERCE, PLATFORM, NDRC = commerce_pool(2), platform_pool(3), ndrc_pool(1)


def commerce_run(pipeline, items: list[bytes], **conf):
    source = CommerceAdapter({"url": "http://c.test", **conf}).source()
    wire(source.session, "http://c.test/", body=json_page(items))
    return pipeline.poll(source, system="commerce-registry", department="commerce", name="bi-limit-commerce")


@pytest.mark.parametrize("adapter", [CommerceAdapter, PlatformAdapter, NdrcAdapter, HousingAdapter, LandAdapter])
def test_the_limit_is_a_declared_setting_with_a_default(adapter):
    field = {f["name"]: f for f in adapter.spec.describe()}["max_record_bytes"]
    assert field["type"] == "int" and field["default"] == DEFAULT_MAX_RECORD_BYTES == 65536
    assert "decode" in field["description"]


def test_the_limit_is_set_from_the_environment_like_every_setting():
    settings = load_settings(environ={"TONGBAN__ADAPTERS__COMMERCE__MAX_RECORD_BYTES": "4096"})
    conf = {k: v for k, v in settings["adapters"]["commerce"].items() if k not in ("enabled", "admin_url", "tracks")}
    assert registry.create("commerce", conf).source().max_record_bytes == 4096


def test_a_commerce_record_over_the_default_is_dead_lettered_naming_its_size_and_the_page_flows(pipeline):
    big = dict(COMMERCE[1], opinion="意" * 30_000)          # ~90 KB
    out = commerce_run(pipeline, [dumps(COMMERCE[0]), dumps(big), dumps(COMMERCE[2])])
    assert [out.processed(r) for r in out.records] == [True, False, True]
    row = out.row_of(out.records[1])
    size = len(dumps(big))
    assert row["stage"] == "decode" and f"record is {size} bytes" in row["reason"]
    assert "over the limit of 65536 bytes (max_record_bytes)" in row["reason"]
    assert json.loads(row["payload"]) == big             # kept whole, for replay after raising the limit


def test_a_raised_limit_lets_the_same_record_through(pipeline):
    big = dict(COMMERCE[1], opinion="意" * 30_000)
    out = commerce_run(pipeline, [dumps(big)], max_record_bytes=200_000)
    assert not out.failures and out.envelopes[0].payload.opinion == "意" * 30_000


def test_a_key_too_long_for_an_amqp_header_is_dead_lettered_not_a_dead_connection(pipeline):
    huge_key = dict(COMMERCE[1], eventId="9" * 300_000)  # 300 KB: twice the broker's frame_max
    out = commerce_run(pipeline, [dumps(COMMERCE[0]), dumps(huge_key), dumps(COMMERCE[2])])
    assert [out.processed(r) for r in out.records] == [True, False, True]
    row = out.row_of(out.records[1])
    assert len(row["record_key"]) < 100 and "(300000 characters)" in row["record_key"]


def test_platform_and_ndrc_refuse_a_record_over_their_limit(pipeline):
    source = PlatformAdapter({"url": "http://p.test", "max_record_bytes": 2000}).source()
    wire(source.session, "http://p.test/", body=json_page([dumps(PLATFORM[0]), dumps(dict(PLATFORM[1],
                                                            itemName="x" * 3000)), dumps(PLATFORM[2])]))
    out = pipeline.poll(source, system="platform-applications", department="platform", name="bi-limit-platform")
    assert [out.processed(r) for r in out.records] == [True, False, True]
    assert "max_record_bytes" in out.row_of(out.records[1])["reason"]

    source = NdrcAdapter({"url": "http://n.test", "attempts": 1, "max_record_bytes": 3000}).source()
    big = dict(NDRC[1], project=dict(NDRC[1]["project"], projectContent="建" * 1200))
    wire(source.client.session, "http://n.test/", body=ndrc_response([NDRC[0], big, NDRC[2]]),
         get_body=NDRC_WSDL.replace("ndrc.test", "n.test").encode(), content_type="text/xml; charset=utf-8")
    out = pipeline.poll(source, system="ndrc-tzxm", department="ndrc", name="bi-limit-ndrc")
    assert [out.processed(r) for r in out.records] == [True, False, True]
    assert "over the limit of 3000 bytes (max_record_bytes)" in out.row_of(out.records[1])["reason"]


# --- housing and land: the limit is a setting of theirs, applied by the hub's source worker -----
def test_a_land_record_over_its_limit_is_dead_lettered_and_the_file_flows(tmp_path, pipeline):
    (tmp_path / "outbox").mkdir()
    adapter = LandAdapter({"outbox": str(tmp_path / "outbox"), "inbox": str(tmp_path), "max_record_bytes": 4096})
    pool = land_pool(1)
    records = [pool[0], dict(pool[1], SHYJ="意" * 3000), pool[2]]
    (tmp_path / "outbox" / "TDSP_20260308_00000001.csv").write_bytes(render_csv(records, "GB18030"))
    out = pipeline.poll(adapter.source(), system="land-approval", department="land", name="bi-limit-land",
                        max_record_bytes=adapter.config["max_record_bytes"])   # as SourceLoop hands it on
    assert [out.processed(r) for r in out.records] == [True, False, True]
    row = out.row_of(out.records[1])
    assert row["stage"] == "decode" and "over the limit of 4096 bytes (max_record_bytes)" in row["reason"]


def test_a_housing_row_over_its_limit_is_dead_lettered_and_written_back(pipeline):
    sim = HousingSim(port=0, seed=31)
    try:
        adapter = HousingAdapter({"db_url": sim.db_url, "max_record_bytes": 4096})
        case_no = sim.load(1)["cases"][0]
        with sim.engine.begin() as conn:
            conn.exec_driver_sql('UPDATE "SPGL_XMSPSXBLXXXXB" SET "BLYJ" = ? WHERE "LSH" = (SELECT MIN("LSH") '
                                 'FROM "SPGL_XMSPSXBLXXXXB" WHERE "SPSXSLBM" = ?)', ("审" * 3000, case_no))
        out = pipeline.poll(adapter.source(), system="housing-spgl", department="housing", name="bi-limit-housing",
                            max_record_bytes=adapter.config["max_record_bytes"])
        failed = [r for r in out.records if not out.processed(r)]
        assert len(failed) == 1 and len(out.records) > 1
        assert "over the limit of 4096 bytes (max_record_bytes)" in out.row_of(failed[0])["reason"]
        with sim.engine.connect() as conn:
            sbyy = conn.exec_driver_sql('SELECT "SBYY" FROM "SPGL_XMSPSXBLXXXXB" WHERE "SJSCZT" = 2').scalars().all()
        assert len(sbyy) == 1 and "max_record_bytes" in sbyy[0]
    finally:
        sim.stop()
