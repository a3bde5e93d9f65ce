"""The land adapter's folders: atomic pick-up, resume after a crash at every point of a
file's life, duplicates by content hash, unreadable files; and the sink's inbox files.
No broker: the tests play the hub's part (fetch, checkpoint, acknowledge)."""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from adapters.land import LandAdapter
from hub.adapter import SourceUnavailable
from hub.delivery import DeliveryError
from sims.land_files import read_application, render_csv, render_xml, write_atomic

ROOT = Path(__file__).resolve().parents[2]
RECORD = json.loads((ROOT / "mappings/land/samples/accepted_org_iso_time.input.json").read_text(encoding="utf-8"))


def records(n: int, start: int = 0) -> list[dict]:
    return [{**RECORD, "SHXXID": f"{i:016X}"} for i in range(start, start + n)]


def drop(folder: Path, name: str, recs: list[dict]) -> bytes:
    data = (render_xml(recs, {"JLS": len(recs)}, "GB18030", [False] * len(recs)) if name.endswith(".xml")
            else render_csv(recs, "GB18030"))
    write_atomic(folder, name, data)
    return data


@pytest.fixture
def adapter(tmp_path):
    for d in ("outbox", "inbox"):
        (tmp_path / d).mkdir()
    return LandAdapter({"outbox": str(tmp_path / "outbox"), "inbox": str(tmp_path / "inbox")})


def drain(source, cursor=None, limit=7, ack=True):
    """Fetch and acknowledge until the outbox is empty, as the source worker does."""
    out = []
    while True:
        page = source.fetch(cursor, limit)
        if not page.records:
            return out, cursor
        out += page.records
        cursor = page.cursor
        if ack:
            source.acknowledge(page, {})


def ls(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_files_are_read_in_name_order_and_end_in_done(adapter):
    f = adapter.folders()
    drop(f.outbox, "TDSP_20260305_00000002.csv", records(5, 100))
    drop(f.outbox, "TDSP_20260305_00000001.xml", records(12))
    (f.outbox / ".TDSP_20260305_00000003.xml.tmp").write_bytes(b"<half")   # a producer still writing
    (f.outbox / "readme.txt").write_text("not a batch")
    got, cursor = drain(adapter.source())
    assert [r.data["SHXXID"] for r in got] == [f"{i:016X}" for i in list(range(12)) + list(range(100, 105))]
    assert [r.key for r in got][:2] == ["TDSP_20260305_00000001.xml#1", "TDSP_20260305_00000001.xml#2"]
    assert ls(f.done) == ["TDSP_20260305_00000001.xml", "TDSP_20260305_00000002.csv"]
    assert ls(f.processing) == []
    assert len(f.index.read_text().splitlines()) == 2
    assert cursor == {"file": "TDSP_20260305_00000002.csv", "sha256": cursor["sha256"], "next": 5, "total": 5}
    assert set(ls(f.outbox)) >= {".TDSP_20260305_00000003.xml.tmp", "readme.txt"}


def test_a_crash_mid_file_resumes_at_the_next_unconfirmed_record(adapter):
    f = adapter.folders()
    drop(f.outbox, "TDSP_1.xml", records(25))
    first = adapter.source()
    page1 = first.fetch(None, 10)
    first.acknowledge(page1, {})              # confirmed and checkpointed
    first.fetch(page1.cursor, 10)             # published, then the process died before the checkpoint
    assert ls(f.processing) == ["TDSP_1.xml"]
    again = adapter.source()                  # a new process, the saved cursor
    rest, _ = drain(again, page1.cursor, limit=10)
    assert [r.key for r in rest] == [f"TDSP_1.xml#{i}" for i in range(11, 26)]
    assert ls(f.done) == ["TDSP_1.xml"]
    # With no checkpoint at all (a fresh store) the file in processing/ is read from its start.
    drop(f.outbox, "TDSP_2.xml", records(3))
    lost = adapter.source()
    lost.fetch(None, 2)
    assert [r.key for r in adapter.source().fetch(None, 10).records] == [f"TDSP_2.xml#{i}" for i in (1, 2, 3)]


def test_a_crash_after_the_last_checkpoint_finishes_the_file_without_rereading(adapter):
    f = adapter.folders()
    drop(f.outbox, "TDSP_1.xml", records(4))
    drop(f.outbox, "TDSP_2.xml", records(2, 50))
    page = adapter.source().fetch(None, 10)   # all of TDSP_1, checkpointed, never acknowledged
    assert page.cursor["next"] == page.cursor["total"] == 4 and page.has_more
    nxt = adapter.source().fetch(page.cursor, 10)
    assert [r.key for r in nxt.records] == ["TDSP_2.xml#1", "TDSP_2.xml#2"]
    assert ls(f.done) == ["TDSP_1.xml"]


def test_a_crash_between_remembering_and_moving_is_not_taken_for_a_duplicate(adapter):
    f = adapter.folders()
    data = drop(f.outbox, "TDSP_1.xml", records(3))
    src = adapter.source()
    page = src.fetch(None, 10)
    f.remember(hashlib.sha256(data).hexdigest(), "TDSP_1.xml")   # the process died right after this line
    assert adapter.source().fetch(page.cursor, 10).records == []
    assert ls(f.done) == ["TDSP_1.xml"] and ls(f.duplicates) == []


def test_the_same_bytes_twice_are_read_once(adapter):
    f = adapter.folders()
    data = drop(f.outbox, "TDSP_1.xml", records(6))
    write_atomic(f.outbox, "TDSP_2.xml", data)                # re-sent before the first was read
    got, cursor = drain(adapter.source())
    assert len(got) == 6
    write_atomic(f.outbox, "TDSP_3.xml", data)                # and once more, much later
    more, _ = drain(adapter.source(), cursor)
    assert more == []
    assert ls(f.done) == ["TDSP_1.xml"]
    assert ls(f.duplicates) == ["TDSP_2.xml", "TDSP_2.xml.reason", "TDSP_3.xml", "TDSP_3.xml.reason"]
    assert "TDSP_1.xml" in (f.duplicates / "TDSP_3.xml.reason").read_text()


def test_an_unreadable_file_is_one_error_record_then_failed_with_its_reason(adapter):
    f = adapter.folders()
    (f.outbox / "TDSP_1.xml").write_bytes(b'<?xml version="1.0" encoding="GB18030"?><Message><Data><Rec')
    drop(f.outbox, "TDSP_2.xml", records(2))
    src = adapter.source()
    page = src.fetch(None, 10)
    [bad] = page.records
    assert bad.key == "TDSP_1.xml" and "could not be read" in bad.error and "failed/" in bad.error
    assert json.loads(bad.raw)["file"] == "TDSP_1.xml"
    src.acknowledge(page, {bad.key: bad.error})
    assert ls(f.failed) == ["TDSP_1.xml", "TDSP_1.xml.reason"]
    assert "well-formed" in (f.failed / "TDSP_1.xml.reason").read_text(encoding="utf-8")
    got, _ = drain(src, page.cursor)
    assert len(got) == 2
    # A failed file is not remembered: dropped again (after a fix), it is read again.
    (f.outbox / "TDSP_1.xml").write_bytes((f.failed / "TDSP_1.xml").read_bytes())
    assert adapter.source().fetch(None, 10).records[0].error


def test_an_empty_batch_is_done_at_once(adapter):
    f = adapter.folders()
    (f.outbox / "TDSP_1.csv").write_bytes("JLLX,SHXXID\r\n".encode("gb18030"))
    assert adapter.source().fetch(None, 10).records == []
    assert ls(f.done) == ["TDSP_1.csv"]


def test_a_missing_outbox_is_a_source_outage(adapter):
    adapter.folders().outbox.rmdir()
    with pytest.raises(SourceUnavailable, match="not there"):
        adapter.source().fetch(None, 10)
    assert not adapter.check().ok


def _application(no: str = "ZJWB20260305000001") -> bytes:
    return json.dumps({"message_id": "11111111-2222-5333-8444-555555555555", "payload": {
        "kind": "application", "application_no": no, "item_code": "000116001000", "department": "land",
        "applicant": {"kind": "person", "name": "刘䶮", "id_type": "resident_id", "id_number": "33010619850712005X",
                      "phone": "13912345678"},
        "channel": "online", "submitted_at": datetime(2026, 3, 5, 1, 2, 3, tzinfo=timezone.utc).isoformat(),
        "materials": [{"name": "建设项目用地申请表", "required": True, "provided": True, "reused_certificate": None}],
        "form": {"item_name": "建设用地规划许可证核发", "用地面积": 1200.5}}}, ensure_ascii=False).encode("utf-8")


def test_the_sink_writes_one_gb18030_application_file(adapter):
    sink = adapter.sink()
    assert sink.send(_application(), None) == "accepted"
    assert sink.send(_application(), None) == "duplicate"    # still waiting in the inbox: not written twice
    [path] = adapter._path("inbox").iterdir()
    data = path.read_bytes()
    assert path.name == "SQ_ZJWB20260305000001.xml"
    assert data.startswith(b'<?xml version="1.0" encoding="GB18030"?>') and "刘䶮".encode("gb18030") in data
    app = read_application(data)                              # as the land system reads it
    assert app["WWSLBH"] == "ZJWB20260305000001" and app["QLRMC"] == "刘䶮" and app["ZJZL"] == "1"
    assert app["SQSJ"] == "2026-03-05 09:02:03" and app["SXMC"] == "建设用地规划许可证核发"
    assert app["materials"] == [{"CLMC": "建设项目用地申请表", "SFBX": "1", "SFTJ": "1", "DZZZBH": ""}]
    assert app["form"] == {"用地面积": "1200.5"}


def test_the_sink_fails_transiently_on_a_missing_inbox_and_for_good_on_garbage(adapter):
    sink = adapter.sink()
    adapter._path("inbox").rmdir()
    with pytest.raises(DeliveryError) as gone:
        sink.send(_application(), None)
    assert gone.value.transient and "not there" in gone.value.reason
    assert not adapter._path("inbox").exists()               # a missing share is not quietly re-created
    with pytest.raises(DeliveryError) as bad:
        sink.send(b'{"payload": {"kind": "case_event"}}', None)
    assert not bad.value.transient


def test_config_is_checked_and_described():
    with pytest.raises(ValueError, match="outbox"):
        LandAdapter({"inbox": "/tmp"})
    with pytest.raises(ValueError, match="csv_encoding"):
        LandAdapter({"outbox": "/tmp", "inbox": "/tmp", "csv_encoding": "klingon"})
    relative = LandAdapter({"outbox": "var/land/outbox", "inbox": "var/land/inbox"})
    assert relative.folders().outbox == ROOT / "var/land/outbox"
