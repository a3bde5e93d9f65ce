"""Source worker: fetch after the checkpoint, map, publish confirmed, then advance.

Invariant 1: the checkpoint moves only after the broker confirmed every message made
from the records before it, dead letters included. A crash anywhere before that
re-reads the page; deterministic message ids make the re-read harmless downstream."""
from __future__ import annotations

import logging
from dataclasses import dataclass

from hub.adapter import Page
from hub.bus import ConfirmingPublisher, names
from hub.mapping import MappingSet, RecordError
from hub.runtime.deadletters import publish_dead_letter

log = logging.getLogger("tongban.source")


@dataclass
class PollResult:
    records: int
    published: int
    dead_lettered: int
    has_more: bool


class SourceWorker:
    def __init__(self, *, name: str, department: str, system: str, track: str, source, mappings: MappingSet,
                 publisher: ConfirmingPublisher, store, page_size: int = 200):
        self.name = name            # checkpoint key, e.g. "commerce:old"
        self.department = department
        self.system = system
        self.track = track
        self.source = source
        self.mappings = mappings
        self.publisher = publisher
        self.store = store
        self.page_size = page_size

    def poll_once(self) -> PollResult:
        cursor = self.store.get_checkpoint(self.name)
        page: Page = self.source.fetch(cursor, self.page_size)
        published, dead, log_rows = 0, 0, []
        for rec in page.records:
            try:
                envelopes = self.mappings.apply(self.system, rec.data, track=self.track)
            except RecordError as err:
                publish_dead_letter(self.publisher, rec.raw.encode("utf-8"), stage=err.stage, reason=err.reason,
                                    department=self.department, record_key=err.record_key or rec.key,
                                    case_no=_case_of(rec.data))
                dead += 1
                continue
            for env in envelopes:
                body = env.model_dump_json().encode("utf-8")
                mid = str(env.message_id)
                self.publisher.publish(body, names.EVENTS, env.routing_key, message_id=mid, headers={
                    names.H_DEPARTMENT: self.department, names.H_KIND: env.kind,
                    names.H_CASE_NO: env.case_no or "", names.H_SEQUENCE: env.sequence or 0,
                    names.H_TRACK: self.track, names.H_RECORD_KEY: env.record_key,
                })
                log_rows.append({
                    "message_id": mid, "kind": env.kind, "department": self.department, "system": self.system,
                    "track": self.track, "case_no": env.case_no, "sequence": env.sequence,
                    "routing_key": env.routing_key, "mapping": env.mapping, "record_key": env.record_key,
                    "produced_at": env.produced_at,
                })
                published += 1
        self.publisher.flush()
        if log_rows:
            self.store.log_messages(log_rows)
        if page.records:
            self.store.save_checkpoint(self.name, page.cursor)
        return PollResult(len(page.records), published, dead, page.has_more)


def _case_of(data: dict) -> str | None:
    for key in ("applyNo", "case_no", "caseNo", "SPSXSLBM"):
        if isinstance(data.get(key), str):
            return data[key]
    return None
