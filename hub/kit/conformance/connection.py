"""connection: check() answers ok against the running simulator, and ok=False (not an exception)
once it is gone. timing: one page of page_size records is read within the page budget."""
from __future__ import annotations

import time

from .subject import Failed


def check_connection(subject) -> str:
    with subject.live() as live:
        adapter = live.adapter()
        up = adapter.check()
        if not up.ok:
            raise Failed(f"check() against the running simulator says not ok: {up.detail}")
        live.sim.stop()
        try:
            down = adapter.check()
        except Exception as exc:
            raise Failed(f"check() with the system gone raised {type(exc).__name__} instead of answering "
                         f"ok=False: {str(exc)[:200]}") from None
        if down.ok:
            raise Failed(f"check() says ok with the system gone: {down.detail}")
    return f"up: {up.detail}; gone: {down.detail}"


def check_timing(subject) -> str:
    with subject.live() as live:
        adapter = live.adapter()
        size = int(adapter.config.get("page_size") or 200)
        loaded, cases = 0, max(1, subject.cases)
        while loaded < size:
            loaded += live.sim.load(cases)
            cases *= 2
        source = adapter.source()
        try:
            start = time.monotonic()
            page = source.fetch(None, size)
            seconds = time.monotonic() - start
        finally:
            source.close()
    n = len(page.records)
    if n == 0:
        raise Failed(f"a fetch of {size} from a feed holding {loaded} records gave none")
    rate = f"{n} record(s) in {seconds:.3f} s ({n / seconds if seconds else float('inf'):,.0f}/s)"
    if seconds > subject.page_budget:
        raise Failed(f"{rate}: over the page budget of {subject.page_budget:.1f} s")
    return f"{rate}, page_size {size}"
