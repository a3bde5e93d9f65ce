"""Source worker: fetch after the checkpoint, map, publish confirmed, then advance.

Invariant 1: the checkpoint moves only after the broker confirmed every message made
from the records before it, dead letters included. A crash anywhere before that
re-reads the page; deterministic message ids make the re-read harmless downstream."""
from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass

from hub.adapter import Page
from hub.bus import ConfirmingPublisher, names
from hub.mapping import MappingSet, RecordError
from hub.observability import metrics
from hub.runtime.deadletters import DeadLetterRecorder, publish_dead_letter
from hub.runtime.conflicts import CONFLICT, SAME, UPDATE, ConflictCheck
from hub.runtime.outbound import exchange_of, headers_of, log_row
from hub.runtime.sequence import read_before
from hub.runtime.takeover import Takeover
from hub.runtime.tracks import policy
from hub.runtime.unreadable import FetchFailure, PageMemory, PageReader

log = logging.getLogger("tongban.source")


@dataclass
class PollResult:
    records: int
    published: int
    dead_lettered: int
    has_more: bool


class SourceWorker:
    def __init__(self, *, name: str, department: str, system: str, track: str, source, mappings: MappingSet,
                 publisher: ConfirmingPublisher, store, page_size: int = 200, check=None, mode_of=None,
                 max_record_bytes: int | None = None, change_of=None, unreadable_attempts: int | None = None,
                 page_memory: PageMemory | None = None, project=None):
        self.name = name            # checkpoint key, e.g. "commerce:old"
        self.department = department
        self.system = system
        self.track = track
        self.source = source
        self.mappings = mappings
        self.publisher = publisher
        self.store = store
        self.recorder = DeadLetterRecorder(store)
        self.page_size = page_size
        # Extra validation after mapping (e.g. the item must be in the provincial catalogue);
        # raises RecordError to dead-letter the record.
        self.check = check or (lambda env: None)
        # The adapter's size limit, applied here so that every adapter has one and says it alike.
        self.max_record_bytes = max_record_bytes
        # department -> dual-track mode; without dual-track every source is the old, primary track
        self.mode_of = mode_of or (lambda department: "off")
        # A page the system cannot serve readably is asked for in smaller pages, then dead-lettered
        # at stage "fetch" and stepped past or held (hub/runtime/unreadable.py). What it remembers
        # between polls outlives this worker when its builder keeps page_memory.
        self._started = time.time()    # the cursor lag metric's start until the feed's end is reached
        self.pages = PageReader(name, system, source, page_memory or PageMemory(), unreadable_attempts)
        # department -> its last stored mode change: a track that becomes primary first takes over
        # what the other left unrouted (hub/runtime/takeover.py)
        self.takeover = None if change_of is None else Takeover(
            name=name, department=department, system=system, track=track, store=store, publisher=publisher,
            change_of=change_of, sequence_mode=mappings.sequence_mode)
        # the message log's chain heads of this source, cached between pages (hub/store/messages.py);
        # cleared whenever a page's transaction fails, so the next one re-reads them
        self.chain_heads: dict = {}
        # a page published (confirmed) whose log rows could not be written: written first, and no
        # further page is read or published until they are (no forwarding without evidence)
        self._unlogged = None
        # what the hub routed, folded into the monthly report's case rows in the page's own
        # transaction (hub/report/feed.py says why there)
        if project is None:
            from hub.report.feed import CaseFeed
            project = CaseFeed(store)
        self.project = project

    def poll_once(self) -> PollResult:
        if self._unlogged is not None:
            if not self._commit(*self._unlogged):
                return PollResult(0, 0, 0, False)
            page, failures, published = self._unlogged[0], self._unlogged[3], self._unlogged[4]
            self._unlogged = None
            log.warning("source %s: message log written again: forwarding resumes", self.name)
            return self._finish(page, failures, published)
        route = policy(self.mode_of(self.department), self.track)
        if not route.active:
            return PollResult(0, 0, 0, False)
        if route.to_events and self.takeover is not None and not self.takeover.settled():
            return PollResult(0, 0, 0, False)
        cursor = self.store.get_checkpoint(self.name)
        page: Page = self.pages.fetch(cursor, self.page_size)
        published, log_rows, failures, routed = 0, [], {}, []
        mapped = []
        for rec in page.records:
            if rec.error is not None:
                stage = rec.stage if isinstance(rec, FetchFailure) else "decode"
                self._dead(rec, stage, f"record {rec.key}: {rec.error}", rec.key, failures)
                continue
            size = len(rec.raw.encode("utf-8", "surrogateescape")) if self.max_record_bytes else 0
            if size > (self.max_record_bytes or 0):
                self._dead(rec, "decode", f"record {rec.key} is {size} bytes, over the limit of "
                           f"{self.max_record_bytes} bytes (max_record_bytes)", rec.key, failures)
                continue
            try:
                envelopes = self.mappings.apply(self.system, rec.data, track=self.track)
                for env in envelopes:
                    self.check(env)
            except RecordError as err:
                self._dead(rec, err.stage, err.reason, err.record_key or rec.key, failures)
                continue
            mapped.append((rec, envelopes))
        # the shadow track is compared, never routed: the comparator, not this, judges its versions
        with self.store.reading():
            versions = ConflictCheck(self.store, self.name, [e for _, es in mapped for e in es]) \
                if mapped and route.to_events else None
            read = self._steps_read([e for _, es in mapped for e in es]) if route.to_events else {}
        for rec, envelopes in mapped:
            judged = [(env, versions.judge(env, self.mappings.versions_mode(env.mapping) == "supersede")
                       if versions else None) for env in envelopes]
            clash = next(((e, j) for e, j in judged if j and j.verdict == CONFLICT), None)
            if clash:
                env, j = clash
                self._dead(rec, "conflict", j.reason(env, versions.payload_of(env)), rec.key, failures)
                continue
            for env, j in judged:
                if j and j.verdict == SAME and str(env.message_id) != j.prior["message_id"]:
                    # the same content under a new version: the message sent before, again, so
                    # the ledger makes it the no-op an exact replay is
                    env = env.model_copy(update={"message_id": uuid.UUID(j.prior["message_id"])})
                body = env.model_dump_json().encode("utf-8")
                mid = str(env.message_id)
                headers = headers_of(env, self.department, self.track, self.mappings.sequence_mode(env.mapping))
                if j and j.verdict == UPDATE:
                    headers[names.H_SUPERSEDES] = j.prior["message_id"]
                if env.case_no in read and env.sequence is not None:
                    through, highest = read_before(read[env.case_no])
                    headers[names.H_READ_THROUGH], headers[names.H_READ_MAX] = through, highest
                if route.to_compare:
                    self.publisher.publish(body, names.COMPARE, env.routing_key, message_id=mid, headers=headers)
                if not route.to_events:
                    continue   # the shadow track is compared, never routed onward (invariant 6)
                self.publisher.publish(body, exchange_of(env), env.routing_key, message_id=mid, headers=headers)
                log_rows.append(log_row(env, self.department, self.system, self.track))
                routed.append(env)
                if env.case_no in read and env.sequence is not None:
                    read[env.case_no].add(env.sequence)
                if j and j.verdict != SAME:
                    versions.remember(env)
                published += 1
        self.publisher.flush()
        if not self._commit(page, log_rows, versions, failures, published, routed):
            self._unlogged = (page, log_rows, versions, failures, published, routed)
            return PollResult(len(page.records), published, len(failures), False)
        return self._finish(page, failures, published)

    def _commit(self, page, log_rows, versions, failures, published, routed=()) -> bool:
        """The page's log rows, versions and checkpoint, together. False when the store refused
        them: the hub has forwarded this page without its evidence, and forwards nothing more
        from this source until they are written (the next poll tries again)."""
        try:
            with self.store.unit():   # the page's log rows, versions and checkpoint land together
                if log_rows:
                    self.store.log_messages(log_rows, heads=self.chain_heads, chain=self.name)
                if routed:
                    self.project(routed)   # never raises: its own savepoint, its own error log
                if versions is not None:
                    versions.save()
                if page.records:
                    self.store.save_checkpoint(self.name, page.cursor)
        except Exception as exc:   # the store's trouble, whatever it is: stop, say so, try again
            self.chain_heads.clear()
            metrics.message_log_writable(self.department, self.track, False)
            log.error("source %s: the message log cannot be written (%s: %s): forwarding stopped until it can",
                      self.name, type(exc).__name__, exc)
            return False
        metrics.message_log_writable(self.department, self.track, True)
        return True

    def _finish(self, page, failures, published) -> PollResult:
        if page.records:
            self.source.acknowledge(page, failures)   # after the commit: never hold the store across a call out
        metrics.source_page(self.department, self.track, len(page.records), published, not page.has_more,
                            self._started)
        return PollResult(len(page.records), published, len(failures), page.has_more)

    def _steps_read(self, envelopes: list) -> dict[str, set[int]]:
        """case -> the step numbers routed onward before this page, for the headers that let
        a destination tell an early step without asking the store (hub/runtime/sequence.py)."""
        cases = {e.case_no for e in envelopes if e.case_no and e.sequence is not None}
        if not cases:
            return {}
        steps = self.store.case_steps(sorted(cases))
        return {c: {r["sequence"] for r in steps.get(c, ())} for c in cases}

    def _dead(self, rec, stage: str, reason: str, key: str, failures: dict) -> None:
        # surrogatepass: a lone surrogate in what an adapter read must not crash the dead letter itself
        payload = rec.payload if isinstance(rec, FetchFailure) else rec.raw.encode("utf-8", "surrogatepass")
        case_no = self.mappings.case_no_of(self.system, rec.data)
        letter = publish_dead_letter(self.publisher, payload, stage=stage, reason=reason,
                                     department=self.department, record_key=key, case_no=case_no, track=self.track)
        if case_no:
            # Recorded before the case's next record is read, not when the recorder gets to it: at
            # every destination the case's later messages wait for it (a gate, hub/runtime/hold.py).
            self.recorder.record(letter)
        failures[rec.key] = reason

