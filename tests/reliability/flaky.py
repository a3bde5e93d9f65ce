"""A platform destination that fails chosen messages on purpose, for the retry, hold and
breaker tests: the real REST client to the real platform simulator, with a failure
injected in front of it for the first message of a chosen case (the simulator's own
faults hit every message alike; these tests need one message to fail and the rest not).
"""
from __future__ import annotations

import math
import threading
import time

from hub import delivery
from hub.delivery import DeliveryError
from hub.delivery.platform_rest import PlatformRest

TYPE = "flaky_platform_rest"


class FlakyPlatform(PlatformRest):
    lock = threading.Lock()
    fail: dict[str, float] = {}        # case number -> transient failures left for its first message
    refuse: set[str] = set()            # case numbers whose first message is refused for good
    targets: dict[str, str] = {}        # case number -> the message id picked as its first
    calls: list[tuple[str, str | None, int | None, float, str]] = []  # (message id, case, sequence, time, result)

    @classmethod
    def reset(cls) -> None:
        with cls.lock:
            cls.fail, cls.refuse, cls.targets, cls.calls = {}, set(), {}, []

    @classmethod
    def fail_first(cls, case_no: str, times: float = math.inf) -> None:
        with cls.lock:
            cls.fail[case_no] = times

    @classmethod
    def heal(cls, case_no: str) -> None:
        with cls.lock:
            cls.fail.pop(case_no, None)
            cls.refuse.discard(case_no)

    @classmethod
    def calls_for(cls, message_id: str) -> list[str]:
        with cls.lock:
            return [c[4] for c in cls.calls if c[0] == message_id]

    def send(self, body: bytes, meta) -> str:
        case = meta.case_no
        with FlakyPlatform.lock:
            if case in FlakyPlatform.fail or case in FlakyPlatform.refuse:
                FlakyPlatform.targets.setdefault(case, meta.message_id)
            target = FlakyPlatform.targets.get(case) == meta.message_id
            left = FlakyPlatform.fail.get(case, 0) if target else 0
            refused = target and case in FlakyPlatform.refuse
            if left > 0:
                FlakyPlatform.fail[case] = left - 1
            result = "refused" if refused else "failed" if left > 0 else "sent"
            FlakyPlatform.calls.append((meta.message_id, case, meta.sequence, time.monotonic(), result))
        if refused:
            raise DeliveryError("injected refusal", transient=False)
        if left > 0:
            raise DeliveryError("injected transient failure", transient=True)
        return super().send(body, meta)


def install(monkeypatch, settings: dict) -> type[FlakyPlatform]:
    FlakyPlatform.reset()
    monkeypatch.setitem(delivery.TYPES, TYPE, FlakyPlatform)
    settings["destinations"]["platform"]["type"] = TYPE
    return FlakyPlatform
