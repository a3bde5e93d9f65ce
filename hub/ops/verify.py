"""Reconciliation: what the legacy systems hold against what the destinations received.

The legacy records are run through the same mappings and routes as the hub, so the
expected set is known exactly (deterministic message ids), and every destination is
checked for missing, duplicate, out-of-order, unexpected and altered messages."""
from __future__ import annotations

import json
from collections import defaultdict
from urllib.parse import urlsplit

import requests

from hub import exactjson
from hub.adapter import registry
from hub.mapping import MappingSet, RecordError
from hub.routing import destinations_for, load_routes

VOLATILE = ("produced_at", "trace_id", "signature")


def _get(session: requests.Session, url: str) -> list[dict]:
    resp = session.get(url, timeout=30)
    resp.raise_for_status()
    # Read as the hub reads the systems (hub.exactjson), so that both map the same values.
    body = exactjson.decode(resp.content).value
    return body["items"] if isinstance(body, dict) else body


def admin_base(settings: dict, destination: str) -> str:
    conf = settings["destinations"][destination]
    url = conf.get("url") or conf.get("wsdl")
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _truth_url(settings: dict, name: str, conf: dict, store) -> str:
    """The legacy instance whose records must reach the destinations: the primary track's."""
    if store is not None and (conf.get("tracks") or {}).get("new"):
        from hub.dualtrack import primary_track
        if primary_track(store, settings, name) == "new":
            new = conf["tracks"]["new"]
            return new.get("admin_url") or new["url"]
    return conf.get("admin_url") or conf["url"]


def expected_messages(settings: dict, mappings: MappingSet, session, store=None) -> tuple[dict, int, dict]:
    """({destination: {message_id: envelope dict}}, records that cannot be mapped, {department: cases})."""
    routes = load_routes(settings["routes_file"])
    expected: dict[str, dict[str, dict]] = defaultdict(dict)
    unmappable = 0
    cases: dict[str, set] = defaultdict(set)
    for name, conf in (settings.get("adapters") or {}).items():
        if not conf.get("enabled", True) or registry.load(name).department == "platform":
            continue
        system = registry.load(name).system
        track = "old"
        admin = _truth_url(settings, name, conf, store)
        if admin != (conf.get("admin_url") or conf["url"]):
            track = "new"
        for record in _get(session, admin.rstrip("/") + "/_admin/events"):
            try:
                envelopes = mappings.apply(system, record, track=track)
            except RecordError:
                unmappable += 1
                continue
            for env in envelopes:
                if env.case_no:
                    cases[name].add(env.case_no)
                data = json.loads(env.model_dump_json())
                for dest in destinations_for(routes, name, env.kind, env.routing_key.rsplit(".", 1)[1]):
                    expected[dest][data["message_id"]] = data
    return expected, unmappable, cases


def _strip(env: dict) -> dict:
    return {k: v for k, v in env.items() if k not in VOLATILE}


def check_destination(expected: dict[str, dict], received: list[dict], held: set[str] = frozenset()) -> dict:
    """``held``: ids parked at the destination behind a case's failed or dead head (hub/runtime/hold.py):
    not delivered, not missing either."""
    seen: dict[str, int] = defaultdict(int)
    by_content: dict[tuple, int] = defaultdict(int)
    last_seq: dict[str, int] = {}
    out_of_order = altered = unexpected = 0
    for item in received:
        # The platform keeps the JSON body; the SOAP province keeps the payload string it was given.
        body = item.get("body") if item.get("body") is not None else item.get("payload")
        if isinstance(body, str):
            try:
                body = json.loads(body)
            except ValueError:
                body = {}
        body = body if isinstance(body, dict) else {}
        mid = str(item.get("message_id") or body.get("message_id"))
        seen[mid] += 1
        by_content[(body.get("kind"), body.get("case_no"), body.get("sequence"), body.get("record_key"))] += 1
        case, seq = body.get("case_no"), body.get("sequence")
        if case is not None and seq is not None:
            if seq < last_seq.get(case, 0):
                out_of_order += 1
            last_seq[case] = max(seq, last_seq.get(case, 0))
        if mid not in expected:
            unexpected += 1
        elif _strip(body) != _strip(expected[mid]):
            altered += 1
    duplicates = sum(n - 1 for n in seen.values() if n > 1) + sum(n - 1 for n in by_content.values() if n > 1)
    delivered = sum(1 for mid in expected if mid in seen)
    waiting = sum(1 for mid in expected if mid in held and mid not in seen)
    return {"expected": len(expected), "delivered": delivered, "held": waiting,
            "missing": len(expected) - delivered - waiting,
            "duplicates": duplicates, "out_of_order": out_of_order, "unexpected": unexpected, "altered": altered}


def _department_of(item: dict) -> str | None:
    body = item.get("body") if item.get("body") is not None else item.get("payload")
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            return None
    return ((body or {}).get("source") or {}).get("department") if isinstance(body, dict) else None


def southbound(settings: dict, session, received_by_platform: list[dict]) -> dict:
    """Applications submitted on the platform: sent down once each, receipt back once each."""
    submitted = {a["applyNo"] for a in _get(session, admin_base(settings, "platform") + "/_admin/applications")}
    delivered: dict[str, int] = defaultdict(int)
    for name, conf in (settings.get("adapters") or {}).items():
        if not conf.get("enabled", True) or not registry.load(name).has_sink:
            continue
        for item in _get(session, (conf.get("admin_url") or conf["url"]).rstrip("/") + "/_admin/applications"):
            no = item.get("application_no") or next(
                (v for v in item.values() if isinstance(v, str) and v in submitted), None)
            if no is not None:
                delivered[no] += 1
    receipts: dict[str, int] = defaultdict(int)
    for item in received_by_platform:
        if item.get("kind") == "case_event" and item.get("case_no") in submitted:
            body = item.get("body") or {}
            if (body.get("payload") or {}).get("type") == "accepted":
                receipts[item["case_no"]] += 1
    return {
        "_numbers": sorted(submitted),
        "submitted": len(submitted),
        "delivered": sum(1 for no in submitted if delivered.get(no)),
        "receipts": sum(1 for no in submitted if receipts.get(no)),
        "missing": sum(1 for no in submitted if not delivered.get(no) or not receipts.get(no)),
        "duplicates": sum(n - 1 for n in delivered.values() if n > 1) + sum(n - 1 for n in receipts.values() if n > 1),
    }


def verify(settings: dict, store=None, mappings: MappingSet | None = None) -> dict:
    mappings = mappings or MappingSet.load(settings["mappings_dir"])
    session = requests.Session()
    session.trust_env = False
    expected, unmappable, cases = expected_messages(settings, mappings, session, store)
    report = {"cases": 0, "destinations": {}, "departments": {}, "unmappable_records": unmappable}
    received_all = {}
    held = {dest: store.parked_ids(dest) if store is not None else set() for dest in expected}
    for dest in sorted(expected):
        received = received_all[dest] = _get(session, admin_base(settings, dest) + "/_admin/received")
        report["destinations"][dest] = check_destination(expected[dest], received, held[dest])
    for dept in sorted(cases):
        report["departments"][dept] = {
            dest: check_destination({k: v for k, v in expected[dest].items() if v["source"]["department"] == dept},
                                    [i for i in received_all[dest] if _department_of(i) == dept], held[dest])
            for dest in sorted(expected)}
    applications: set[str] = set()
    if (settings.get("adapters") or {}).get("platform", {}).get("enabled", False):
        report["southbound"] = southbound(settings, session, received_all.get("platform", []))
        applications = set(report["southbound"].pop("_numbers"))
    # Cases the departments made themselves; platform applications are counted under southbound.
    report["cases"] = sum(len(v - applications) for v in cases.values())
    dead = 0
    if store is not None:
        dead = sum(store.counts().get("dead_letters", {}).values())
    report["dead_letters"] = dead
    report["ok"] = all(d["missing"] == 0 and d["duplicates"] == 0 and d["out_of_order"] == 0
                       and d["unexpected"] == 0 and d["altered"] == 0 for d in report["destinations"].values())
    sb = report.get("southbound")
    if sb is not None:
        report["ok"] = report["ok"] and sb["missing"] == 0 and sb["duplicates"] == 0
    return report


def render(report: dict) -> str:
    lines = [f"cases {report['cases']}   dead letters {report['dead_letters']}   "
             f"unmappable records {report['unmappable_records']}"]
    lines.append(f"{'destination':<12}{'expected':>9}{'delivered':>10}{'held':>6}{'missing':>8}{'dupes':>7}"
                 f"{'order':>7}{'unexp.':>7}{'altered':>8}")
    for name, d in report["destinations"].items():
        lines.append(f"{name:<12}{d['expected']:>9}{d['delivered']:>10}{d.get('held', 0):>6}{d['missing']:>8}"
                     f"{d['duplicates']:>7}"
                     f"{d['out_of_order']:>7}{d['unexpected']:>7}{d['altered']:>8}")
    for dept, dests in report.get("departments", {}).items():
        lines.append(f"  {dept:<10}" + "  ".join(f"{n} {d['delivered']}/{d['expected']}" for n, d in dests.items()))
    sb = report.get("southbound")
    if sb:
        lines.append(f"southbound: submitted {sb['submitted']}, delivered {sb['delivered']}, receipts {sb['receipts']}, "
                     f"missing {sb['missing']}, duplicates {sb['duplicates']}")
    lines.append("OK: every expected message arrived once, in order, unaltered" if report["ok"]
                 else "NOT OK: see the columns above")
    return "\n".join(lines)
