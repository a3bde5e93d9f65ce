"""In-process stand-ins for the wire, so each example costs milliseconds: a requests adapter
that answers a source's HTTP calls with the bytes a test chose (a JSON feed page, a WSDL and a
SOAP response), and pools of valid records made by the simulators' own generators."""
from __future__ import annotations

import json
import random
from pathlib import Path

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
            rec = {k: str(v) for k, v in rec.items() if k != "_at"}
            rec["SHXXID"] = f"{0xB1000000 + len(out):016X}"
            rec["GXSJ"] = "2026-03-05 08:00:00.000000"
            out.append(rec)
    return out


def ndrc_response(records: list[dict], has_more: bool = False) -> bytes:
    from sims.ndrc_wire import query_response
    return query_response(records, has_more).body
