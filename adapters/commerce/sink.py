"""Sends a canonical application down to the registration system (REST POST, its own
field names). A repeat is refused by the system (409) and counts as already delivered."""
from __future__ import annotations

import json

import requests

from hub.adapter import DeliveryError, Sink, outcome, within_attempt


def to_commerce(envelope: dict) -> dict:
    app = envelope["payload"]
    applicant = app["applicant"]
    return {
        "platformApplyNo": app["application_no"],
        "itemCode": app["item_code"],
        "itemName": (app.get("form") or {}).get("item_name", ""),
        "entname": applicant["name"],
        "uniscid": applicant["id_number"],
        # The founder of a company to be may apply as a person, with a resident ID.
        "certType": {"uscc": "A05300", "resident_id": "A01100"}.get(applicant["id_type"], "A09900"),
        "contactPhone": applicant.get("phone"),
        "submitTime": app["submitted_at"],
    }


class CommerceSink(Sink):
    def __init__(self, name: str, url: str, timeout: float):
        self.name = name
        self.endpoint = url.rstrip("/") + "/api/v1/applications"
        self.timeout = timeout
        self.session = requests.Session()
        self.session.trust_env = False

    @within_attempt()
    def send(self, body: bytes, meta) -> str:
        try:
            payload = to_commerce(json.loads(body))
        except (ValueError, KeyError, TypeError) as exc:
            raise DeliveryError(f"not a canonical application: {exc}", transient=False) from None
        try:
            resp = self.session.post(self.endpoint, json=payload, timeout=self.timeout)
        except requests.RequestException as exc:
            raise DeliveryError(f"registration system unreachable: {exc.__class__.__name__}", transient=True) from None
        return outcome(resp.status_code, resp.text, "registration system")

    def close(self) -> None:
        self.session.close()
