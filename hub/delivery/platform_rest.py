"""The unified platform (一体化在线政务服务平台): REST JSON with an Idempotency-Key header."""
from __future__ import annotations

import requests

from .base import ACCEPTED, DUPLICATE, DeliveryError, MessageMeta
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
        if resp.status_code in (200, 201):
            return ACCEPTED
        if resp.status_code == 409:
            return DUPLICATE
        detail = resp.text[:200].replace("\n", " ")
        if resp.status_code in (408, 429) or resp.status_code >= 500:
            raise DeliveryError(f"platform answered HTTP {resp.status_code}: {detail}", transient=True)
        raise DeliveryError(f"platform refused the message: HTTP {resp.status_code}: {detail}", transient=False)

    def close(self) -> None:
        self.session.close()
