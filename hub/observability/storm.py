"""A dead-letter storm, summarised: the first dead letter of a quiet spell is logged in full,
the rest are counted by stage, department, destination and kind of reason, and one line
every few seconds says how many and why. A bad batch of 10,000 records is then two lines
an operator can read, not 10,000 that bury everything else (the details are in the store:
`tongban dlq list`, and at DEBUG level in the log)."""
from __future__ import annotations

import atexit
import logging
import re
import threading

log = logging.getLogger("tongban.deadletters")

INTERVAL = 5.0

# What varies between dead letters of one cause: record keys, numbers, quoted values.
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_TOKEN = re.compile(r"[^\s:,;()]*\d[^\s:,;()]*")


def _token(m: re.Match) -> str:
    return m.group(0) if "@" in m.group(0) else "#"   # a mapping's name@version says where: kept


# A mapping failure's reason starts "validate failed in M for record K: ": the stage and the
# department are in the summary's key already, so only the mapping and what failed are kept.
_FAILED_IN = re.compile(r"^\w+ failed in (\S+) for record #: ")
KIND_CHARS = 100


def reason_kind(reason: str) -> str:
    """'record C-1207: invalid credit code 91330...' -> 'record #: invalid credit code #'; cut at
    a word, so that what is shown is words, not halves of them."""
    text = " ".join(_TOKEN.sub(_token, _QUOTED.sub("'…'", reason or "")).split())
    text = _FAILED_IN.sub(r"\1: ", text)
    if len(text) <= KIND_CHARS:
        return text
    cut = text.rfind(" ", 0, KIND_CHARS)
    return text[:cut if cut > KIND_CHARS // 2 else KIND_CHARS].rstrip(",;:") + "…"


class Storm:
    def __init__(self, interval: float = INTERVAL, logger: logging.Logger = log):
        self.interval, self.log = interval, logger
        self._lock = threading.Lock()   # dead letters are the exception: a lock each is fine
        self._counts: dict[tuple, int] = {}
        self._timer: threading.Timer | None = None

    def note(self, stage: str, department: str, destination: str | None, reason: str, key: str | None) -> None:
        extra = {"stage": stage, "department": department, "destination": destination}
        with self._lock:
            first = self._timer is None
            if first:
                self._timer = threading.Timer(self.interval, self.flush)
                self._timer.daemon = True
                self._timer.start()
            else:
                group = (stage, department, destination or "-", reason_kind(reason))
                self._counts[group] = self._counts.get(group, 0) + 1
        if first:
            self.log.warning("dead-lettered %s at stage %s: %s", key, stage, reason, extra=extra)
        else:
            self.log.debug("dead-lettered %s at stage %s: %s", key, stage, reason, extra=extra)

    def flush(self) -> None:
        with self._lock:
            counts, self._counts = self._counts, {}
            self._timer = None
        if not counts:
            return
        total = sum(counts.values())
        parts = [f"{stage}/{dept}{'' if dest == '-' else '->' + dest}: {n} ({kind})"
                 for (stage, dept, dest, kind), n in sorted(counts.items(), key=lambda kv: -kv[1])[:8]]
        more = f"; {len(counts) - 8} more kinds" if len(counts) > 8 else ""
        self.log.warning("%d more dead letter(s) in the last %.0f s: %s%s (tongban dlq list)",
                         total, self.interval, "; ".join(parts), more, extra={"stage": "summary"})


STORM = Storm()
atexit.register(STORM.flush)
