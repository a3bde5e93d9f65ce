"""The bad-input suite's pipeline: a real SourceWorker with a real ConfirmingPublisher on the
test session's vhost, fed by a real adapter source, its dead letters recorded into the
suite's store by the hub's own recorder (DeadLetterRecorder.record), its published
messages captured from a queue bound to both exchanges and validated as canonical envelopes.

Every poll is tallied for the BADINPUT line (conftest.py): each record the source produced is
a case, processed (published) or dead-lettered (an unreadable page of one, dead-lettered at
stage fetch by hub/runtime/unreadable.py, counts as one); a page the source refused as a whole
(SourceUnavailable: the cursor stays, the page is asked for again) is a refused case; any
other exception out of poll_once is a crash."""
from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field

from hypothesis import HealthCheck, settings

from hub import bus
from hub.adapter import Page, RawRecord, SourceUnavailable
from hub.bus import Delivery, names
from hub.mapping import MappingSet
from hub.model import Envelope
from hub.model.masking import mask_text
from hub.runtime.deadletters import DeadLetterRecorder, to_row
from hub.runtime.source_worker import SourceWorker
from hub.runtime.unreadable import FetchFailure, PageMemory

EXAMPLES = int(os.environ.get("TONGBAN_BADINPUT_EXAMPLES", "60"))
# Examples per property: moderate for CI (the folder runs in a few minutes); raise with
# TONGBAN_BADINPUT_EXAMPLES=500 for a long local run. No example database in the repo.
BI = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=not os.environ.get(
    "TONGBAN_BADINPUT_RANDOM"), suppress_health_check=list(HealthCheck))
CAPTURE = "tongban.badinput.capture"
TALLY = {"cases": 0, "processed": 0, "dead_lettered": 0, "crashes": 0, "refused": 0, "fetch": 0}
MAPPINGS = MappingSet.load()

# Personal data as it appears in inputs: resident IDs (ASCII or full-width digits) and mobiles.
_ID = re.compile(r"(?<![0-9A-Za-z０-９])\d{17}[\dXxＸｘ](?![0-9A-Za-z０-９])")
_MOBILE = re.compile(r"(?<!\d)[1１][3-9３-９]\d{9}(?!\d)")


def pii_in(text: str) -> set[str]:
    return set(_ID.findall(text)) | set(_MOBILE.findall(text))


@dataclass
class Outcome:
    records: list[RawRecord] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)     # rec.key -> reason, as the worker said
    dead: list[dict] = field(default_factory=list)             # store rows of this poll's dead letters
    envelopes: list[Envelope] = field(default_factory=list)    # what was published, re-validated
    refused: str | None = None                                 # SourceUnavailable: the page as a whole

    def processed(self, rec: RawRecord) -> bool:
        return rec.key not in self.failures

    def row_of(self, rec: RawRecord) -> dict:
        rows = [r for r in self.dead if _payload(r) == rec.raw]
        assert rows, f"no dead letter carries record {rec.key}'s payload"
        return rows[0]


def _payload(row: dict) -> str:
    p = row["payload"]
    return p.decode("utf-8", "surrogateescape") if isinstance(p, bytes) else p


class _Recording:
    """Wraps a source: remembers the page the worker took (the one it acknowledged: an unreadable
    page is asked for again in smaller pages, and a probe's page is not taken) and what the
    worker reported as failed."""

    def __init__(self, source):
        self.source, self.page, self.failures = source, None, None

    def fetch(self, cursor, limit) -> Page:
        return self.source.fetch(cursor, limit)

    def acknowledge(self, page, failures) -> None:
        self.page, self.failures = page, dict(failures)
        ack = getattr(self.source, "acknowledge", None)
        if ack is not None:
            ack(page, failures)

    def __getattr__(self, name):   # the source's settings (unreadable_attempts) as the worker reads them
        if name == "source":
            raise AttributeError(name)
        return getattr(self.source, name)


class Pipeline:
    def __init__(self, broker_url: str, store):
        self.store = store
        self.conn = bus.connect(broker_url)
        bus.declare(self.conn, [], ())
        self.channel = self.conn.channel()
        self.channel.queue_declare(CAPTURE, durable=False, exclusive=True, auto_delete=True)
        for exchange in (names.EVENTS, names.COMMANDS):
            self.channel.queue_bind(CAPTURE, exchange=exchange, routing_key="#")
        self.channel.queue_purge(names.DEAD_QUEUE)
        self.publisher = bus.ConfirmingPublisher(self.conn)
        # by source name: what each remembers of an unreadable page outlives the worker built per poll,
        # as the runner keeps it across the supervisor's rebuilds (hub/runtime/unreadable.py)
        self.pages: dict[str, PageMemory] = {}

    def close(self) -> None:
        self.publisher.close()
        self.conn.release()

    def poll(self, source, *, system: str, department: str, name: str, page_size: int = 200,
             tally: bool = True, max_record_bytes: int | None = None) -> Outcome:
        """One poll_once; a page refused as a whole comes back as Outcome.refused, anything
        else that escapes is counted a crash and raised. max_record_bytes: the adapter's setting,
        as SourceLoop hands it to the worker."""
        rec = _Recording(source)
        # Every example is a variant of the same records: here each is judged as it is, not as
        # a conflict with the variant before (tests/reliability/test_conflicts.py covers those).
        self.store.forget_versions(name)
        worker = SourceWorker(name=name, department=department, system=system, track="old", source=rec,
                              mappings=MAPPINGS, publisher=self.publisher, store=self.store, page_size=page_size,
                              max_record_bytes=max_record_bytes,
                              page_memory=self.pages.setdefault(name, PageMemory()))
        out = Outcome()
        try:
            worker.poll_once()
        except SourceUnavailable as exc:
            out.refused = str(exc) or exc.__class__.__name__
        except Exception:
            TALLY["crashes"] += tally
            raise
        finally:
            out.dead = self._drain_dead()
            out.envelopes = self._drain_capture()
        if out.refused is None:
            out.records = rec.page.records if rec.page else []
            out.failures = rec.failures or {}
        if tally:
            if out.refused is not None:
                TALLY["cases"] += 1
                TALLY["refused"] += 1
            TALLY["cases"] += len(out.records)
            TALLY["dead_lettered"] += len(out.failures)
            TALLY["fetch"] += sum(isinstance(r, FetchFailure) for r in out.records if not out.processed(r))
            TALLY["processed"] += len(out.records) - len(out.failures)
        return out

    def _drain_dead(self) -> list[dict]:
        rows, recorder = [], DeadLetterRecorder(self.store)
        while (m := self.channel.basic_get(names.DEAD_QUEUE, no_ack=True)) is not None:
            body = m.body.encode("utf-8") if isinstance(m.body, str) else m.body   # py-amqp decodes UTF-8 bodies
            d = Delivery(body=body, headers=dict(m.headers or {}), routing_key=m.delivery_info["routing_key"],
                         message_id=m.properties.get("message_id"), redelivered=False)
            recorder.record(d)        # what its handle does, minus the ack
            rows.append(to_row(d, names.DEAD_QUEUE))
        return rows

    def _drain_capture(self) -> list[Envelope]:
        out = []
        while (m := self.channel.basic_get(CAPTURE, no_ack=True)) is not None:
            out.append(Envelope.model_validate_json(m.body))   # whatever was processed is canonical
        return out


# --- what every outcome must show -------------------------------------------------------------
def check(out: Outcome, *, names_of, log_text: str = "", extra_pii: set[str] = frozenset()) -> None:
    """The rules of the suite for one poll: each record processed or dead-lettered with a masked
    reason that names it; no resident ID or mobile number of the input in a reason or a log line."""
    assert len(out.dead) >= len(out.failures), "a record the worker failed has no dead letter"
    processed = sum(out.processed(r) for r in out.records)
    assert len(out.envelopes) >= processed, "a record counted as processed published nothing"
    for rec in out.records:
        if not out.processed(rec):
            row = out.row_of(rec)
            names = {mask_text(n) for n in names_of(rec) if n}
            assert any(n in row["reason"] for n in names) or row["record_key"] in names, \
                f"the dead letter does not name record {names}: {row['record_key']}: {row['reason']}"
            assert row["stage"] in ("fetch", "decode", "map", "validate"), row
    pii = set(extra_pii)
    for rec in out.records:
        pii |= pii_in(rec.raw)
    texts = [r["reason"] for r in out.dead] + [log_text] + ([out.refused] if out.refused else [])
    for token in pii:
        for text in texts:
            assert token not in text, f"personal data {token[:4]}… shown unmasked in: {text[:300]}"


def check_sandwich(out, m, *, must_fail: bool | None = None, fields=None) -> None:
    """One mutated record between two good ones: the good ones processed; the bad one refused
    when it must be, and when refused, with a reason that names one of its fields."""
    first, bad, last = out.records
    assert out.processed(first) and out.processed(last), out.failures
    if m.must_fail if must_fail is None else must_fail:
        assert not out.processed(bad), f"{m} was let through"
    if not out.processed(bad):
        fields = m.fields if fields is None else fields
        reason = out.row_of(bad)["reason"]
        assert names_reason(reason, fields), f"{m}: the reason names none of {fields}: {reason}"


def names_reason(reason: str, fields) -> bool:
    """Does a reason name one of these fields (dotted paths or canonical names)?"""
    return any(re.search(rf"(?<![\w.]){re.escape(f)}(?![\w])", reason) for f in fields if f)


class LogWatch:
    """Log lines as production would print them: the hub's masking filter on the handler, zeep
    at WARNING (hub.logs.setup). Tracebacks are not masked by that filter, so they count too."""

    def __init__(self, caplog):
        from hub.logs import MaskingFilter
        self.caplog = caplog
        caplog.set_level(logging.INFO)
        logging.getLogger("zeep").setLevel(logging.WARNING)
        if not any(isinstance(f, MaskingFilter) for f in caplog.handler.filters):
            caplog.handler.addFilter(MaskingFilter())
        self.mark = 0

    def start(self) -> None:
        self.mark = len(self.caplog.text)

    def text(self) -> str:
        return self.caplog.text[self.mark:]
