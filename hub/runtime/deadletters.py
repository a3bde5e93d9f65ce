"""Dead letter channel (EIP): what cannot be mapped, validated, routed or delivered is
published to tongban.dlx with its stage and reason, and a recorder indexes it in the store.

One path into the store for every stage keeps the rule simple: a stage only has to
publish (confirmed) before it acks or advances; the recorder is idempotent on the
dead-letter id, so a redelivered dead letter is stored once. The one stage that cannot
wait for the queue (a source, for a record of a case: hub/runtime/source_worker.py) hands
the dead letter it published to the recorder at once; the queue's copy is then stored
already.

On the wire (docs/wire.md) a dead letter's AMQP message_id is its own deterministic
dead-letter id (also in x-tongban-dead-letter-id); the id of the message it holds, when
it holds one, is its correlation_id and x-tongban-message-id; its content_type is the
payload's true type (a SOAP answer is XML, a CSV file CSV, undecodable bytes
application/octet-stream); header times are ISO 8601 in Asia/Shanghai (+08:00), as in
the envelopes."""
from __future__ import annotations

import hashlib
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

from hub import bus
from hub.bus import ConfirmingPublisher, Delivery, names
from hub.model.common import SHANGHAI, header_time
from hub.model.masking import mask_text
from hub.observability import metrics
from hub.observability.storm import STORM
from hub.store.dead_letters import STAGES

log = logging.getLogger("tongban.deadletters")


DEAD_LETTER_TYPE = f"tongban.dead_letter.v{names.SCHEMA_VERSION}"
JSON, XML, HTML = "application/json; charset=utf-8", "application/xml; charset=utf-8", "text/html; charset=utf-8"
CSV, TEXT, BYTES = "text/csv; charset=utf-8", "text/plain; charset=utf-8", "application/octet-stream"


def _now() -> str:
    return header_time(datetime.now(SHANGHAI))


def payload_type(payload: bytes) -> str:
    """The true media type of a dead letter's payload, for its content_type. Dead letters
    are few, so looking at the bytes costs nothing that matters."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        return BYTES     # GB18030 as the legacy system sent it, or worse: bytes, not text
    head = text.lstrip("\ufeff \t\r\n")
    if head.startswith("<"):
        low = head[:200].lower()
        return HTML if low.startswith("<!doctype html") or low.startswith("<html") else XML
    if head[:1] in ("{", "[", '"') or head[:4] in ("true", "fals", "null") or head[:1].isdigit() or \
            head[:1] == "-":
        try:
            json.loads(text)
            return JSON
        except ValueError:
            pass
    lines = [line for line in head.splitlines() if line.strip()]
    if len(lines) >= 2 and lines[0].count(",") >= 1 and all(line.count(",") == lines[0].count(",")
                                                             for line in lines[:20]):
        return CSV
    return TEXT


@dataclass(frozen=True)
class DeadLetter:
    """A dead letter as published to tongban.dlx, which is what the recorder reads back."""
    body: bytes
    headers: dict
    routing_key: str
    message_id: str | None

    @property
    def id(self) -> str:
        return self.headers[names.H_DEAD_LETTER_ID]


def publish_dead_letter(publisher: ConfirmingPublisher, payload: bytes, *, stage: str, reason: str,
                        department: str, destination: str | None = None, record_key: str | None = None,
                        case_no: str | None = None, message_id: str | None = None, attempts: int = 1,
                        prior: dict | None = None, routing_key: str | None = None,
                        track: str | None = None, content_type: str | None = None) -> DeadLetter:
    """Publish (not yet confirmed: the caller flushes) and return what was published.
    content_type: the payload's, when the caller knows it; otherwise it is looked at."""
    prior = prior or {}
    dl_id = _dead_letter_id(payload, stage, department, destination, record_key, message_id, attempts, prior)
    now = _now()
    headers = {
        names.H_DEAD_LETTER_ID: dl_id,
        names.H_STAGE: stage,
        names.H_REASON: mask_text(reason)[:2000],
        names.H_DEPARTMENT: department,
        names.H_ATTEMPTS: attempts,
        names.H_FIRST_FAILED: prior.get(names.H_FIRST_FAILED, now),
        names.H_LAST_FAILED: now,
    }
    for key, value in ((names.H_DESTINATION, destination), (names.H_RECORD_KEY, record_key),
                       (names.H_CASE_NO, case_no), (names.H_ROUTING_KEY, routing_key), (names.H_TRACK, track),
                       (names.H_MESSAGE_ID, message_id)):
        if value is not None:
            headers[key] = value
    letter = DeadLetter(payload, headers, f"{stage}.{department}", message_id)
    publisher.publish(letter.body, names.DLX, letter.routing_key, message_id=dl_id, headers=headers,
                      content_type=content_type or payload_type(payload), type=DEAD_LETTER_TYPE,
                      correlation_id=message_id)
    metrics.dead_letter(department, destination, stage)
    STORM.note(stage, department, destination, headers[names.H_REASON], record_key or message_id)   # summarised
    return letter


def _dead_letter_id(payload: bytes, stage, department, destination, record_key, message_id, attempts,
                    prior: dict) -> str:
    """The same failure met again after a crash (a source page read again before its
    checkpoint, a delivery redelivered before its ack) gets the same id, so the recorder
    stores it once; a new failure (a replay that fails again) gets a new one."""
    if stage != "deliver" and record_key:
        seed = f"{department}|{stage}|{record_key}|{hashlib.sha256(payload).hexdigest()}"
        if destination:
            # a stage of delivery (sequence) fails the same message at each destination on its
            # own: one id for both would store only the first destination's dead letter
            seed += f"|{destination}"
    elif stage == "deliver" and message_id and prior.get(names.H_FIRST_FAILED):
        seed = f"{destination}|{message_id}|{attempts}|{prior[names.H_FIRST_FAILED]}"
    else:
        return str(uuid.uuid4())
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "tongban-dead-letter|" + seed))


def _cut(value, size: int):
    return value[:size] if isinstance(value, str) else value


def _parse_time(text) -> datetime:
    try:
        return datetime.fromisoformat(str(text))
    except (TypeError, ValueError):
        return datetime.now(timezone.utc)


def to_row(d: Delivery | DeadLetter, queue: str) -> dict:
    """A store row for a message found on the dead-letter or the unrouted queue."""
    h = d.headers
    payload = _text_or_bytes(d.body)
    if queue == names.UNROUTED_QUEUE:
        department = d.routing_key.split(".", 1)[0] or "unknown"
        seed = f"{d.message_id}|route|{d.routing_key}"
        stage, reason = "route", f"no route matches routing key {d.routing_key!r}"
        destination = None
    elif names.H_DEAD_LETTER_ID in h:
        dl_id = h[names.H_DEAD_LETTER_ID]
        # the message it holds: x-tongban-message-id; a dead letter of before this header had it as message_id
        held = h.get(names.H_MESSAGE_ID) or (d.message_id if d.message_id != dl_id else None)
        return _row(dl_id, held, h, h.get(names.H_STAGE, "deliver"),
                    h.get(names.H_REASON, ""), h.get(names.H_DEPARTMENT, "unknown"), h.get(names.H_DESTINATION),
                    payload)
    else:
        # Dead-lettered by the broker itself (x-dead-letter-exchange of a queue): x-death says why.
        death = (h.get("x-death") or [{}])[0]
        department = h.get(names.H_DEPARTMENT) or d.routing_key.split(".", 1)[0]
        destination = d.routing_key.split(".", 1)[1] if d.routing_key.startswith("deliver.") else None
        seed = f"{d.message_id}|broker|{death.get('queue')}|{death.get('count')}"
        stage, reason = "deliver", f"broker dead-lettered from {death.get('queue')}: {death.get('reason')}"
    return _row(str(uuid.uuid5(uuid.NAMESPACE_URL, seed)), d.message_id, h, stage, reason, department, destination,
                payload)


def _text_or_bytes(body: bytes):
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body  # kept as bytes: the store saves it base64-encoded, nothing is lost


def _row(dl_id, message_id, h: dict, stage, reason, department, destination, payload) -> dict:
    if stage not in STAGES:   # a newer hub's stage, or a hand-made header: kept, under deliver, not refused
        stage, reason = "deliver", f"(stage {str(stage)[:40]!r}) {reason}"
    return {
        "id": dl_id,
        "message_id": message_id,
        "stage": stage,
        "reason": reason,
        "department": department,
        "destination": destination,
        # cut to their columns: a dead letter must always be recordable, whatever it carries
        "record_key": _cut(h.get(names.H_RECORD_KEY), 255),
        "case_no": _cut(h.get(names.H_CASE_NO), 100),
        "attempts": int(h.get(names.H_ATTEMPTS, 1) or 1),
        "first_failed_at": _parse_time(h.get(names.H_FIRST_FAILED)),
        "last_failed_at": _parse_time(h.get(names.H_LAST_FAILED)),
        "payload": payload,
        "headers": json.loads(json.dumps(h, default=str)),
        "status": "dead",
    }


class DeadLetterRecorder:
    """Consumes tongban.dead and tongban.unrouted into the store, acking after the insert."""

    def __init__(self, store, queue: str = names.DEAD_QUEUE):
        self.store = store
        self.queue = queue

    def record(self, d: Delivery | DeadLetter) -> None:
        self.store.add_dead_letter(to_row(d, self.queue))

    def handle(self, batch: list[Delivery]) -> None:
        for d in batch:
            self.record(d)
        bus.ack_all(batch)
