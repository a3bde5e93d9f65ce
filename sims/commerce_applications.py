"""Southbound intake of the registration system: the platform's applications arrive by
POST /api/v1/applications (JSON, its own field names), each is given a registration
application number (申请编号), and a receipt row (eventCode "00", 网上申请受理回执)
appears in the change feed, carrying the platform's 申办流水号."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from .base import HttpError, Request, Response, json_response

SHANGHAI = ZoneInfo("Asia/Shanghai")
REQUIRED = ("platformApplyNo", "itemCode", "entname", "uniscid")


def register(sim) -> None:
    def submit(req: Request) -> Response:
        body = req.json()
        if not isinstance(body, dict):
            raise HttpError(400, "body must be a JSON object")
        for key in REQUIRED:
            if not body.get(key):
                raise HttpError(400, f"missing field: {key}", field=key)
        with sim.lock:
            if body["platformApplyNo"] in sim.applications:
                return json_response({"status": "duplicate",
                                      "applyNo": sim.applications[body["platformApplyNo"]]["applyNo"]}, 409)
            sim.factory.serial += 1
            now = datetime.now(SHANGHAI)
            apply_no = f"SCJG{now.year}{sim.factory.serial:08d}"
            sim.applications[body["platformApplyNo"]] = {"applyNo": apply_no, **body}
            updated = sim._stamp()
            sim.keys.append((updated, sim.next_event_id))
            # never before the row written before it: the feed's bisect needs visibility in write order
            sim.visible_at.append(max(updated, sim.visible_at[-1]) if sim.visible_at else updated)
            sim.events.append({
                "eventId": sim.next_event_id, "applyNo": apply_no, "platformApplyNo": body["platformApplyNo"],
                "stepNo": 1, "eventCode": "00", "eventName": "网上申请受理回执",
                "eventTime": now.strftime("%Y-%m-%d %H:%M:%S"), "operator": "系统自动",
                "opinion": "已收件，进入受理", "itemCode": body["itemCode"], "itemName": body.get("itemName", ""),
                "contactPhone": body.get("contactPhone"),
                "registration": {"entname": body["entname"], "uniscid": body["uniscid"],
                                 "certType": body.get("certType", "A05300")},
                "updatedAt": updated.isoformat(timespec="microseconds"),
            })
            sim.next_event_id += 1
        return json_response({"status": "accepted", "applyNo": apply_no}, 201)

    def admin_applications(req: Request) -> Response:
        with sim.lock:
            items = [{"application_no": k, **v} for k, v in sim.applications.items()]
        return json_response({"count": len(items), "items": items})

    sim.route("POST", "/api/v1/applications", submit)
    sim.route("GET", "/_admin/applications", admin_applications)
