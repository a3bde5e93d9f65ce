"""The 市场监管 registration simulator: its change feed, its codes, its data quirks."""
from __future__ import annotations

import re
import threading
import unicodedata
from datetime import datetime

from stdnum.cn import uscc as stdnum_uscc

ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def gb11714_ok(org: str) -> bool:
    """Independent GB 11714 check (stdnum checks only the GB 32100 character)."""
    value = 11 - sum(int(c, 36) * w for c, w in zip(org[:8], ORG_WEIGHTS)) % 11
    return org[8] == {10: "X", 11: "0"}.get(value, str(value))


def clean(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def load(http, sim, cases, bad=0):
    r = http.post(f"{sim.url}/_admin/load", json={"cases": cases, "bad": bad})
    assert r.status_code == 200, r.text
    return r.json()


def read_feed(http, sim, page_size, since="", after=0, on_page=None):
    rows = []
    while True:
        r = http.get(f"{sim.url}/api/v1/changes",
                     params={"updatedSince": since, "afterId": after, "pageSize": page_size})
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["items"]) <= page_size
        rows += page["items"]
        if page["items"]:
            since, after = page["items"][-1]["updatedAt"], page["items"][-1]["eventId"]
        if on_page:
            on_page()
        if not page["hasMore"]:
            return rows, since, after


def test_paging_misses_and_repeats_nothing(http, commerce):
    load(http, commerce, 120, bad=3)
    rows, since, after = read_feed(http, commerce, page_size=37)
    ids = [row["eventId"] for row in rows]
    assert ids == sorted(set(ids)) and len(ids) == 123 * 3
    keys = [(row["updatedAt"], row["eventId"]) for row in rows]
    assert keys == sorted(keys) and len({k[0] for k in keys}) == len(keys)
    # The cursor resumes exactly where it stopped, across later loads.
    load(http, commerce, 5)
    more, _, _ = read_feed(http, commerce, page_size=500, since=since, after=after)
    assert [r["eventId"] for r in more] == list(range(ids[-1] + 1, ids[-1] + 16))


def test_paging_while_the_system_keeps_writing(http, commerce):
    load(http, commerce, 50)
    writer_pages = iter(range(10))
    rows, _, _ = read_feed(http, commerce, page_size=11,
                           on_page=lambda: next(writer_pages, None) is not None and commerce.load(2))
    everything = http.get(f"{commerce.url}/_admin/events").json()
    assert [r["eventId"] for r in rows] == [e["eventId"] for e in everything["items"]]
    assert everything["count"] == (50 + 20) * 3


def test_cursor_accepts_other_iso_spellings(http, commerce):
    load(http, commerce, 3)
    rows, _, _ = read_feed(http, commerce, page_size=100)
    pivot = rows[3]
    aware = pivot["updatedAt"] + "+08:00"
    utc = datetime.fromisoformat(aware).astimezone().isoformat()
    for since in (pivot["updatedAt"], aware, utc):
        page = http.get(f"{commerce.url}/api/v1/changes",
                        params={"updatedSince": since, "afterId": pivot["eventId"]}).json()
        assert [r["eventId"] for r in page["items"]] == [r["eventId"] for r in rows[4:]]


def test_feed_rejects_bad_parameters(http, commerce):
    for params in ({"updatedSince": "yesterday"}, {"afterId": "x"}, {"pageSize": "0"}):
        r = http.get(f"{commerce.url}/api/v1/changes", params=params)
        assert r.status_code == 400 and r.json()["field"] == next(iter(params))
    load(http, commerce, 200)
    assert len(http.get(f"{commerce.url}/api/v1/changes", params={"pageSize": 9999}).json()["items"]) == 500


def test_uscc_are_valid_gb32100_with_valid_org_codes(http, commerce):
    load(http, commerce, 300)
    cases = http.get(f"{commerce.url}/_admin/cases").json()["items"]
    codes = [c["registration"]["uniscid"] for c in cases]
    assert len(set(codes)) == 300
    for code in codes:
        assert stdnum_uscc.is_valid(code), code
        assert re.fullmatch(r"91(33\d{4})[0-9A-HJ-NPQRTUW-Y]{10}", code), code
        assert gb11714_ok(code[8:17]), code
    for case in cases:
        reg = case["registration"]
        assert code_region_matches(reg)
        assert re.fullmatch(r"1[3-9]\d{9}", case["contactPhone"])
        assert re.fullmatch(r"SCJG\d{4}\d{8}", case["applyNo"])


def code_region_matches(reg: dict) -> bool:
    return reg["uniscid"][2:8] == reg["regorg"] and reg["regorgCn"].endswith("市场监督管理局")


def test_bad_cases_carry_a_wrong_check_character(http, commerce):
    answer = load(http, commerce, 4, bad=3)
    assert answer["created"] == 4 and len(answer["applyNos"]) == 4 and len(answer["bad"]) == 3
    cases = {c["applyNo"]: c for c in http.get(f"{commerce.url}/_admin/cases").json()["items"]}
    for no in answer["bad"]:
        code = cases[no]["registration"]["uniscid"]
        assert cases[no]["badUscc"] and not stdnum_uscc.is_valid(code)
        assert gb11714_ok(code[8:17])  # only the final character is wrong
    assert all(stdnum_uscc.is_valid(cases[no]["registration"]["uniscid"]) for no in answer["applyNos"])


def test_each_case_has_three_steps_in_order(http, commerce):
    load(http, commerce, 60)
    events = http.get(f"{commerce.url}/_admin/events").json()["items"]
    by_case: dict[str, list[dict]] = {}
    for e in events:
        by_case.setdefault(e["applyNo"], []).append(e)
    assert len(by_case) == 60
    for rows in by_case.values():
        assert [(r["stepNo"], r["eventCode"], r["eventName"]) for r in rows] == [
            (1, "01", "受理"), (2, "02", "核准"), (3, "03", "发照")]
        times = [parse_event_time(r["eventTime"]) for r in rows]
        assert times == sorted(times)
        issued = rows[2]
        assert clean(issued["licenceNo"]) == clean(issued["registration"]["uniscid"])
        assert issued["validFrom"] == issued["registration"]["opfrom"]
        assert "licenceNo" not in rows[0] and rows[0]["operator"]


def parse_event_time(text: str) -> datetime:
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y年%m月%d日 %H:%M"):
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            pass
    raise AssertionError(f"unexpected eventTime {text!r}")


def test_legacy_quirks_show_up_but_normalise_away(http, commerce):
    load(http, commerce, 400)
    events = http.get(f"{commerce.url}/_admin/events").json()["items"]
    cases = {c["applyNo"]: c for c in http.get(f"{commerce.url}/_admin/cases").json()["items"]}
    formats = {"dash": 0, "slash": 0, "chinese": 0}
    fullwidth = padded = 0
    for e in events:
        t = e["eventTime"]
        formats["chinese" if "年" in t else "slash" if "/" in t else "dash"] += 1
        reg, truth = e["registration"], cases[e["applyNo"]]["registration"]
        fullwidth += any(ord(c) >= 0xFF10 and ord(c) <= 0xFF5A for c in reg["uniscid"] + reg["entname"])
        padded += any(v != v.strip() for v in reg.values())
        assert {k: clean(v) for k, v in reg.items()} == {k: clean(v) for k, v in truth.items()}
        assert datetime.fromisoformat(e["updatedAt"]).tzinfo is None
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}", e["updatedAt"])
    assert formats["dash"] > formats["slash"] > formats["chinese"] > 0
    assert fullwidth > 0 and padded > 0


def test_seeded_runs_repeat_and_reset_clears(http, commerce):
    first = load(http, commerce, 10)
    assert http.post(f"{commerce.url}/_admin/reset").status_code == 200
    assert http.get(f"{commerce.url}/_admin/events").json()["count"] == 0
    assert load(http, commerce, 10) == first


def test_concurrent_loads_keep_the_feed_ordered(http, commerce):
    threads = [threading.Thread(target=commerce.load, args=(20,)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rows, _, _ = read_feed(http, commerce, page_size=50)
    assert [r["eventId"] for r in rows] == list(range(1, 241))
