"""The unified platform (一体化在线政务服务平台): REST JSON with an Idempotency-Key header.

Per call the client does only what differs between calls: the request is prepared once
(URL, method, the session's and the content's headers) and copied with the message's
body and key, then sent through the session (its adapters, pool and settings); the first
attempt runs without tenacity's per-call set-up, which a failed attempt still gets
(bench/delivery_clients.py measures it against a bare requests loop)."""
from __future__ import annotations


import requests

from .base import DeliveryError, MessageMeta
from .http_outcome import outcome
from .retrying import three_tries
from .sessions import keepalive_session, tls_failure, tls_verify


class PlatformRest:
    def __init__(self, name: str, url: str, timeout: float = 10.0, ca_bundle: str | None = None,
                 verify: bool = True, **_):
        self.name = name
        self.endpoint = url.rstrip("/") + "/api/v1/messages"
        self.timeout = timeout
        self.session = keepalive_session(verify=tls_verify(name, ca_bundle, verify))
        self._send = three_tries(self._post)
        self._template = self.session.prepare_request(requests.Request(
            "POST", self.endpoint, headers={"Content-Type": "application/json; charset=utf-8"}))

    def send(self, body: bytes, meta: MessageMeta) -> str:
        """Three attempts in all for a transient failure (retrying.three_tries)."""
        return self._send(body, meta)

    def _post(self, body: bytes, meta: MessageMeta) -> str:
        if isinstance(body, str):   # what requests' data= would have encoded
            body = body.encode("utf-8")
        req = self._template.copy()
        req.headers["Idempotency-Key"] = meta.message_id
        if meta.supersedes:   # the contract: an update replaces the version with this key
            req.headers["Supersedes"] = meta.supersedes
        req.headers["Content-Length"] = str(len(body))
        req.body = body
        try:
            resp = self.session.send(req, timeout=self.timeout)
        except requests.RequestException as exc:
            why = tls_failure(exc, self.name) or f"platform unreachable: {exc.__class__.__name__}"
            raise DeliveryError(why, transient=True) from None
        return outcome(resp.status_code, resp.text, "platform")

    def close(self) -> None:
        self.session.close()
