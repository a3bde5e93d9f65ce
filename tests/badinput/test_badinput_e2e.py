"""End to end: the real simulators, the real broker and `Hub` with every adapter, fed bad
input the way each system would send it, while good records flow around it: a commerce feed
that truncates a third of its pages and carries a company with a broken credit code; bad
applications submitted on the platform; the ndrc system's broken cases of every kind; land
batches with broken records plus an XXE file and a GB18030 file labelled UTF-8; housing
rows that fail the exchange's checks. Dead letters land in the suite's store."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import requests
import sqlalchemy as sa

from hub.ops.verify import verify
from hub.runtime.runner import Hub
from hub.store.schema import message_log
from tests.badinput.harness import TALLY, pii_in
from tests.conftest import wait_until

PLATFORM_BAD = {   # applyNo is assigned by the platform; what each field carries is ours
    "certNo": ("330106199003071230", "validate"),              # resident ID with a wrong check digit
    "applicantName": ("王\x00五", "map"),                       # a NUL inside a name
    "submitTime": ("2026-02-30 10:00:00", "map"),               # an impossible date
    "itemName": ("事" * 30_000, "decode"),                      # 90 KB: over max_record_bytes
}


def _post(url: str, path: str, body) -> dict:
    resp = requests.post(url + path, json=body, timeout=60)
    resp.raise_for_status()
    return resp.json()


def test_bad_input_from_every_system_is_dead_lettered_and_the_good_flows(settings, sims, bi_store):
    started = datetime.now(timezone.utc)
    for name in ("land", "housing"):
        settings["adapters"][name]["poll_interval"] = 0.1
    urls = sims.urls
    _post(urls["commerce"], "/_admin/load", {"cases": 6, "bad": 1})
    _post(urls["commerce"], "/_admin/faults", {"malformed_rate": 0.3})   # a third of the pages cut off
    _post(urls["ndrc"], "/_admin/load", {"cases": 3, "bad": 5})
    _post(urls["land"], "/_admin/load", {"cases": 3, "bad": 3})
    _post(urls["housing"], "/_admin/load", {"cases": 3, "bad": 2})
    good = _post(urls["platform"], "/_admin/submit", {"count": 4})["applyNos"]
    template = requests.get(urls["platform"] + "/_admin/applications", timeout=10).json()["items"][0]
    for field, (value, _) in PLATFORM_BAD.items():
        body = {k: v for k, v in template.items() if k not in ("seq", "applyNo", "submitTime")}
        body[field] = value
        _post(urls["platform"], "/api/v1/applications", body)
    outbox = settings["adapters"]["land"]["outbox"]
    with open(f"{outbox}/TDSP_20260305_90000001.xml", "wb") as fh:   # XXE: refused for its DOCTYPE
        fh.write(b'<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE Message [<!ENTITY x SYSTEM '
                 b'"file:///etc/passwd">]><Message><Head><JLS>1</JLS></Head><Data><Record><QLRMC>&x;'
                 b"</QLRMC></Record></Data></Message>")
    with open(f"{outbox}/TDSP_20260305_90000002.xml", "wb") as fh:   # says UTF-8, is GB18030
        fh.write('<?xml version="1.0" encoding="UTF-8"?><Message><Head><JLS>1</JLS></Head><Data><Record>'
                 "<QLRMC>张三</QLRMC></Record></Data></Message>".encode("gb18030"))

    def dead(dept: str) -> list[dict]:
        return bi_store.list_dead_letters(department=dept, since=started, limit=1000)

    hub = Hub(settings, store=bi_store).start()
    try:
        wait_until(lambda: len(dead("commerce")) >= 3 and len(dead("platform")) >= 4 and len(dead("ndrc")) >= 5
                   and len(dead("land")) >= 5 and len(dead("housing")) >= 2, timeout=150, interval=1,
                   what="dead letters from every department")
        _post(urls["commerce"], "/_admin/faults", {"malformed_rate": 0})
        report = wait_until(lambda: (r := verify(settings, bi_store, hub.mappings)) and all(
            d["missing"] == 0 and d["duplicates"] == 0 for d in r["destinations"].values())
            and r["southbound"]["missing"] == len(PLATFORM_BAD) and r, timeout=150, interval=1,
            what="every good record delivered, every bad application not")
        sources = [s for s in hub.supervisors if s.name.startswith("source:")]
        # No source ever failed but by a refused page (SourceUnavailable: truncated commerce pages).
        assert all(s.last_error is None or s.last_error.startswith("SourceUnavailable") for s in sources), \
            [(s.name, s.last_error) for s in sources]
    finally:
        hub.shutdown()
    for dest in report["destinations"].values():
        assert dest["out_of_order"] == dest["unexpected"] == dest["altered"] == 0, report
    assert report["southbound"]["delivered"] == len(good) and report["southbound"]["duplicates"] == 0, report

    rows = [r for d in ("commerce", "platform", "ndrc", "land", "housing") for r in dead(d)]
    for row in rows:
        assert row["stage"] in ("decode", "map", "validate") and row["record_key"], row
        assert not pii_in(row["reason"]), f"unmasked personal data in {row['reason'][:200]}"
        assert not re.search(r"root:x:0:0", row["reason"] + str(row["payload"]))   # XXE did not read
    stages = {d: {r["stage"] for r in dead(d)} for d in ("commerce", "platform", "ndrc", "land", "housing")}
    assert stages["commerce"] == {"validate"} and stages["platform"] == {"decode", "map", "validate"}
    assert {"decode", "map", "validate"} <= stages["ndrc"] and {"decode", "map", "validate"} <= stages["land"]
    platform = {r["stage"]: r for r in dead("platform")}
    assert "max_record_bytes" in platform["decode"]["reason"]
    assert "applicantName" in platform["map"]["reason"] or "submitTime" in platform["map"]["reason"]
    assert "applicant.id_number" in platform["validate"]["reason"]
    land_files = " ".join(r["reason"] for r in dead("land"))
    assert "TDSP_20260305_90000001.xml" in land_files and "DTDForbidden" in land_files
    assert "TDSP_20260305_90000002.xml" in land_files and "not valid utf-8" in land_files
    delivered = {a.get("application_no") for d in ("commerce", "ndrc", "housing", "land")
                 for a in requests.get(urls[d] + "/_admin/applications", timeout=10).json()["items"]}
    assert set(good) <= delivered and not {r["case_no"] for r in dead("platform")} & delivered

    with bi_store._engine.connect() as conn:   # what the sources processed during this run
        processed = conn.execute(sa.select(sa.func.count(sa.distinct(message_log.c.record_key))).where(
            message_log.c.logged_at >= started)).scalar_one()
    TALLY["cases"] += processed + len(rows)
    TALLY["processed"] += processed
    TALLY["dead_lettered"] += len(rows)
