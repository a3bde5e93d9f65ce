"""The envelope every canonical message travels in: identity, lineage and routing facts.

The message id is deterministic (invariant 4): the same source record, at the same
version, through the same mapping, always yields the same id, so a re-read after a
crash or a replay is recognised downstream as the same message."""
from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import datetime
from typing import Annotated, Literal, Union

from pydantic import Field

from .application import Application
from .case import Case, CaseEvent, Certificate
from .common import SHANGHAI, AwareDatetime, CanonicalModel, Department, Track
from .service_item import ServiceItem

SCHEMA_VERSION = 1
NAMESPACE = uuid.UUID("6f1c7a52-5a0e-4c43-9a57-7b0a1f3e2d10")

Payload = Annotated[Union[CaseEvent, Certificate, Case, Application, ServiceItem], Field(discriminator="kind")]


class Source(CanonicalModel):
    # A department, or "platform" for applications the unified platform sends down.
    department: Department | Literal["platform"]
    system: str
    track: Track = Track.old


class Envelope(CanonicalModel):
    message_id: uuid.UUID
    schema_name: str
    schema_version: int = SCHEMA_VERSION
    kind: str
    source: Source
    case_no: str | None = None
    sequence: int | None = None
    mapping: str = Field(description="name@version of the mapping that made this record")
    record_key: str = Field(description="key of the source record (lineage)")
    occurred_at: AwareDatetime
    produced_at: AwareDatetime
    trace_id: str
    signature: str | None = None
    # What a mapping took but found doubtful ("applicant.name: holds U+FFFD ..." for a field
    # marked text: flag). Left out of the JSON when there is none, so a clean message is as before.
    flags: list[str] = Field(default_factory=list, exclude_if=lambda v: not v)
    payload: Payload

    @property
    def routing_key(self) -> str:
        # Commands are routed to the department that owns the item; events by who made them.
        department = self.payload.department if self.kind == "application" else self.source.department
        return routing_key(str(department), self.kind, event_name(self.payload))


def event_name(payload) -> str:
    kind = payload.kind
    if kind == "case_event":
        return str(payload.type)
    if kind == "certificate":
        return "issued"
    if kind == "case":
        return str(payload.status)
    if kind == "application":
        return "submitted"
    return "updated"


def routing_key(department: str, kind: str, event: str) -> str:
    return f"{department}.{kind}.{event}"


def message_id(system: str, mapping_name: str, record_key: str, record_version: str,
               track: str = "old") -> uuid.UUID:
    # The new track's copy of a system is another system: its ids must never collide
    # with the old track's in the ledger. The old track keeps the ids it always had.
    seed = f"{system}\x1f{mapping_name}\x1f{record_key}\x1f{record_version}"
    return uuid.uuid5(NAMESPACE, seed if track == "old" else f"{seed}\x1f{track}")


def now() -> datetime:
    return datetime.now(SHANGHAI)


def sign(body: bytes, key: bytes) -> str:
    """HMAC-SHA256 of the payload bytes, so a destination can tell the hub made it."""
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, key: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(body, key), signature)
