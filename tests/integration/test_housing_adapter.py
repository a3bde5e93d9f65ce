"""The housing adapter against the real 前置库 (SQLite, PostgreSQL, MariaDB), without the
broker: read order, the parent rule, a lost write-back, the sink's answers, check()."""
from __future__ import annotations

import json
import uuid
from datetime import datetime

import pytest
import requests
import sqlalchemy as sa

from adapters.housing import HousingAdapter
from adapters.housing.source import sbyy
from hub.delivery import DeliveryError
from hub.model import SHANGHAI
from sims.housing import HousingSim
from sims.housing_schema import TABLES
from tests.housing_dbs import KINDS, spgl_database


@pytest.fixture(params=KINDS)
def housing(request):
    with spgl_database(request.param) as url:
        with HousingSim(port=0, seed=99, db_url=url) as sim:
            sim.inbox.paused = True   # southbound job off: these tests look at the tables alone
            yield sim


def adapter(sim, **conf) -> HousingAdapter:
    return HousingAdapter({"db_url": sim.db_url, **conf})


def states(sim, name: str) -> dict[int, int]:
    with sim.engine.connect() as conn:
        t = TABLES[name]
        return dict(conn.execute(sa.select(t.c.LSH, t.c.SJSCZT)).all())


def drain(source, limit=25):
    cursor, pages = None, []
    while True:
        page = source.fetch(cursor, limit)
        source.acknowledge(page, {})
        pages.append(page)
        cursor = page.cursor
        if not page.has_more:
            return pages


def test_children_only_after_their_parent_and_each_row_once(housing):
    housing.load(12)
    source = adapter(housing).source()
    pages = drain(source, limit=7)
    keys = [r.key for p in pages for r in p.records]
    assert len(keys) == len(set(keys)) == len(housing.rows["SPGL_XMSPSXBLXXXXB"]) + len(
        housing.rows["SPGL_XMSPSXPFWJXXB"])
    assert all(len(p.records) <= 7 for p in pages)
    # Per case, steps come in LSH order, each numbered one after the other.
    seen: dict[str, list[int]] = {}
    for rec in (r for p in pages for r in p.records if r.data["TABLE"] == "SPGL_XMSPSXBLXXXXB"):
        seen.setdefault(rec.data["SPSXSLBM"], []).append(rec.data["BLXH"])
    assert all(s == list(range(1, len(s) + 1)) for s in seen.values())
    assert all(v == 3 for t in ("SPGL_XMJBXXB", "SPGL_XMDWXXB", "SPGL_XMSPSXBLXXB", "SPGL_XMSPSXBLXXXXB")
               for v in states(housing, t).values())
    assert pages[-1].cursor["lsh"]["SPGL_XMSPSXBLXXXXB"] == max(states(housing, "SPGL_XMSPSXBLXXXXB"))
    source.close()


def test_a_lost_write_back_means_the_same_records_again(housing):
    housing.load(3)
    source = adapter(housing).source()
    first = source.fetch(None, 500)            # context rows settled, steps handed on
    assert first.records
    # The hub crashed after the broker confirmed, before acknowledge: nothing written back.
    again = source.fetch(first.cursor, 500)
    assert [r.key for r in again.records] == [r.key for r in first.records]
    assert [r.data for r in again.records] == [r.data for r in first.records]   # same ids downstream
    source.acknowledge(again, {again.records[0].key: "map failed: BLSJ: impossible date (value '13812345678')"})
    table, lsh = again.records[0].key.split(":")
    with housing.engine.connect() as conn:
        t = TABLES[table]
        row = conn.execute(sa.select(t.c.SJSCZT, t.c.SBYY).where(t.c.LSH == int(lsh))).one()
    assert row.SJSCZT == 2 and row.SBYY.startswith("[BLSJ]") and "138****5678" in row.SBYY
    assert source.fetch(again.cursor, 500).records == []
    source.close()


def test_sink_inserts_once_and_says_duplicate(housing):
    sink = adapter(housing).sink()
    no = f"WB{uuid.uuid4().hex[:10]}"
    env = {"message_id": str(uuid.uuid4()), "payload": {
        "kind": "application", "application_no": no, "item_code": "000117003000", "department": "housing",
        "applicant": {"kind": "person", "name": "张三", "id_type": "resident_id", "id_number": "11010519491231002X",
                      "phone": None}, "channel": "window", "submitted_at": "2026-03-05T01:00:00Z",
        "form": {"楼栋": "3幢"}, "materials": []}}
    body = json.dumps(env, ensure_ascii=False).encode()
    assert sink.send(body, None) == "accepted"
    assert sink.send(body, None) == "duplicate"
    rows = requests.get(housing.url + "/_admin/applications", timeout=10).json()["items"]
    assert len(rows) == 1
    row = rows[0]
    assert (row["SQBH"], row["SQRLX"], row["SQRZJLX"], row["SQFS"]) == (no, 1, "A01100", 1)
    assert row["SQSJ"] == "2026-03-05 09:00:00" and json.loads(row["SQNR"]) == {"楼栋": "3幢"}
    with pytest.raises(DeliveryError) as err:
        sink.send(b'{"payload": {"kind": "case_event"}}', None)
    assert not err.value.transient
    sink.close()


def test_check_counts_pending_rows_and_names_an_unreachable_database(housing):
    housing.load(2)
    result = adapter(housing).check()
    assert result.ok and result.facts["pending"]["SPGL_XMJBXXB"] == 2
    down = HousingAdapter({"db_url": "postgresql+psycopg://nobody:secret@127.0.0.1:1/none"}).check()
    assert not down.ok and "secret" not in down.detail
    sink = HousingAdapter({"db_url": "postgresql+psycopg://nobody:secret@127.0.0.1:1/none"}).sink()
    with pytest.raises(DeliveryError) as err:
        sink.send(json.dumps({"message_id": "m", "payload": {
            "kind": "application", "application_no": "X", "item_code": "000117001000",
            "applicant": {"kind": "person", "name": "李四", "id_type": "resident_id", "id_number": "x"},
            "submitted_at": datetime.now(SHANGHAI).isoformat()}}).encode(), None)
    assert err.value.transient


def test_sbyy_names_columns_masks_and_fits():
    reason = ("validate failed in housing.case_event@1 for record k: applicant.id_number: invalid (value "
              "'913301********0D0P'); occurred_at: bad time 13812345678, holder 11010519491231002X")
    text = sbyy(reason, 500)
    assert text.startswith("[BLSJ,DWTYSHXYDM] ")
    assert "13812345678" not in text and "11010519491231002X" not in text
    short = sbyy(reason, 40)
    assert len(short) == 40 and short.endswith("…")
    assert sbyy("TABLE: no mapping accepts this record", 500).startswith("TABLE")   # no column to blame
