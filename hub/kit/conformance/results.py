"""A check's outcome, and the runner that times each and keeps going after a failure."""
from __future__ import annotations

import time
import traceback
from dataclasses import asdict, dataclass

from hub.model.masking import mask_text

from .subject import Failed


@dataclass
class Result:
    check: str
    ok: bool
    reason: str
    seconds: float

    def as_dict(self) -> dict:
        return asdict(self)


def run_one(name: str, fn, subject) -> Result:
    start = time.monotonic()
    try:
        reason = fn(subject) or "ok"
        ok = True
    except Failed as exc:
        ok, reason = False, str(exc)
    except Exception as exc:   # the adapter (or its simulator) broke: a failure of this check, named
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        ok, reason = False, (f"raised {type(exc).__name__}: {str(exc)[:300]} "
                             f"(at {frame.filename.rsplit('/', 2)[-1]}:{frame.lineno})")
    return Result(name, ok, mask_text(reason), round(time.monotonic() - start, 3))
