"""The wire contract, as data: JSON Schemas of the headers and AMQP properties of every
message the hub publishes, and the AsyncAPI 3.0 document that puts them together with
the canonical schemas (hub/model/schema_export.py), the exchanges, routing keys, queues
and partitions (`tongban schema asyncapi` -> docs/asyncapi.yaml; docs/wire.md in words).

Built from the code and the repository's configuration files (never the environment),
so the document checked in can be compared with a fresh one by a test."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import yaml

from hub.bus import names
from hub.bus.publisher import APP_ID, JSON, message_type
from hub.model.common import DEPARTMENT_PATTERN
from hub.model.schema_export import BASE, DRAFT, KINDS, SCHEMA_VERSION, schema_id, schemas
from hub.runtime.deadletters import BYTES, CSV, DEAD_LETTER_TYPE, HTML, TEXT, XML
from hub.store.dead_letters import STAGES

ROOT = Path(__file__).resolve().parents[2]
ASYNCAPI_FILE = ROOT / "docs" / "asyncapi.yaml"
SCHEMA_DIR = ROOT / "schemas" / "current"          # generated, checked in (kept in sync by a test)
RELEASED_DIR = ROOT / "schemas" / "released"       # the last released schemas: `schema diff` runs against them
SCHEMA_FORMAT = "application/schema+json;version=draft-2020-12"

# ISO 8601, seconds or finer, always at +08:00 (Asia/Shanghai), as the envelopes' times
TIME_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?\+08:00$"
UUID = {"type": "string", "format": "uuid"}
_TIME = {"type": "string", "format": "date-time", "pattern": TIME_PATTERN,
         "description": "ISO 8601 in Asia/Shanghai (+08:00)"}
_TEXT = {"type": "string", "minLength": 1}
_COUNT = {"type": "integer", "minimum": 0}

# Headers every hub header may carry on a retry or a replay, beside the envelope's own
_RETRY = {
    names.H_ATTEMPTS: dict(_COUNT, minimum=1, description="failed delivery attempts so far (invariant 7)"),
    names.H_FIRST_FAILED: _TIME, names.H_LAST_FAILED: _TIME,
    names.H_REASON: {"type": "string", "maxLength": 2000, "description": "why the last attempt failed, masked"},
    names.H_DELAY: {"type": "string", "description": "the retry queue a retry copy is for"},
    names.H_REPLAYED_FROM: {"type": "string", "description": "the dead letter a replayed message came from"},
}


def _schema(name: str, title: str, description: str, body: dict) -> dict:
    return {"$schema": DRAFT, "$id": schema_id(name), "title": title, "description": description, **body}


def envelope_headers_schema() -> dict:
    props = {
        names.H_DEPARTMENT: {"type": "string", "pattern": DEPARTMENT_PATTERN,
                             "description": "who made it: a department (any installed adapter's), or platform"},
        names.H_KIND: {"enum": list(KINDS), "description": "the envelope's kind"},
        names.H_TRACK: {"enum": ["old", "new"], "description": "the dual-track side it was read from"},
        names.H_RECORD_KEY: {"type": "string", "description": "the source record's key (lineage)"},
        names.H_SLOT: {"type": "string", "pattern": "^([0-9]|[1-5][0-9]|6[0-3])$",
                       "description": "crc32(case_no, or message id) mod 64: picks the case's partition"},
        names.H_SEQ_MODE: {"enum": ["gap_free", "ordered", "none"],
                           "description": "how the source numbers the case's steps; none when no sequence"},
        names.H_CASE_NO: dict(_TEXT, maxLength=100, description="the envelope's case_no; absent when it is null"),
        names.H_SEQUENCE: {"type": "integer", "minimum": 1,
                           "description": "the envelope's sequence; absent when it is null"},
        names.H_SUPERSEDES: dict(UUID, description="an update: the message id of the version it replaces"),
        names.H_READ_THROUGH: dict(_COUNT, description="the source had read steps 1..n of the case before"),
        names.H_READ_MAX: dict(_COUNT, description="and none higher than this"),
        names.H_PRODUCED: dict(_TIME, description="when the envelope was made (its produced_at): where the "
                               "source-to-destination latency starts, read without parsing the body"),
        **_RETRY,
    }
    return _schema("headers", "Envelope headers",
                   "AMQP headers of an envelope on tongban.events, tongban.commands, tongban.compare, a "
                   "destination's partition queues and the retry queues. The broker may add its own "
                   "(x-death, x-first-death-*, ...): a consumer ignores headers it does not know.",
                   {"type": "object", "properties": props,
                    "required": [names.H_DEPARTMENT, names.H_KIND, names.H_TRACK, names.H_RECORD_KEY, names.H_SLOT,
                                 names.H_SEQ_MODE],
                    "dependentRequired": {names.H_SEQUENCE: [names.H_CASE_NO]}})


def dead_letter_headers_schema() -> dict:
    props = {
        names.H_DEAD_LETTER_ID: dict(UUID, description="the dead letter's id: deterministic for the same "
                                                      "failure met again; also its AMQP message_id"),
        names.H_STAGE: {"enum": list(STAGES), "description": "where it failed"},
        names.H_REASON: {"type": "string", "maxLength": 2000, "description": "why, personal data masked"},
        names.H_DEPARTMENT: {"type": "string", "minLength": 1},
        names.H_ATTEMPTS: dict(_COUNT, minimum=1),
        names.H_FIRST_FAILED: _TIME, names.H_LAST_FAILED: _TIME,
        names.H_DESTINATION: {"type": "string", "description": "the destination it was for (stage deliver, "
                                                               "sequence)"},
        names.H_RECORD_KEY: {"type": "string"},
        names.H_CASE_NO: dict(_TEXT, maxLength=100),
        names.H_ROUTING_KEY: {"type": "string", "description": "the routing key of the message it holds"},
        names.H_TRACK: {"enum": ["old", "new"]},
        names.H_MESSAGE_ID: dict(UUID, description="the message it holds (absent before a message was made: "
                                                  "fetch, decode, map, validate, conflict)"),
    }
    return _schema("dead_letter_headers", "Dead-letter headers",
                   "AMQP headers of a dead letter on tongban.dlx (routing key <stage>.<department>). The body "
                   "is the payload as it was when it failed: an envelope (deliver, sequence, route), or the "
                   "record as read (fetch, decode, map, validate, conflict); its content_type says which.",
                   {"type": "object", "properties": props,
                    "required": [names.H_DEAD_LETTER_ID, names.H_STAGE, names.H_REASON, names.H_DEPARTMENT,
                                 names.H_ATTEMPTS, names.H_FIRST_FAILED, names.H_LAST_FAILED]})


def fence_headers_schema() -> dict:
    return _schema("fence_headers", "Fence headers",
                   "A fence on tongban.compare (body {}): a source that became primary waits until the "
                   "comparator has seen it (hub/runtime/takeover.py). Not an envelope.",
                   {"type": "object", "required": [names.H_KIND, names.H_DEPARTMENT, names.H_FENCE_FOR],
                    "properties": {names.H_KIND: {"const": names.FENCE}, names.H_DEPARTMENT: {"type": "string"},
                                   names.H_FENCE_FOR: {"type": "string"}}})


def properties_schema(name: str, type_: dict, content_type: dict, correlation: dict) -> dict:
    """The AMQP basic properties of one kind of message (as pika names them)."""
    return {"type": "object",
            "required": ["content_type", "delivery_mode", "message_id", "timestamp", "type", "app_id"],
            "properties": {
                "content_type": content_type,
                "content_encoding": {"not": {}, "description": "never set: the hub compresses nothing"},
                "delivery_mode": {"const": 2, "description": "persistent"},
                "message_id": UUID,
                "timestamp": {"type": "integer", "minimum": 1, "description": "POSIX seconds, when published"},
                "type": type_,
                "app_id": {"const": APP_ID},
                "correlation_id": correlation,
            }, "title": name}


def wire_schemas() -> dict[str, dict]:
    return {"headers": envelope_headers_schema(), "dead_letter_headers": dead_letter_headers_schema(),
            "fence_headers": fence_headers_schema()}


def all_schemas() -> dict[str, dict]:
    return {**schemas(), **wire_schemas()}


# --- AsyncAPI ------------------------------------------------------------------------
def _ref(name: str, pointer: str = "") -> dict:
    return {"schemaFormat": SCHEMA_FORMAT, "schema": {"$ref": schema_id(name) + (f"#{pointer}" if pointer else "")}}


def _title(kind: str) -> str:
    return "".join(p.capitalize() for p in kind.split("_"))


def _examples(mappings_dir: Path) -> dict[str, list[dict]]:
    """One envelope per kind and event from the mapping samples, with their headers; the
    volatile fields fixed, so the document is the same every time it is made."""
    from hub import exactjson
    from hub.mapping.errors import RecordError
    from hub.mapping.registry import MappingSet
    from hub.runtime.outbound import headers_of
    mappings = MappingSet.load(mappings_dir)
    out: dict[str, list[dict]] = {}
    seen = set()
    for dept_dir in sorted(p for p in mappings_dir.iterdir() if (p / "samples").is_dir()):
        systems = {m.system for m in mappings.mappings if m.path and m.path.parent == dept_dir}
        if len(systems) != 1:
            continue
        system = systems.pop()
        for inp in sorted((dept_dir / "samples").glob("*.input.json")):
            try:
                envelopes = mappings.apply(system, exactjson.loads(inp.read_text(encoding="utf-8")))
            except RecordError:
                continue
            for env in envelopes:
                key = (env.kind, env.routing_key.split(".", 2)[2] if env.kind != "application" else "")
                if key in seen or len(out.get(env.kind, [])) >= 4:
                    continue
                seen.add(key)
                env = env.model_copy(update={"produced_at": env.occurred_at, "trace_id": "0" * 32})
                body = json.loads(env.model_dump_json())
                headers = headers_of(env, str(env.source.department), str(env.source.track),
                                     mappings.sequence_mode(env.mapping))
                out.setdefault(env.kind, []).append({
                    "name": f"{dept_dir.name}-{inp.name[:-len('.input.json')]}",
                    "summary": f"{env.routing_key}, from mappings/{dept_dir.name}/samples/{inp.name}",
                    "headers": headers, "payload": body})
    return out


def _amqp_exchange(name: str, kind: str) -> dict:
    return {"amqp": {"is": "routingKey", "exchange": {"name": name, "type": kind, "durable": True,
                                                      "autoDelete": False, "vhost": "/"},
                     "bindingVersion": "0.3.0"}}


def _amqp_queue(name: str, exclusive: bool = False) -> dict:
    return {"amqp": {"is": "queue", "queue": {"name": name, "durable": True, "exclusive": exclusive,
                                              "autoDelete": False, "vhost": "/"},
                     "bindingVersion": "0.3.0"}}


def asyncapi(root: Path = ROOT) -> dict:
    from hub.config import load_settings
    from hub.runtime.runner import bindings
    settings = load_settings(root / "config" / "hub.yaml", environ={})
    settings["routes_file"] = str(root / "config" / "routes.yaml") if not Path(settings.get(
        "routes_file", "")).is_absolute() else settings["routes_file"]
    binds = bindings(settings)
    destinations = sorted({b.destination for b in binds})
    examples = _examples(root / "mappings")
    cor = {"type": "string", "description": "the id of the canonical message it is about: its own for an "
                                            "original and a retry copy (which keep the id)"}

    messages: dict[str, dict] = {}
    for kind in KINDS:
        name = _title(kind)
        msg = {
            "name": name, "title": f"{name} envelope", "contentType": JSON,
            "summary": f"a canonical {kind} (schema tongban.{kind}, version {SCHEMA_VERSION})",
            "headers": _ref("headers"),
            "payload": _ref("envelope", f"/$defs/{name}Envelope"),
            "correlationId": {"location": "$message.payload#/message_id",
                              "description": "also the AMQP message_id and correlation_id"},
            "bindings": {"amqp": {"messageType": message_type(kind), "bindingVersion": "0.3.0"}},
            "x-amqp-properties": properties_schema(
                f"{name} properties", {"const": message_type(kind)}, {"const": JSON}, cor),
        }
        if examples.get(kind):
            msg["examples"] = [{k: v for k, v in e.items()} for e in examples[kind]]
        messages[name] = msg
    messages["Receipt"] = copy.deepcopy(messages["CaseEvent"])
    messages["Receipt"].update(name="Receipt", title="Receipt of an application",
                               summary="a department's answer to an application: a case_event of step 1, "
                                       "accepted or rejected", payload=_ref("receipt"))
    messages["Receipt"].pop("examples", None)
    messages["DeadLetter"] = {
        "name": "DeadLetter", "title": "Dead letter",
        "summary": "what could not be fetched, decoded, mapped, validated, routed, ordered or delivered",
        "description": "The body is the payload as it was: an envelope (JSON) or the record as read, whose "
                       f"true type is the content_type: one of {JSON}, {XML}, {HTML}, {CSV}, {TEXT}, {BYTES}. "
                       "message_id is the dead letter's own id (x-tongban-dead-letter-id); correlation_id the "
                       "message it holds (x-tongban-message-id), absent before a message was made.",
        "headers": _ref("dead_letter_headers"),
        "payload": {"schemaFormat": SCHEMA_FORMAT, "schema": {
            "description": "the payload as it failed (any bytes); an envelope when x-tongban-message-id is "
                           "set"}},
        "bindings": {"amqp": {"messageType": DEAD_LETTER_TYPE, "bindingVersion": "0.3.0"}},
        "x-amqp-properties": properties_schema(
            "Dead letter properties", {"const": DEAD_LETTER_TYPE},
            {"enum": [JSON, XML, HTML, CSV, TEXT, BYTES]},
            dict(UUID, description="the message it holds (x-tongban-message-id), when it holds one")),
        "examples": [{"name": "fetch-soap-fault", "summary": "an ndrc answer that was no page: SOAP XML",
                      "headers": {names.H_DEAD_LETTER_ID: "1b4e28ba-2fa1-51d2-883f-0016d3cca427",
                                  names.H_STAGE: "fetch", names.H_REASON: "the answer is a SOAP fault",
                                  names.H_DEPARTMENT: "ndrc", names.H_ATTEMPTS: 1,
                                  names.H_FIRST_FAILED: "2026-12-03T10:15:00.123456+08:00",
                                  names.H_LAST_FAILED: "2026-12-03T10:15:00.123456+08:00",
                                  names.H_RECORD_KEY: "after cursor 17", names.H_TRACK: "old"},
                      "payload": "<soap:Envelope ...><soap:Body><soap:Fault>...</soap:Fault></soap:Body>"
                                 "</soap:Envelope>"}],
    }
    messages["Fence"] = {
        "name": "Fence", "title": "Fence", "contentType": JSON, "headers": _ref("fence_headers"),
        "payload": {"schemaFormat": SCHEMA_FORMAT, "schema": {"type": "object", "maxProperties": 0}},
        "bindings": {"amqp": {"messageType": message_type(names.FENCE), "bindingVersion": "0.3.0"}},
        "x-amqp-properties": properties_schema("Fence properties", {"const": message_type(names.FENCE)},
                                               {"const": JSON}, UUID),
    }

    def refs(*ms):
        return {m: {"$ref": f"#/components/messages/{m}"} for m in ms}
    northbound = ("CaseEvent", "Certificate", "Case", "ServiceItem")
    routes = sorted({(b.exchange, b.pattern, b.destination) for b in binds})
    channels = {
        "events": {"address": names.EVENTS, "title": "northbound events",
                   "description": "Topic exchange; routing key <department>.<kind>.<event> (event: a case "
                                  "event's type, 'issued' for a certificate, a case's status). Bound to the "
                                  "destinations: " + "; ".join(f"{p} -> {d}" for e, p, d in routes
                                                               if e == names.EVENTS),
                   "messages": refs(*northbound, "Receipt"), "bindings": _amqp_exchange(names.EVENTS, "topic")},
        "commands": {"address": names.COMMANDS, "title": "southbound applications",
                     "description": "Topic exchange; routing key <department>.application.submitted. Bound: "
                                    + "; ".join(f"{p} -> {d}" for e, p, d in routes if e == names.COMMANDS),
                     "messages": refs("Application"), "bindings": _amqp_exchange(names.COMMANDS, "topic")},
        "destinationPartition": {
            "address": "tongban.to.{destination}.{index}of{partitions}", "title": "a destination's partition",
            "description": "Each destination's headers exchange tongban.to.<destination> binds partition i the "
                           "slots s (header tongban-slot) with s % P == i: a case always lands in one "
                           "partition, worked by one consumer at a time, in order (invariant 5).",
            "parameters": {"destination": {"enum": destinations}, "index": {"description": "0 .. P-1"},
                           "partitions": {"description": "P, config/hub.yaml partitions: (default "
                                                         f"{(settings.get('partitions') or {}).get('default', 4)})"}},
            "messages": refs(*northbound, "Application"),
            "bindings": {"amqp": {"is": "queue", "queue": {"name": "tongban.to.{destination}.{index}of{partitions}",
                                                           "durable": True, "exclusive": False,
                                                           "autoDelete": False, "vhost": "/"},
                                  "bindingVersion": "0.3.0"}}},
        "retry": {"address": names.DELAY, "title": "retry copies",
                  "description": "Headers exchange; header tongban-delay names the queue "
                                 "tongban.delay.<destination>.<delay> whose TTL sends the copy back to "
                                 "tongban.to.<destination>. A copy is the message again (same message_id, "
                                 "type, body) with x-tongban-attempts and the failure times and reason.",
                  "messages": refs(*northbound, "Application"), "bindings": _amqp_exchange(names.DELAY, "headers")},
        "compare": {"address": names.COMPARE, "title": "dual-track comparison",
                    "description": "Fanout exchange: both tracks' envelopes in the dual-track modes, and fences.",
                    "messages": refs(*northbound, "Fence"), "bindings": _amqp_exchange(names.COMPARE, "fanout")},
        "deadLetters": {"address": names.DLX, "title": "dead letters",
                        "description": "Topic exchange; routing key <stage>.<department>; queue tongban.dead "
                                       "keeps them (bound #).",
                        "messages": refs("DeadLetter"), "bindings": _amqp_exchange(names.DLX, "topic")},
        "unrouted": {"address": names.UNROUTED, "title": "unrouted",
                     "description": "Fanout, the alternate exchange of tongban.events, tongban.commands and "
                                    "the destinations' exchanges: a message no route took, as it was published.",
                     "messages": refs(*northbound, "Application"),
                     "bindings": _amqp_exchange(names.UNROUTED, "fanout")},
    }
    operations = {
        "publishEvent": {"action": "send", "channel": {"$ref": "#/channels/events"},
                         "summary": "a source publishes what it read and mapped, confirmed before its cursor moves",
                         "messages": [{"$ref": f"#/channels/events/messages/{m}"} for m in (*northbound, "Receipt")]},
        "publishCommand": {"action": "send", "channel": {"$ref": "#/channels/commands"},
                           "messages": [{"$ref": "#/channels/commands/messages/Application"}]},
        "deliverFromPartition": {"action": "receive", "channel": {"$ref": "#/channels/destinationPartition"},
                                 "summary": "a delivery worker takes a partition (one at a time) and delivers",
                                 "messages": [{"$ref": f"#/channels/destinationPartition/messages/{m}"}
                                              for m in (*northbound, "Application")]},
        "publishRetry": {"action": "send", "channel": {"$ref": "#/channels/retry"},
                         "messages": [{"$ref": f"#/channels/retry/messages/{m}"} for m in (*northbound, "Application")]},
        "publishComparison": {"action": "send", "channel": {"$ref": "#/channels/compare"},
                              "messages": [{"$ref": f"#/channels/compare/messages/{m}"}
                                           for m in (*northbound, "Fence")]},
        "publishDeadLetter": {"action": "send", "channel": {"$ref": "#/channels/deadLetters"},
                              "messages": [{"$ref": "#/channels/deadLetters/messages/DeadLetter"}]},
    }
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "Tongban Hub (通办) messages", "version": f"{SCHEMA_VERSION}.0.0",
                 "description": "Generated by `tongban schema asyncapi` from the code (hub/ops/contract.py) and "
                                "config/; do not edit by hand. docs/wire.md says the same in words.",
                 "externalDocs": {"url": f"{BASE}/v{SCHEMA_VERSION}/"}},
        "defaultContentType": JSON,
        "servers": {"broker": {"host": "127.0.0.1:5672", "protocol": "amqp", "protocolVersion": "0-9-1",
                               "description": "RabbitMQ (TONGBAN_BROKER_URL)"}},
        "channels": channels, "operations": operations,
        "components": {"messages": messages,
                       "schemas": {name: s for name, s in all_schemas().items()}},
    }


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data):   # no &id001 anchors: every part of the document reads on its own
        return True


def render(doc: dict) -> str:
    return yaml.dump(doc, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=110)


def write(path: Path = ASYNCAPI_FILE, schema_dir: Path = SCHEMA_DIR) -> list[Path]:
    from hub.model.schema_export import export
    path.write_text(render(asyncapi()), encoding="utf-8")
    return [path, *export(schema_dir, wire_schemas())]
