"""300 generated cases through the real broker to both destination simulators:
exactly once, in order per case, with the fields the legacy system holds."""
from __future__ import annotations

import json
import unicodedata
from collections import defaultdict
from datetime import datetime

import requests

from hub.runtime.runner import Hub
from hub.store import Store
from tests.conftest import wait_delivered

STEP_TYPES = {"01": "accepted", "02": "decided", "03": "certificate_issued"}


def _received(url: str) -> list[dict]:
    return requests.get(url + "/_admin/received", timeout=10).json()["items"]


def _clean(text: str) -> str:
    # What an operator typed (full-width, padded) against what the hub must send (plain).
    return unicodedata.normalize("NFKC", text).strip().upper()


def _legacy_time(text: str) -> datetime:
    t = text.replace("年", "-").replace("月", "-").replace("日", "").replace("/", "-").strip()
    date, _, clock = t.partition(" ")
    y, m, d = (int(x) for x in date.split("-"))
    parts = [int(x) for x in clock.split(":")] if clock else [0, 0]
    return datetime(y, m, d, parts[0], parts[1], parts[2] if len(parts) > 2 else 0)


def run_hub_until_delivered(settings, store, cases: int) -> dict:
    requests.post(settings["adapters"]["commerce"]["url"] + "/_admin/load", json={"cases": cases},
                  timeout=60).raise_for_status()
    hub = Hub(settings, store=store).start()
    try:
        return wait_delivered(settings, store, hub.mappings, timeout=120, what="every expected message delivered")
    finally:
        hub.shutdown()


def test_300_cases_arrive_once_in_order_with_legacy_fields(settings, sims, store_url):
    url, kwargs = store_url
    store = Store.open(url, engine_kwargs=kwargs)
    report = run_hub_until_delivered(settings, store, 300)

    platform, province = report["destinations"]["platform"], report["destinations"]["province"]
    assert report["cases"] == 300
    assert platform["expected"] == platform["delivered"] == 900  # 受理, 核准, 发照 per case
    assert province["expected"] == province["delivered"] == 600  # 核准 + the licence per case
    for d in (platform, province):
        assert d["duplicates"] == d["out_of_order"] == d["unexpected"] == d["altered"] == 0

    # Independently of the hub's mappings: compare what arrived with the legacy rows themselves.
    legacy = {(e["applyNo"], e["stepNo"]): e for e in
              requests.get(sims.urls["commerce"] + "/_admin/events", timeout=10).json()["items"]}
    arrived = _received(sims.urls["platform"])
    assert len(arrived) == 900
    last = defaultdict(int)
    for item in arrived:
        env = item["body"]
        p = env["payload"]
        row = legacy[(p["case_no"], p["sequence"])]
        assert p["sequence"] > last[p["case_no"]], "events of a case arrived out of order"
        last[p["case_no"]] = p["sequence"]
        assert p["type"] == STEP_TYPES[row["eventCode"]]
        assert p["applicant"]["id_number"] == _clean(row["registration"]["uniscid"])
        assert p["applicant"]["name"] == unicodedata.normalize("NFKC", row["registration"]["entname"]).strip()
        assert p["handler"] == row["operator"]
        occurred = datetime.fromisoformat(p["occurred_at"])
        assert occurred.utcoffset().total_seconds() == 8 * 3600
        assert occurred.replace(tzinfo=None) == _legacy_time(row["eventTime"])
        assert env["mapping"] == "commerce.case_event@1" and env["record_key"] == str(row["eventId"])
        assert item["idempotency_key"] == env["message_id"]

    licences = [json.loads(i["payload"]) for i in _received(sims.urls["province"]) if i["kind"] == "certificate"]
    assert len(licences) == 300
    for lic in licences:
        row = legacy[(lic["case_no"], 3)]
        assert lic["payload"]["number"] == _clean(row["licenceNo"])
        assert lic["payload"]["valid_to"] is None or row["validTo"] != "长期"

    counts = store.counts()
    assert counts["deliveries"] == {"platform": 900, "province": 600}
    assert counts["messages"] == 1200
    store.close()
