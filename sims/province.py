"""The provincial node (省政务服务平台 / 省节点): one SOAP 1.1 document/literal operation,
Report, described by province.wsdl. Duplicates are answered, not faulted (code "1"),
because that is how provincial nodes tell a re-sent case apart from a broken one.

With keys in its trust list (TONGBAN_SIM_PROVINCE_TRUST, or POST /_admin/signatures) the node
takes only messages signed by one of them, fresh and never seen (province_trust.py); a
refusal is a Client fault naming the signature or the replay."""
from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from lxml import etree

from .base import HttpError, Request, Response, SimServer, json_response
from .province_trust import Trust, entry
from .soap import XML_TYPE, SoapFault, Wsdl, envelope, fault_response, fields, parse_message

TNS = "urn:tongban:province:report:1"
ENDPOINT = "/ws/report"
WSDL_PATH = Path(__file__).with_name("province.wsdl")
PLACEHOLDER = "http://127.0.0.1:18083/ws/report"
SHANGHAI = ZoneInfo("Asia/Shanghai")
_INT_RE = re.compile(r"^[+-]?\d+$")
INT_MIN, INT_MAX = -(2**31), 2**31 - 1


def parse_report(element: etree._Element) -> dict:
    """The Report request's fields, or a Client fault naming the first bad one."""
    if element.tag != f"{{{TNS}}}Report":
        raise SoapFault("Client", f"unknown operation element {etree.QName(element).text}")
    got = fields(element, TNS)
    for name in ("messageId", "kind", "caseNo", "sequence", "department", "payload"):
        if name not in got:
            raise SoapFault("Client", f"missing element: {name}")
    for name in ("messageId", "kind", "department"):
        if not got[name].strip():
            raise SoapFault("Client", f"empty element: {name}")
    seq_text = got["sequence"].strip()
    if not _INT_RE.match(seq_text) or not INT_MIN <= int(seq_text) <= INT_MAX:
        raise SoapFault("Client", f"sequence: not an integer: {got['sequence']!r}")
    try:
        json.loads(got["payload"])
    except ValueError:
        raise SoapFault("Client", "payload: not valid JSON") from None
    return {"message_id": got["messageId"].strip(), "kind": got["kind"], "case_no": got["caseNo"],
            "sequence": int(seq_text), "department": got["department"], "payload": got["payload"]}


def report_response(code: str, message: str) -> Response:
    answer = etree.Element(f"{{{TNS}}}ReportResponse", nsmap={"tns": TNS})
    etree.SubElement(answer, f"{{{TNS}}}code").text = code
    etree.SubElement(answer, f"{{{TNS}}}message").text = message
    return Response(200, envelope(answer), XML_TYPE)


def signature_header(header: etree._Element | None) -> dict | None:
    """The Signature header's fields, or None when the message carries none."""
    if header is None:
        return None
    sig = header.find(f"{{{TNS}}}Signature")
    return None if sig is None else fields(sig, TNS)


class ProvinceSim(SimServer):
    name = "province"
    wsdl = Wsdl(WSDL_PATH, PLACEHOLDER)

    def __init__(self, host: str = "127.0.0.1", port: int = 0, seed: int | None = None,
                 trust: Trust | None = None):
        # Configuration, not state: /_admin/reset forgets the nonces seen, not the keys.
        self.trust = trust or Trust.from_env()
        super().__init__(host=host, port=port, seed=seed)

    def setup_routes(self) -> None:
        # The WSDL is the contract, fetched once by a client; faults model the service.
        self.route("GET", ENDPOINT, self.get_wsdl, faulty=False)
        self.route("POST", ENDPOINT, self.report)
        self.route("GET", "/_admin/received", self.admin_received)
        self.route("GET", "/_admin/stats", self.admin_stats)
        self.route("GET", "/_admin/signatures", self.admin_signatures)
        self.route("POST", "/_admin/signatures", self.admin_set_signatures)

    def reset_state(self) -> None:
        self.seen: set[str] = set()
        self.received: list[dict] = []
        self.duplicates_refused = 0
        self.trust.forget_nonces()

    def error_response(self) -> Response:
        return fault_response("Server", "服务暂时不可用 (injected fault)")

    def get_wsdl(self, req: Request) -> Response:
        if "wsdl" not in {k.lower() for k in req.query}:
            return Response(400, b"use POST for SOAP calls, GET ?wsdl for the contract\n",
                            "text/plain; charset=utf-8")
        host = self.host if ":" not in self.host else f"[{self.host}]"
        return self.wsdl.render(req, f"{host}:{self.port}", ENDPOINT, "https" if self.tls is not None else "http")

    def report(self, req: Request) -> Response:
        try:
            header, element = parse_message(req.body)
            record = parse_report(element)
            self.trust.check(signature_header(header), fields(element, TNS))
        except SoapFault as fault:
            return fault_response(fault.code, fault.message)
        with self.lock:
            if record["message_id"] in self.seen:
                self.duplicates_refused += 1
                return report_response("1", "重复报送，已忽略 (duplicate messageId)")
            self.seen.add(record["message_id"])
            record["received_at"] = datetime.now(SHANGHAI).isoformat(timespec="microseconds")
            self.received.append(record)
        return report_response("0", "接收成功")

    def admin_received(self, req: Request) -> Response:
        with self.lock:
            items = list(self.received)
        return json_response({"count": len(items), "items": items})

    def admin_stats(self, req: Request) -> Response:
        with self.lock:
            stats = {"accepted": len(self.received), "duplicates_refused": self.duplicates_refused}
        return json_response(stats)

    def admin_signatures(self, req: Request) -> Response:
        return json_response(self.trust.state())

    def admin_set_signatures(self, req: Request) -> Response:
        """{"public_keys": [...], "replay_window": s, "required": bool}: the trust list replaced."""
        doc = req.json()
        if not isinstance(doc, dict) or not isinstance(doc.get("public_keys", []), list):
            raise HttpError(400, "expected {\"public_keys\": [...], \"replay_window\": seconds, \"required\": bool}")
        try:
            keys = [entry(k) for k in doc.get("public_keys", [])]
            window = float(doc.get("replay_window", self.trust.window))
        except (ValueError, TypeError, KeyError) as exc:
            raise HttpError(400, f"public_keys: {exc}") from None
        self.trust.configure(keys, window, doc.get("required"))
        return json_response(self.trust.state())
