"""Delivers a canonical application to the 投资项目审批 system through SubmitApplication.

The system refuses a repeat of an applicationNo with code 1 (and the first acceptNo), so
the call is idempotent and may be retried even after the request reached the server
(a reply cut off on the way back is the case that needs it). Its receipt, with its own
acceptNo, comes back northbound through the change feed, not through this answer."""
from __future__ import annotations

import json

from hub.adapter import ACCEPTED, DUPLICATE, DeliveryError, MessageMeta, Sink, within_attempt

from .client import CallFailed, SoapClient

# canonical id_type -> the system's certificate type code. A05300 (统一社会信用代码) is
# REFERENCE §2's; A05100 for a resident ID is invented. Passports have no code there.
ID_TYPES = {"uscc": "A05300", "resident_id": "A05100"}


def build_request(body: bytes) -> dict:
    """SubmitApplication's parameters, or a permanent DeliveryError naming what is wrong."""
    try:
        envelope = json.loads(body)
        app = envelope["payload"]
        if app.get("kind") != "application":
            raise ValueError(f"payload kind is {app.get('kind')!r}")
        if app.get("department") != "ndrc":
            raise ValueError(f"the application is for department {app.get('department')!r}, not ndrc")
        applicant = app["applicant"]
        request = {"applicationNo": app["application_no"], "itemCode": app["item_code"],
                   "applicantName": applicant["name"], "applicantIdNumber": applicant["id_number"]}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise DeliveryError(f"not a canonical application envelope: {exc.__class__.__name__}: {exc}",
                            transient=False) from None
    if applicant.get("id_type") not in ID_TYPES:
        raise DeliveryError(f"application {request['applicationNo']}: applicant.id_type "
                            f"{applicant.get('id_type')!r} cannot be sent; the project approval system "
                            f"takes only {', '.join(ID_TYPES)}", transient=False)
    request["applicantIdType"] = ID_TYPES[applicant["id_type"]]
    form = app.get("form") or {}
    request["projectCode"] = form.get("project_code") or None   # absent: the system assigns one (赋码)
    request["payload"] = json.dumps(app, ensure_ascii=False)
    return request


class NdrcSink(Sink):
    def __init__(self, name: str, wsdl: str, timeout: float = 10.0):
        self.name = name
        self.client = SoapClient(wsdl, timeout)

    def send(self, body: bytes, meta: MessageMeta) -> str:
        return self._submit(build_request(body))

    @within_attempt()
    def _submit(self, request: dict) -> str:
        try:
            result = self.client.call("SubmitApplication", **request)
        except CallFailed as exc:
            raise DeliveryError(f"ndrc SubmitApplication {request['applicationNo']}: {exc.reason}",
                                exc.transient) from None
        code = str(getattr(result, "code", ""))
        if code == "0":
            return ACCEPTED
        if code == "1":
            return DUPLICATE
        raise DeliveryError(f"ndrc refused application {request['applicationNo']}: code {code} "
                            f"{getattr(result, 'message', '')}", transient=False)

    def close(self) -> None:
        self.client.close()
