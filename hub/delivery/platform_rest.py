"""The unified platform (一体化在线政务服务平台): REST JSON with an Idempotency-Key header."""
from __future__ import annotations

import requests

from .base import DeliveryError, MessageMeta
from .http_outcome import outcome
from .retrying import within_attempt


class PlatformRest:
    def __init__(self, name: str, url: str, timeout: float = 10.0, **_):
        self.name = name
        self.endpoint = url.rstrip("/") + "/api/v1/messages"
        self.timeout = timeout
        self.session = requests.Session()
        self.session.trust_env = False

    @within_attempt()
    def send(self, body: bytes, meta: MessageMeta) -> str:
        try:
            resp = self.session.post(self.endpoint, data=body, timeout=self.timeout, headers={
                "Content-Type": "application/json; charset=utf-8",
                "Idempotency-Key": meta.message_id,
            })
        except requests.RequestException as exc:
            raise DeliveryError(f"platform unreachable: {exc.__class__.__name__}", transient=True) from None
        return outcome(resp.status_code, resp.text, "platform")

    def close(self) -> None:
        self.session.close()
