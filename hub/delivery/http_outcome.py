"""How an HTTP answer reads as a delivery outcome, for every REST destination and sink alike:
2xx accepted, 409 already there (the idempotency key or the business key was seen), 408/429/5xx
worth another attempt, any other answer a refusal that retrying will not change."""
from __future__ import annotations

from .base import ACCEPTED, DUPLICATE, DeliveryError


def outcome(status: int, text: str, who: str) -> str:
    if status in (200, 201):
        return ACCEPTED
    if status == 409:
        return DUPLICATE
    detail = text[:200].replace("\n", " ")
    if status in (408, 429) or status >= 500:
        raise DeliveryError(f"{who} answered HTTP {status}: {detail}", transient=True)
    raise DeliveryError(f"{who} refused the message: HTTP {status}: {detail}", transient=False)
