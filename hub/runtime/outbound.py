"""How a canonical envelope goes onward: its exchange, routing key, headers and log row.

One place for the source worker and for a takeover's late routing (hub/runtime/takeover.py),
so a message routed late is routed exactly as it would have been when it was read."""
from __future__ import annotations

from hub.bus import names
from hub.model import Envelope
from hub.model.common import header_time
from hub.routing.partitions import partition_key, slot_of


def exchange_of(env: Envelope) -> str:
    return names.COMMANDS if env.kind == "application" else names.EVENTS


def headers_of(env: Envelope, department: str, track: str, sequence_mode: str = "none") -> dict:
    """sequence_mode: the mapping's (MappingSet.sequence_mode), for the delivery's order check.

    The headers say what the body says (docs/wire.md): x-tongban-case-no and
    x-tongban-sequence are there exactly when the envelope's case_no and sequence are not
    null (an application has neither: the platform's application_no is its reference)."""
    headers = {
        names.H_DEPARTMENT: department, names.H_KIND: env.kind,
        names.H_TRACK: track, names.H_RECORD_KEY: env.record_key,
        names.H_SLOT: str(slot_of(partition_key(env.case_no, str(env.message_id)))),
        names.H_SEQ_MODE: sequence_mode if env.sequence is not None else "none",
        # read by the delivery for the source-to-destination latency, without parsing the body
        names.H_PRODUCED: header_time(env.produced_at),
    }
    if env.case_no is not None:
        headers[names.H_CASE_NO] = env.case_no
    if env.sequence is not None:
        headers[names.H_SEQUENCE] = env.sequence
    return headers


def log_row(env: Envelope, department: str, system: str, track: str) -> dict:
    """The message log's row for a routed envelope (lineage; also "was it routed")."""
    return {
        "message_id": str(env.message_id), "kind": env.kind, "department": department, "system": system,
        "track": track, "case_no": env.case_no, "sequence": env.sequence, "routing_key": env.routing_key,
        "mapping": env.mapping, "record_key": env.record_key, "produced_at": env.produced_at,
    }
