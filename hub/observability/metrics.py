"""The hub's metrics, one definition each. hub/runtime updates them where the work is
counted anyway (per page, per batch), never per message where a batch will do.

Labels are only department, destination, stage, track and verdict (tests/unit/
test_metrics_labels.py checks every metric and every value): a case number or a person's
data as a label would be personal data in the monitoring system and one time series per
case. Values come from the hub's own vocabulary (adapter departments, configured
destination names, dead-letter stages, old/new, comparison verdicts), never from a record.

With `tongban run --workers N` each worker process writes its values to files under
PROMETHEUS_MULTIPROC_DIR (set by the parent before it starts them); the parent's /metrics
adds them up (exposition.py). prometheus-client reads that variable when it is imported,
which is why a worker process is a fresh interpreter (spawn)."""
from __future__ import annotations

import os
import time

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

# The *_created series double the scrape and nothing here reads them.
disable_created_metrics()

LABELS = ("department", "destination", "stage", "track", "verdict")

RECORDS_READ = Counter("tongban_records_read", "Records read from legacy systems (every record of a page)",
                       ["department", "track"])
MESSAGES_PUBLISHED = Counter("tongban_messages_published", "Canonical messages published onward (confirmed)",
                             ["department", "track"])
DELIVERIES = Counter("tongban_deliveries", "Messages recorded delivered in the ledger (accepted, duplicate or twin)",
                     ["department", "destination", "track"])
RETRIES = Counter("tongban_retries", "Deliveries that failed transiently and went to a retry queue", ["destination"])
DEAD_LETTERS = Counter("tongban_dead_letters", "Dead letters published, by stage",
                       ["department", "destination", "stage"])
TWINS_COMPARED = Counter("tongban_twins_compared", "Dual-track comparisons decided, by verdict",
                         ["department", "verdict"])

# Buckets from a local call (ms) to a retry tier and beyond (minutes).
_LATENCY = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900)
LATENCY = Histogram("tongban_source_to_destination_seconds",
                    "Seconds from a record's mapping (its envelope's produced_at) to the destination's acceptance",
                    ["destination"], buckets=_LATENCY)
DELIVERY_DURATION = Histogram("tongban_delivery_duration_seconds", "Seconds one destination call took",
                              ["destination"], buckets=_LATENCY[:11])
# The newest moment each source had read everything its system offered; lag is now minus
# this (state.py). The maximum over processes: whoever held the source last knows best.
CAUGHT_UP = Gauge("tongban_source_caught_up_timestamp_seconds",
                  "Unix time a source last read to the end of its feed", ["department", "track"],
                  multiprocess_mode="max")

LOG_WRITABLE = Gauge("tongban_message_log_writable",
                     "1 while a source's message-log rows are written; 0: it stopped forwarding until they are "
                     "(no message onward without its evidence)", ["department", "track"], multiprocess_mode="livemin")


def message_log_writable(department: str, track: str, ok: bool) -> None:
    LOG_WRITABLE.labels(department, track).set(1 if ok else 0)


def message_log_released(department: str, track: str) -> None:
    """This process no longer reads the source: its log state is whoever reads it next's to say.
    With worker processes the value files cannot drop a series, so it no longer holds the
    minimum down (1); in one process the series goes."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        LOG_WRITABLE.labels(department, track).set(1)
        return
    try:
        LOG_WRITABLE.remove(department, track)
    except KeyError:
        pass


def source_page(department: str, track: str, records: int, published: int, caught_up: bool,
                started: float | None = None) -> None:
    """One source page: its records, what was published from them, whether it was the feed's end."""
    if records:
        RECORDS_READ.labels(department, track).inc(records)
    if published:
        MESSAGES_PUBLISHED.labels(department, track).inc(published)
    if caught_up:
        CAUGHT_UP.labels(department, track).set(time.time())
        _seeded.add((department, track))
    elif started is not None and (department, track) not in _seeded:
        # a source that has not caught up since this process took it: behind since then at least
        CAUGHT_UP.labels(department, track).set(started)
        _seeded.add((department, track))


_seeded: set[tuple[str, str]] = set()


def delivery_batch(destination: str, tally: dict, retried: int) -> None:
    """One delivery batch: {(department, track): delivered} and how many went to retry."""
    for (department, track), n in tally.items():
        DELIVERIES.labels(department, destination, track or "old").inc(n)
    if retried:
        RETRIES.labels(destination).inc(retried)


def dead_letter(department: str, destination: str | None, stage: str) -> None:
    DEAD_LETTERS.labels(department or "unknown", destination or "", stage).inc()


def compared(comparisons) -> None:
    """Dual-track comparisons decided in one batch (hub/dualtrack Comparison objects)."""
    tally: dict[tuple[str, str], int] = {}
    for c in comparisons or ():
        tally[(c.department, c.verdict)] = tally.get((c.department, c.verdict), 0) + 1
    for (department, verdict), n in tally.items():
        TWINS_COMPARED.labels(department, verdict).inc(n)


def delivered_one(destination: str, seconds: float, produced: float | None) -> None:
    """A destination call that succeeded: its duration, and the message's age when accepted."""
    DELIVERY_DURATION.labels(destination).observe(seconds)
    if produced is not None:
        LATENCY.labels(destination).observe(max(0.0, time.time() - produced))
