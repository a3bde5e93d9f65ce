"""`tongban dlq` on what the suite left in its store (runs last: the file name sorts last).
Run alone, it first makes one dead letter of each pre-canonical stage itself (fetch included:
a page the system cannot serve readably, hub/runtime/unreadable.py)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from adapters.commerce import CommerceAdapter
from tests.badinput.fakes import commerce_pool, dumps, json_page, no_retry, wire
from tests.badinput.harness import pii_in
from tests.conftest import ROOT


def tongban(url: str, *args: str) -> subprocess.CompletedProcess:
    env = {"TONGBAN_DB_URL": url, "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    return subprocess.run([sys.executable, "-m", "hub.cli.main", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def seed(pipeline) -> None:
    pool = commerce_pool(1)
    bad_code = dict(pool[1], registration=dict(pool[1]["registration"], uniscid="91330106MA2KQ8R390"))
    source = CommerceAdapter({"url": "http://dlq.test"}).source()
    wire(source.session, "http://dlq.test/", body=json_page([b"42", dumps(dict(pool[0], applyNo="A\x00")),
                                                            dumps(bad_code)]))
    pipeline.poll(source, system="commerce-registry", department="commerce", name="bi-dlq-seed")
    # An answer that is not a page, three polls in a row: dead-lettered at stage fetch, the feed held.
    source = no_retry(CommerceAdapter({"url": "http://dlq-fetch.test"}).source())
    wire(source.session, "http://dlq-fetch.test/", body=b'{"items": [{"eventId": 1, "opinion": "a"b"}]')
    for _ in range(3):
        pipeline.poll(source, system="commerce-registry", department="commerce", name="bi-dlq-seed-fetch")


def test_dlq_list_and_show_work_on_the_suites_dead_letters(bi_store, bi_store_url, pipeline):
    if not {"fetch", "decode", "map", "validate"} <= {r["stage"] for r in bi_store.list_dead_letters(limit=None)}:
        seed(pipeline)
    listed = tongban(bi_store_url, "dlq", "list", "--json", "--limit", "1000000")
    assert listed.returncode == 0, listed.stderr[-2000:]
    rows = json.loads(listed.stdout)
    assert len(rows) == len(bi_store.list_dead_letters(limit=None))
    stages = {r["stage"] for r in rows}
    assert {"fetch", "decode", "map", "validate"} <= stages <= {"fetch", "decode", "map", "validate"}, stages
    assert all(r["reason"] and r["department"] and r["record_key"] for r in rows)
    assert not any(pii_in(r["reason"]) for r in rows)
    for stage in ("fetch", "decode", "map", "validate"):
        some = tongban(bi_store_url, "dlq", "list", "--stage", stage, "--limit", "5")
        assert some.returncode == 0 and "dead letter(s)" in some.stdout, some.stderr[-2000:]
    # show masks personal data and copes with any payload (base64 ones included)
    odd = next((r for r in rows if (r["headers"] or {}).get("x-tongban-payload-encoding") == "base64"), rows[0])
    shown = tongban(bi_store_url, "dlq", "show", odd["id"])
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert json.loads(shown.stdout)["id"] == odd["id"]
    with_id = next((r for r in rows if pii_in(str(r["payload"]))), None)
    if with_id is not None:
        shown = tongban(bi_store_url, "dlq", "show", with_id["id"])
        assert shown.returncode == 0 and not pii_in(shown.stdout), shown.stdout[:500]
