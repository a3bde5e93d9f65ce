"""One bounded tenacity policy for retries inside a single delivery attempt."""
from __future__ import annotations

import time

from tenacity import retry, retry_if_exception, stop_after_attempt, wait_exponential

from .base import DeliveryError


def _transient(exc: BaseException) -> bool:
    return isinstance(exc, DeliveryError) and exc.transient


def within_attempt(attempts: int = 3, max_wait: float = 1.0):
    return retry(retry=retry_if_exception(_transient), stop=stop_after_attempt(attempts),
                 wait=wait_exponential(multiplier=0.05, max=max_wait), reraise=True)


# within_attempt()'s first wait: after a transient failure, the next attempt comes this much later
FIRST_WAIT = 0.05


def three_tries(call):
    """`call(body, meta)` with three attempts in all for a transient failure: the first
    without tenacity's per-call set-up (the common case is one attempt that succeeds), the
    other two under within_attempt's policy."""
    again = within_attempt(attempts=2)(call)

    def send(body, meta):
        try:
            return call(body, meta)
        except DeliveryError as err:
            if not err.transient:
                raise
        time.sleep(FIRST_WAIT)
        return again(body, meta)
    return send
