"""cursor: a restart at any saved cursor reads the same records again, none skipped, at every page
size; walking the whole feed loses nothing the simulator holds and reads nothing twice.
versions: re-reading a record gives the message ids it had; a record whose content the system
changed gives new ones, and only it does."""
from __future__ import annotations

from .subject import Failed

PAGE_SIZES = (1, 2, 5)


def walk(live, page: int, limit_pages: int = 2_000, cursor=None):
    """Read the feed to its end as the hub does, with a crash before every checkpoint: each page is
    read, the source thrown away, a new one built, the page read again from the same cursor and
    compared. Returns (records in order, cursor at the end)."""
    subject, source, got, idle = live.subject, live.source(), [], 0
    try:
        for _ in range(limit_pages):
            first = source.fetch(cursor, page)
            source.close()
            source = live.source()    # the hub died before saving the checkpoint; it starts again
            again = source.fetch(cursor, page)
            a, b = [r.key for r in first.records], [r.key for r in again.records]
            lost = [k for k in a if k not in b]
            if lost:   # more may come (the system moved on meanwhile), never fewer
                raise Failed(f"restart at cursor {cursor} (page size {page}): the first read gave {a[:6]}, the "
                             f"read after the restart {b[:6]}: {lost[:3]} skipped")
            second = {r.key: r for r in again.records}
            for x in first.records:
                y = second[x.key]
                if subject.ids(x) != subject.ids(y):
                    raise Failed(f"record {x.key} read again from cursor {cursor} makes other message ids "
                                 f"({subject.ids(x)} then {subject.ids(y)}): the content did not change")
            got += again.records
            if again.records:
                source.acknowledge(again, {})
                idle = 0
            elif not again.has_more:
                return got, cursor
            elif again.cursor == cursor:
                idle += 1
                if idle >= 3:
                    raise Failed(f"at cursor {cursor} the source answers empty pages that say has_more, and "
                                 f"the cursor does not move: the hub would poll there for ever")
            cursor = again.cursor
        raise Failed(f"the feed did not end within {limit_pages} pages of {page} (has_more stays true)")
    finally:
        source.close()


def check_cursor(subject) -> str:
    counts = {}
    for page in PAGE_SIZES:
        with subject.live() as live:
            expected = live.sim.load(subject.cases)
            records, _ = walk(live, page)
        keys = [r.key for r in records]
        twice = sorted({k for k in keys if keys.count(k) > 1})
        if twice:
            raise Failed(f"page size {page}: record(s) {twice[:3]} read twice on one walk of the feed")
        if len(keys) != expected:
            raise Failed(f"page size {page}: the simulator holds {expected} record(s), the source read "
                         f"{len(keys)}: {'lost' if len(keys) < expected else 'more than there are'}")
        counts[page] = len(keys)
    # each page size runs on a fresh simulator, whose records may carry other times: only counts compare
    return (f"{counts[PAGE_SIZES[0]]} records, restarted at every cursor with pages of "
            f"{', '.join(map(str, PAGE_SIZES))}: none lost, none read twice, each re-read with its ids")


def check_versions(subject) -> str:
    with subject.live() as live:
        live.sim.load(subject.cases)
        first, cursor = walk(live, 50)
        ids = {r.key: subject.ids(r) for r in first}
        if not any(ids.values()):
            raise Failed("no record of the feed maps to a message: nothing to compare ids of")
        touched = live.sim.touch()
        if touched is None:
            return (f"{len(ids)} records keep their ids when read again; the simulator changes no record "
                    f"(touch() gives None), so a changed record is not exercised")
        if touched not in ids:
            raise Failed(f"the simulator touched {touched!r}, a key the source never read")
        later, _ = walk(live, 50, cursor=cursor)
    again = {r.key: subject.ids(r) for r in later}
    if touched not in again:
        raise Failed(f"record {touched} was changed in the system but the source did not read it again")
    if again[touched] == ids[touched] or set(again[touched]) & set(ids[touched]):
        raise Failed(f"record {touched} changed but keeps its message id(s) {ids[touched]}: its record_version "
                     f"must change with its content, or the correction is dropped as a duplicate")
    stale = [k for k in again if k != touched and k in ids and again[k] != ids[k]]
    if stale:
        raise Failed(f"record(s) {stale[:3]} were not changed but come back with new ids")
    return f"{len(ids)} records keep their ids when read again; the changed record {touched} has a new id"
