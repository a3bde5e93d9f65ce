"""A strict consumer of the hub's messages, as another team would write one from
docs/asyncapi.yaml alone: it finds the message by its AMQP `type`, then validates the
properties, the headers and the body against the document and its schemas, and says
every way a message breaks the contract (an empty list: it keeps it)."""
from __future__ import annotations

import json
import re
from functools import lru_cache

import yaml
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource

from tests.conftest import ROOT

DOC = ROOT / "docs" / "asyncapi.yaml"
PROPS = ("content_type", "content_encoding", "delivery_mode", "message_id", "timestamp", "type", "app_id",
         "correlation_id")


@lru_cache(maxsize=1)
def document() -> dict:
    return yaml.safe_load(DOC.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _registry() -> Registry:
    schemas = document()["components"]["schemas"].values()
    return Registry().with_resources((s["$id"], Resource.from_contents(s)) for s in schemas)


@lru_cache(maxsize=64)
def _validator(ref_or_json: str) -> Draft202012Validator:
    schema = json.loads(ref_or_json)
    return Draft202012Validator(schema, registry=_registry(), format_checker=FormatChecker())


def _errors(schema: dict, value, what: str) -> list[str]:
    v = _validator(json.dumps(schema, sort_keys=True))
    return [f"{what}: {'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:200]}"
            for e in v.iter_errors(value)]


def messages_by_type() -> dict[str, dict]:
    return {m["bindings"]["amqp"]["messageType"]: m for m in document()["components"]["messages"].values()
            if m["name"] != "Receipt"}


def channel_messages(exchange: str) -> set[str]:
    for ch in document()["channels"].values():
        if ch["address"] == exchange:
            return {ref["$ref"].rsplit("/", 1)[-1] for ref in ch["messages"].values()}
    raise KeyError(exchange)


def props_of(pika_props) -> dict:
    return {k: getattr(pika_props, k) for k in PROPS if getattr(pika_props, k, None) is not None}


def check(exchange: str, props: dict, headers: dict, body: bytes) -> list[str]:
    problems = []
    msg = messages_by_type().get(props.get("type"))
    if msg is None:
        return [f"AMQP type {props.get('type')!r} is no message of the contract"]
    if msg["name"] not in channel_messages(exchange):
        problems.append(f"{msg['name']} is not a message of channel {exchange}")
    problems += _errors(msg["x-amqp-properties"], props, "properties")
    problems += _errors(msg["headers"]["schema"], headers, "headers")
    declared = set(document()["components"]["schemas"][
        msg["headers"]["schema"]["$ref"].rsplit("/", 1)[-1].replace(".schema.json", "")]["properties"])
    unknown = sorted(k for k in headers if k.startswith(("x-tongban-", "tongban-")) and k not in declared)
    if unknown:
        problems.append(f"headers: {unknown} are not in the contract")
    ctype = props.get("content_type", "")
    if ctype.startswith("application/json"):
        try:
            value = json.loads(body.decode("utf-8"))
        except ValueError as err:
            return problems + [f"body labelled {ctype} is not UTF-8 JSON: {err}"]
        problems += _errors(msg["payload"]["schema"], value, "body")
        if msg["name"] not in ("DeadLetter", "Fence"):
            problems += _agree(headers, value, props)
    elif ctype == "application/octet-stream":
        try:
            body.decode("utf-8")
            problems.append("body labelled application/octet-stream is UTF-8 text: its type should say so")
        except UnicodeDecodeError:
            pass
    else:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return problems + [f"body labelled {ctype} is not UTF-8"]
        head = text.lstrip("\ufeff \t\r\n")
        if "xml" in ctype and not head.startswith("<"):
            problems.append(f"body labelled {ctype} is not XML")
        if ctype.startswith("text/plain") and (head.startswith("<") or _is_json(text)):
            problems.append(f"body labelled {ctype} is XML or JSON")
    if msg["name"] == "DeadLetter":
        h = headers
        if props.get("message_id") != h.get("x-tongban-dead-letter-id"):
            problems.append("a dead letter's message_id is not its dead-letter id")
        if props.get("correlation_id") != h.get("x-tongban-message-id"):
            problems.append("a dead letter's correlation_id is not the id of the message it holds")
    return problems


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
        return True
    except ValueError:
        return False


def _agree(headers: dict, env: dict, props: dict) -> list[str]:
    """Body and headers say the same: ids, kind, case and sequence (absent = null)."""
    out = []
    if props.get("message_id") != env.get("message_id"):
        out.append(f"message_id {props.get('message_id')} is not the envelope's {env.get('message_id')}")
    if props.get("correlation_id") != env.get("message_id"):
        out.append("correlation_id is not the envelope's message id")
    if headers.get("x-tongban-kind") != env.get("kind"):
        out.append("x-tongban-kind differs from the body's kind")
    if headers.get("x-tongban-case-no") != env.get("case_no"):
        out.append(f"x-tongban-case-no {headers.get('x-tongban-case-no')!r} but case_no {env.get('case_no')!r}")
    if headers.get("x-tongban-sequence") != env.get("sequence"):
        out.append(f"x-tongban-sequence {headers.get('x-tongban-sequence')!r} but sequence {env.get('sequence')!r}")
    if props.get("type") != f"{env.get('schema_name')}.v{env.get('schema_version')}":
        out.append("type is not the envelope's schema name and version")
    return out


TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?\+08:00$")
