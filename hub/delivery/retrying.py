"""One bounded tenacity policy for retries inside a single delivery attempt."""
from __future__ import annotations

from tenacity import retry, retry_if_exception, stop_after_attempt, wait_exponential

from .base import DeliveryError


def _transient(exc: BaseException) -> bool:
    return isinstance(exc, DeliveryError) and exc.transient


def within_attempt(attempts: int = 3, max_wait: float = 1.0):
    return retry(retry=retry_if_exception(_transient), stop=stop_after_attempt(attempts),
                 wait=wait_exponential(multiplier=0.05, max=max_wait), reraise=True)
