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
        n = pages = 0
        cursor, slowest = None, 0.0
        try:
            # a page may hold rows the source settles without handing on (a 前置库's context rows):
            # pages are read until page_size records came, and the slowest page is what counts
            while n < size and pages < 50:
                start = time.monotonic()
                page = source.fetch(cursor, size)
                slowest = max(slowest, time.monotonic() - start)
                pages += 1
                n += len(page.records)
                if page.records:
                    source.acknowledge(page, {})
                cursor = page.cursor
                if not page.has_more:
                    break
        finally:
            source.close()
    if n == 0:
        raise Failed(f"fetches of {size} from a feed holding {loaded} records gave none")
    rate = f"{n} record(s) in {pages} page(s), the slowest {slowest:.3f} s"
    if slowest > subject.page_budget:
        raise Failed(f"{rate}: over the page budget of {subject.page_budget:.1f} s")
    return f"{rate}, page_size {size}"
