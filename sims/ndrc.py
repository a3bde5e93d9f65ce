"""The investment project approval system of 发展和改革局 (投资项目在线审批监管平台), a SOAP 1.1
document/literal web service described by ndrc.wsdl.

QueryProjectChanges pages through a change feed keyed by (updateTime, changeId): the stamp
has whole seconds only, as such systems keep it, so the id breaks ties. SubmitApplication
takes an application from the unified platform, refuses a repeat of its applicationNo
(code 1, with the first acceptNo) and writes a RECEIPT record into the same feed.
Besides the base faults (a Server fault for error_rate, latency, a truncated envelope for
malformed_rate, a dropped connection for down) it has its own: gateway_rate, the HTML 502
page of the nginx in front of it.

NdrcNewSim (ndrc_new) is the cloud copy for the dual-track period: the same seed, so the
same cases, with the drift of sims/drift.py (POST /_admin/drift) applied to its step records
as they are written; with lag_seconds a record shows in QueryProjectChanges that much later
than it was written (stamped when written; visible in write order, receipts included)."""
from __future__ import annotations

import bisect
import random
import re
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from . import drift
from .base import HttpError, Request, Response, SimServer, json_response, list_response, load_request
from .catalogue_data import codes_for
from .codes import USCC_ALPHABET, resident_id_check, uscc_check
from .ndrc_data import BAD_KINDS, CERT_TYPE_PERSON, CERT_TYPE_USCC, CaseFactory
from .ndrc_wire import GATEWAY_PAGE, TNS, parse_query, parse_submit, query_response, submit_response
from .soap import SoapFault, Wsdl, fault_response, parse_envelope

ENDPOINT = "/services/ProjectApprovalService"
WSDL_PATH = Path(__file__).with_name("ndrc.wsdl")
PLACEHOLDER = "http://127.0.0.1:18084/services/ProjectApprovalService"
SHANGHAI = ZoneInfo("Asia/Shanghai")
PROJECT_CODE = re.compile(r"^\d{4}-\d{6}-\d{2}-\d{2}-\d{6}$")   # REFERENCE §2
MAX_LOAD = 100_000


def valid_uscc(code: str) -> bool:
    return (len(code) == 18 and all(c in USCC_ALPHABET for c in code)
            and uscc_check(code[:17]) == code[17])


def valid_resident_id(code: str) -> bool:
    return len(code) == 18 and code[:17].isdigit() and resident_id_check(code[:17]) == code[17].upper()


# the certificate types the system takes for an applicant, with their check
ID_CHECKS = {CERT_TYPE_USCC: ("统一社会信用代码", valid_uscc), CERT_TYPE_PERSON: ("居民身份证号码", valid_resident_id)}


class NdrcSim(SimServer):
    name = "ndrc"
    wsdl = Wsdl(WSDL_PATH, PLACEHOLDER)

    def setup_routes(self) -> None:
        self.route("GET", ENDPOINT, self.get_wsdl, faulty=False)
        self.route("POST", ENDPOINT, self.soap)
        self.route("POST", "/_admin/faults", self.admin_faults)   # the base's, plus gateway_rate
        self.route("POST", "/_admin/load", self.admin_load)
        self.route("GET", "/_admin/events", self.admin_events)
        self.route("GET", "/_admin/cases", self.admin_cases)
        self.route("GET", "/_admin/applications", self.admin_applications)
        self.route("POST", "/_admin/drift", self.admin_drift)

    def reset_state(self) -> None:
        self.factory = CaseFactory(random.Random(self.seed))
        self.cases: list[dict] = []
        self.changes: list[dict] = []
        self.keys: list[tuple[str, int]] = []   # parallel to changes, for bisect
        self.visible_at: list[float] = []       # parallel to changes: monotonic time each shows in the feed
        self.next_change_id = 1
        self.last_stamp = ""
        self.applications: dict[str, dict] = {}
        self.accept_serial = 0
        self.gateway_rate = 0.0
        self.gateway_rng = random.Random(self.seed)
        self.drift: dict = {}

    # --- writing the feed ------------------------------------------------------------
    def _append(self, record: dict) -> dict:
        """Stamp and store one record (under self.lock). The stamp never goes back, even
        when the clock does, so (updateTime, changeId) stays the feed's order."""
        stamp = max(datetime.now(SHANGHAI).strftime("%Y%m%d%H%M%S"), self.last_stamp)
        self.last_stamp = stamp
        stored = {"changeId": self.next_change_id, "updateTime": stamp, **record}
        self.keys.append((stamp, self.next_change_id))
        # A lagging system shows what it wrote lag_seconds later, and in the order written: a
        # record never shows before one written ahead of it (the lag may have been shortened).
        shows = time.monotonic() + float(self.drift.get("lag_seconds") or 0)
        self.visible_at.append(max(shows, self.visible_at[-1]) if self.visible_at else shows)
        self.changes.append(stored)
        self.next_change_id += 1
        return stored

    def load(self, cases: int, bad: int = 0, kinds: tuple[str, ...] = BAD_KINDS) -> dict:
        with self.lock:
            made = [self.factory.case() for _ in range(cases)]
            made += [self.factory.case(bad=kinds[i % len(kinds)]) for i in range(bad)]
            events = sorted((e for _, evs in made for e in evs), key=lambda e: (e["_at"], e["stepSeq"]))
            for event in events:
                del event["_at"]
            if self.drift:
                events = drift.apply(events, self.drift, DRIFT_KEYS)
            ids: dict[str, list[int]] = {}
            for event in events:
                ids.setdefault(event["caseNo"], []).append(self._append(event)["changeId"])
            for case, _ in made:
                case["changeIds"] = ids.get(case["caseNo"], [])
                self.cases.append(case)
        return {"created": cases, "caseNos": [c["caseNo"] for c, _ in made[:cases]],
                "bad": [c["caseNo"] for c, _ in made[cases:]],
                "badKinds": {c["caseNo"]: c["bad"] for c, _ in made[cases:]}}

    # --- the web service -------------------------------------------------------------
    def get_wsdl(self, req: Request) -> Response:
        if "wsdl" not in {k.lower() for k in req.query}:
            return Response(400, b"use POST for SOAP calls, GET ?wsdl for the contract\n",
                            "text/plain; charset=utf-8")
        host = self.host if ":" not in self.host else f"[{self.host}]"
        return self.wsdl.render(req, f"{host}:{self.port}", ENDPOINT)

    def error_response(self) -> Response:
        return fault_response("Server", "系统繁忙，请稍后再试 (injected fault)")

    def soap(self, req: Request) -> Response:
        with self.lock:
            gateway = self.gateway_rate > 0 and self.gateway_rng.random() < self.gateway_rate
        if gateway:  # the proxy answered; the service never saw the call
            return Response(502, GATEWAY_PAGE, "text/html")
        try:
            element = parse_envelope(req.body)
            if element.tag == f"{{{TNS}}}QueryProjectChanges":
                return self.query(*parse_query(element))
            return self.submit(parse_submit(element))
        except SoapFault as fault:
            return fault_response(fault.code, fault.message)

    def query(self, since: str, after_id: int, size: int) -> Response:
        with self.lock:
            start = bisect.bisect_right(self.keys, (since, after_id))
            end = min(start + size, len(self.changes))
            # visible_at never decreases, so the first record not showing yet ends the page
            visible = bisect.bisect_right(self.visible_at, time.monotonic(), start, end)
            items = self.changes[start:visible]
            has_more = visible == end and end < len(self.changes)
        return query_response(items, has_more)

    def submit(self, app: dict) -> Response:
        if app["itemCode"] not in dict(codes_for("ndrc")):
            raise SoapFault("Client", f"事项编码 {app['itemCode']} 不是本部门的事项 (itemCode not handled here)")
        if app["applicantIdType"] not in ID_CHECKS:
            raise SoapFault("Client", f"applicantIdType {app['applicantIdType']} 不支持 (known: {', '.join(ID_CHECKS)})")
        label, check = ID_CHECKS[app["applicantIdType"]]
        if not check(app["applicantIdNumber"]):
            raise SoapFault("Client", f"applicantIdNumber {label}校验失败 (check character wrong)")
        if app["projectCode"] and not PROJECT_CODE.match(app["projectCode"]):
            raise SoapFault("Client", "projectCode 项目代码格式错误 (expected yyyy-xxxxxx-xx-xx-xxxxxx)")
        form = app["form"].get("form") if isinstance(app["form"], dict) else None
        project_name = form.get("project_name") if isinstance(form, dict) else None
        with self.lock:
            first = self.applications.get(app["applicationNo"])
            if first is not None:
                first["repeats"] += 1
                return submit_response("1", "重复申报，已受理 (duplicate applicationNo)", first["acceptNo"],
                                       first["projectCode"])
            now = datetime.now(SHANGHAI).replace(tzinfo=None, microsecond=0)
            code = app["projectCode"] or self.factory.assign_code(now)
            self.accept_serial += 1
            accept_no = f"SL330100{now:%Y%m%d}{self.accept_serial:05d}"
            receipt = self._append(self.factory.receipt({**app, "projectName": project_name}, code, now, accept_no))
            self.applications[app["applicationNo"]] = {
                **{k: v for k, v in app.items() if k != "form"}, "application_no": app["applicationNo"],
                "projectCode": code, "acceptNo": accept_no,
                "caseNo": receipt["caseNo"], "receiptChangeId": receipt["changeId"],
                "receivedAt": datetime.now(SHANGHAI).isoformat(timespec="microseconds"), "repeats": 0}
        return submit_response("0", "受理成功", accept_no, code)

    # --- admin -----------------------------------------------------------------------
    def admin_faults(self, req: Request) -> Response:
        body = req.json() or {}
        if not isinstance(body, dict):
            raise HttpError(400, "faults must be a JSON object")
        rate = body.pop("gateway_rate", None)
        if rate is not None and (isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1):
            raise HttpError(400, "gateway_rate must be a number between 0 and 1", field="gateway_rate")
        result = self.faults.update(body)
        with self.lock:
            if rate is not None:
                self.gateway_rate = float(rate)
            if "seed" in body:
                self.gateway_rng = random.Random(body["seed"])
            return json_response({**result, "gateway_rate": self.gateway_rate})

    def admin_load(self, req: Request) -> Response:
        body, cases, bad = load_request(req, MAX_LOAD)
        kinds = body.get("bad_kinds") or list(BAD_KINDS)
        if not isinstance(kinds, list) or not kinds or any(k not in BAD_KINDS for k in kinds):
            raise HttpError(400, f"bad_kinds must be a list drawn from {list(BAD_KINDS)}", field="bad_kinds")
        return json_response(self.load(cases, bad, tuple(kinds)))

    def admin_drift(self, req: Request) -> Response:
        body = req.json()
        if isinstance(body, dict):
            for key, high in (("missing_rate", 1), ("extra_rate", 1), ("lag_seconds", None)):
                value = body.get(key, 0)
                if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or (
                        high and value > high):
                    raise HttpError(400, f"{key} must be a number " + ("between 0 and 1" if high else "of 0 or more"),
                                    field=key)
        with self.lock:
            return json_response(drift.set_drift(self, body))

    def admin_events(self, req: Request) -> Response:
        with self.lock:
            return list_response(list(self.changes))

    def admin_cases(self, req: Request) -> Response:
        with self.lock:
            return list_response(list(self.cases))

    def admin_applications(self, req: Request) -> Response:
        with self.lock:
            items = [dict(a) for a in self.applications.values()]
        return json_response({"count": len(items), "items": items})


DRIFT_KEYS = {"step": "stepCode", "time": "eventTime", "case": "caseNo", "seq": "stepSeq", "extra_step": "40",
              "materials": "materials.material"}


class NdrcNewSim(NdrcSim):
    """The cloud copy of the approval system for the dual-track period: same seed, same
    cases, with the drift set by POST /_admin/drift (sims/drift.py)."""
    name = "ndrc_new"
