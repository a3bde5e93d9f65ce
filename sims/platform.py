"""The city's unified platform (一体化在线政务服务平台), REST side: it takes canonical
messages and refuses a repeat of an Idempotency-Key, which is how the hub's
"no duplicate effect" promise is checked from the outside."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from . import platform_applications
from .base import HttpError, Request, Response, SimServer, json_response

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Envelope keys the platform files a message under; case_no and sequence may be null
# (a service-item message belongs to no case) but must be there.
REQUIRED = ("message_id", "kind", "case_no", "sequence")


def check_envelope(body) -> dict:
    if not isinstance(body, dict):
        raise HttpError(400, "body must be a JSON object (the canonical envelope)")
    for key in REQUIRED:
        if key not in body:
            raise HttpError(400, f"missing field: {key}", field=key)
    for key in ("message_id", "kind"):
        if not isinstance(body[key], str) or not body[key].strip():
            raise HttpError(400, f"{key} must be a non-empty string", field=key)
    if body["case_no"] is not None and not isinstance(body["case_no"], str):
        raise HttpError(400, "case_no must be a string or null", field="case_no")
    seq = body["sequence"]
    if seq is not None and (isinstance(seq, bool) or not isinstance(seq, int)):
        raise HttpError(400, "sequence must be an integer or null", field="sequence")
    return body


class PlatformSim(SimServer):
    name = "platform"

    def setup_routes(self) -> None:
        self.route("POST", "/api/v1/messages", self.messages)
        self.route("GET", "/_admin/received", self.admin_received)
        self.route("GET", "/_admin/stats", self.admin_stats)
        platform_applications.register(self)

    def reset_state(self) -> None:
        self.desk = platform_applications.ApplicationDesk(self.seed)
        self.keys: set[str] = set()
        self.received: list[dict] = []
        self.duplicates_refused = 0

    def messages(self, req: Request) -> Response:
        key = req.headers.get("idempotency-key", "").strip()
        if not key:
            raise HttpError(400, "missing Idempotency-Key header", field="Idempotency-Key")
        body = check_envelope(req.json())
        with self.lock:
            if key in self.keys:
                self.duplicates_refused += 1
                return json_response({"status": "duplicate"}, 409)
            self.keys.add(key)
            self.received.append({
                "idempotency_key": key,
                "message_id": body["message_id"],
                "kind": body["kind"],
                "case_no": body["case_no"],
                "sequence": body["sequence"],
                "received_at": datetime.now(SHANGHAI).isoformat(timespec="microseconds"),
                # an update of a step: the Idempotency-Key of the version it replaces
                "supersedes": req.headers.get("supersedes") or None,
                "body": body,
            })
        return json_response({"status": "accepted"}, 201)

    def admin_received(self, req: Request) -> Response:
        with self.lock:
            items = list(self.received)
        return json_response({"count": len(items), "items": items})

    def admin_stats(self, req: Request) -> Response:
        with self.lock:
            return json_response({"accepted": len(self.received),
                                  "duplicates_refused": self.duplicates_refused})
