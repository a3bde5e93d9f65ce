"""In-process stand-ins for the wire, so each example costs milliseconds: a requests adapter
that answers a source's HTTP calls with the bytes a test chose (a JSON feed page, a WSDL and a
SOAP response), and pools of valid records made by the simulators' own generators."""
from __future__ import annotations

import json
import random
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import requests
from requests.adapters import BaseAdapter

ROOT = Path(__file__).resolve().parents[2]
NDRC_WSDL = (ROOT / "sims" / "ndrc.wsdl").read_text(encoding="utf-8").replace(
    "http://127.0.0.1:18084/services/ProjectApprovalService", "http://ndrc.test/services/ProjectApprovalService")
NDRC_WSDL_URL = "http://ndrc.test/services/ProjectApprovalService?wsdl"


class Wire(BaseAdapter):
    """Answers with `body`, or a GET with `get_body` when one is given (a WSDL); counts the calls."""

    def __init__(self, body: bytes = b"", content_type: str = "application/json; charset=utf-8",
                 get_body: bytes | None = None, status: int = 200):
        super().__init__()
        self.body, self.content_type, self.get_body, self.status = body, content_type, get_body, status
        self.calls = 0

    def send(self, request, **kwargs):
        self.calls += 1
        resp = requests.Response()
        resp.request, resp.url = request, request.url
        is_get = request.method == "GET" and self.get_body is not None
        resp.status_code = 200 if is_get else self.status
        resp._content = self.get_body if is_get else self.body
        resp.headers["Content-Type"] = "text/xml; charset=utf-8" if is_get else self.content_type
        resp.encoding = None
        return resp

    def close(self):
        pass


def wire(session: requests.Session, prefix: str, **kwargs) -> Wire:
    w = Wire(**kwargs)
    session.mount(prefix, w)
    return w


def no_retry(source, attr: str = "_get"):
    """The source's own tenacity retries make a refused page cost ~0.3 s; one try is enough here."""
    method = getattr(type(source), attr)
    setattr(source, attr, method.__wrapped__.__get__(source))
    return source


def json_page(items_json: list[bytes], has_more: bool = False) -> bytes:
    """A feed page from items given as JSON bytes (so a test can put any bytes in one)."""
    return b'{"items": [' + b", ".join(items_json) + b'], "hasMore": ' + (b"true" if has_more else b"false") + b"}"


def item_bytes(m) -> bytes:
    """A mutated record as JSON bytes; a Raw value (bytes no JSON writer makes) put in as is."""
    from tests.badinput.mutations import Raw
    body = dumps(m.record)
    return body.replace(dumps(f"@@MUTATED-{m.kind}@@"), m.value.json) if isinstance(m.value, Raw) else body


def dumps(value) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


# --- pools of valid records, from the simulators' generators -----------------------------------
def commerce_pool(cases: int = 12, seed: int = 11) -> list[dict]:
    from sims.commerce import CommerceSim
    sim = CommerceSim(port=0, seed=seed)   # never started: its generator and feed state only
    sim.load(cases)
    return [json.loads(json.dumps(e)) for e in sim.events]


def platform_pool(count: int = 24, seed: int = 12) -> list[dict]:
    from sims.platform_applications import ApplicationDesk
    return [json.loads(json.dumps(a)) for a in ApplicationDesk(seed).generate(count)]


def ndrc_pool(cases: int = 6, seed: int = 13) -> list[dict]:
    from sims.ndrc_data import CaseFactory
    f, out = CaseFactory(random.Random(seed)), []
    for _ in range(cases):
        _, events = f.case()
        for e in events:
            e.pop("_at", None)
            out.append({"changeId": len(out) + 1, "updateTime": f"202603050800{len(out) % 60:02d}", **e})
    return out


def land_pool(cases: int = 8, seed: int = 14) -> list[dict]:
    from sims.land_data import CaseFactory
    f, out = CaseFactory(random.Random(seed)), []
    for _ in range(cases):
        for rec in f.case(None, 0.1):
            rec = {k: v if k == "CLXX" else str(v) for k, v in rec.items() if k != "_at"}   # CLXX: a list
            rec["SHXXID"] = f"{0xB1000000 + len(out):016X}"
            rec["GXSJ"] = "2026-03-05 08:00:00.000000"
            out.append(rec)
    return out


def ndrc_response(records: list[dict], has_more: bool = False) -> bytes:
    from sims.ndrc_wire import query_response
    return query_response(records, has_more).body


# --- a feed that honours the cursor and the page size, with poisoned records --------------------
MARK = "@@POISON@@"


class Cut(bytes):
    """Poison that ends the answer inside the record: the system died writing it (the record's
    text up to the marker, then these bytes, then nothing)."""


class Feed(BaseAdapter):
    """A legacy feed served in-process: items in feed order as (position, payload, poison), a
    page the items after the cursor the request asks for, pageSize of them. A poisoned item's
    payload carries MARK in one field; in the answer the marker becomes the poison's bytes (a
    quote or a control character the system did not escape), or the answer is cut there (Cut).
    `heal(position)` makes the system serve a poisoned item readably from then on. `blips` answers
    that many calls with the body cut in half first (a proxy timing out), `html` answers with a
    gateway's HTML page, `status` with that HTTP status. Every call is kept in `asked` (after, size)
    and every answer in `served`."""

    def __init__(self, items, *, ask, render, content_type, get_body: bytes | None = None):
        super().__init__()
        self.items = sorted(items, key=lambda item: item[0])
        self.ask, self.render, self.content_type, self.get_body = ask, render, content_type, get_body
        self.asked: list[tuple] = []
        self.served: dict[tuple, bytes] = {}
        self.blips, self.html, self.status = 0, False, 200

    def heal(self, position) -> None:
        self.items = [(k, p, None if k == position else poison) for k, p, poison in self.items]

    def body(self, after, size: int) -> bytes:
        rest = [item for item in self.items if item[0] > after]
        page = rest[:size]
        body = self.render([p for _, p, _ in page], len(rest) > size)
        for _, _, poison in page:
            if poison is None:
                continue
            at = body.index(MARK.encode())
            if isinstance(poison, Cut):
                return body[:at] + bytes(poison)
            body = body[:at] + bytes(poison) + body[at + len(MARK):]
        return body.replace(MARK.encode(), b"healed")

    def send(self, request, **kwargs):
        resp = requests.Response()
        resp.request, resp.url, resp.encoding = request, request.url, None
        if request.method == "GET" and self.get_body is not None:   # a WSDL
            resp.status_code, resp._content = 200, self.get_body
            resp.headers["Content-Type"] = "text/xml; charset=utf-8"
            return resp
        after, size = self.ask(request)
        self.asked.append((after, size))
        body, content_type, status = self.body(after, size), self.content_type, self.status
        if self.blips:
            self.blips -= 1
            body = body[:len(body) // 2]
        if self.html:
            body, content_type = b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"
        self.served[(after, size)] = body
        resp.status_code, resp._content = status, body
        resp.headers["Content-Type"] = content_type
        return resp

    def close(self):
        pass


def _query(request) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(request.url).query, keep_blank_values=True).items()}


def _poisoned(record: dict, field: str, poison) -> bytes:
    return dumps(dict(record, **{field: MARK})) if poison is not None else dumps(record)


def commerce_feed(records: list[dict], poison: dict | None = None) -> Feed:
    """The 企业登记 change feed: position (updatedAt, eventId); poison by eventId, in `opinion`."""
    poison = poison or {}
    items = [((r["updatedAt"], r["eventId"]), _poisoned(r, "opinion", poison.get(r["eventId"])),
              poison.get(r["eventId"])) for r in records]

    def ask(request):
        q = _query(request)
        return (q.get("updatedSince", ""), int(q.get("afterId") or 0)), int(q["pageSize"])

    return Feed(items, ask=ask, render=json_page, content_type="application/json; charset=utf-8")


def platform_feed(records: list[dict], poison: dict | None = None) -> Feed:
    """The platform's application feed: position seq; poison by seq, in `itemName`."""
    poison = poison or {}
    items = [(r["seq"], _poisoned(r, "itemName", poison.get(r["seq"])), poison.get(r["seq"])) for r in records]

    def ask(request):
        q = _query(request)
        return int(q.get("afterSeq") or 0), int(q["pageSize"])

    return Feed(items, ask=ask, render=json_page, content_type="application/json; charset=utf-8")


def ndrc_feed(records: list[dict], poison: dict | None = None, drop: dict | None = None) -> Feed:
    """The 投资项目审批 service's QueryProjectChanges: position (updateTime, changeId); poison by
    changeId, in `opinion`; `drop` leaves elements out of a change ({changeId: {"changeId"}})."""
    from lxml import etree
    poison, drop = poison or {}, drop or {}
    items = []
    for r in records:
        row = {k: v if k == "project" or v is None or isinstance(v, str) else str(v) for k, v in r.items()
               if k not in drop.get(r["changeId"], ())}
        if poison.get(r["changeId"]) is not None:
            row["opinion"] = MARK
        items.append(((r["updateTime"], r["changeId"]), row, poison.get(r["changeId"])))

    def ask(request):
        got = {etree.QName(el).localname: (el.text or "").strip()
               for el in etree.fromstring(request.body).iter() if isinstance(el.tag, str)}
        return (got.get("updatedSince", ""), int(got.get("afterId") or 0)), int(got["pageSize"])

    return Feed(items, ask=ask, render=ndrc_response, content_type="text/xml; charset=utf-8",
                get_body=NDRC_WSDL.encode("utf-8"))


def mount(session: requests.Session, prefix: str, feed: Feed) -> Feed:
    session.mount(prefix, feed)
    return feed
