"""The wire contract without a broker (issue 15): standard schemas, the compatibility
check, the AsyncAPI document kept in sync with the code, the dead letters' content types,
headers that say what the body says. The broker-side checks: tests/integration/test_wire.py."""
from __future__ import annotations

import copy
import json
import subprocess
import sys

import pytest
from jsonschema import Draft202012Validator

from hub.bus import names
from hub.model import Envelope
from hub.model.envelope import SCHEMA_VERSION
from hub.model.schema_diff import compare, diff_paths, diff_sets
from hub.model.schema_export import DRAFT, KINDS, schemas
from hub.ops import contract
from hub.runtime.deadletters import payload_type
from hub.runtime.outbound import headers_of
from tests import strict_consumer
from tests.conftest import ROOT


def _walk(node):
    if isinstance(node, dict):
        yield node
        for v in node.values():
            yield from _walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v)


def test_every_schema_is_draft_2020_12_with_a_versioned_id_and_no_pydantic_keywords():
    ids = set()
    for name, schema in contract.all_schemas().items():
        Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == DRAFT
        assert schema["$id"].endswith(f"/v{SCHEMA_VERSION}/{name}.schema.json"), schema["$id"]
        ids.add(schema["$id"])
        assert not [n for n in _walk(schema) if "discriminator" in n], name
    assert len(ids) == len(contract.all_schemas())


def test_envelope_kind_and_schema_name_are_enums_and_each_variant_is_told_by_its_consts():
    env = schemas()["envelope"]
    assert env["properties"]["kind"]["enum"] == list(KINDS)
    assert env["properties"]["schema_name"]["enum"] == [f"tongban.{k}" for k in KINDS]
    for ref in env["oneOf"]:
        variant = env["$defs"][ref["$ref"].rsplit("/", 1)[-1]]
        assert "const" in variant["properties"]["kind"] and "const" in variant["properties"]["schema_name"]


def _sample_envelopes():
    examples = contract._examples(ROOT / "mappings")
    return [e for es in examples.values() for e in es]


def test_every_mapping_sample_is_valid_and_a_mislabelled_one_is_not():
    v = Draft202012Validator(schemas()["envelope"])
    samples = _sample_envelopes()
    assert {s["payload"]["kind"] for s in samples} >= {"case_event", "certificate"}
    for s in samples:
        assert not list(v.iter_errors(s["payload"])), s["name"]
    bad = copy.deepcopy(samples[0]["payload"])
    bad["schema_name"] = "tongban.certificate"      # a case event calling itself a certificate
    assert list(v.iter_errors(bad))
    bad = copy.deepcopy(samples[0]["payload"])
    bad["kind"] = "casevent"
    assert list(v.iter_errors(bad))


def test_an_application_envelope_has_no_case_nor_sequence_in_body_and_headers_alike():
    v = Draft202012Validator(schemas()["envelope"])
    env = Envelope.model_validate({
        "message_id": "6f1c7a52-5a0e-4c43-9a57-7b0a1f3e2d10", "schema_name": "tongban.application",
        "kind": "application", "source": {"department": "platform", "system": "platform-applications"},
        "mapping": "platform.application@1", "record_key": "A1", "occurred_at": "2026-12-03T10:00:00+08:00",
        "produced_at": "2026-12-03T10:00:01+08:00", "trace_id": "t",
        "payload": {"kind": "application", "application_no": "A1", "item_code": "X", "department": "commerce",
                    "applicant": {"kind": "person", "name": "张三", "id_type": "resident_id",
                                  "id_number": "11010519491231002X"},
                    "submitted_at": "2026-12-03T10:00:00+08:00"}})
    body = json.loads(env.model_dump_json())
    assert not list(v.iter_errors(body))
    h = headers_of(env, "platform", "old")
    assert names.H_CASE_NO not in h and names.H_SEQUENCE not in h and h[names.H_SEQ_MODE] == "none"
    assert not strict_consumer._agree(h, body, {"message_id": body["message_id"],
                                                 "correlation_id": body["message_id"],
                                                 "type": "tongban.application.v1"})
    body["sequence"] = 0
    assert list(v.iter_errors(body))           # what headers used to say: not a sequence


def test_every_asyncapi_example_passes_the_strict_consumer():
    doc = strict_consumer.document()
    for msg in doc["components"]["messages"].values():
        for ex in msg.get("examples", []):
            if msg["name"] == "DeadLetter":
                continue
            props = {"content_type": msg["contentType"], "delivery_mode": 2,
                     "message_id": ex["payload"]["message_id"], "timestamp": 1,
                     "type": msg["bindings"]["amqp"]["messageType"], "app_id": "tongban-hub",
                     "correlation_id": ex["payload"]["message_id"]}
            body = json.dumps(ex["payload"], ensure_ascii=False).encode("utf-8")
            # applications go south, on tongban.commands; every other kind north, on tongban.events
            exchange = names.COMMANDS if msg["name"] == "Application" else names.EVENTS
            assert strict_consumer.check(exchange, props, ex["headers"], body) == [], ex["name"]


def test_the_strict_consumer_refuses_what_the_issue_found():
    ex = strict_consumer.document()["components"]["messages"]["CaseEvent"]["examples"][0]
    body = json.dumps(ex["payload"], ensure_ascii=False).encode("utf-8")
    good = {"content_type": "application/json; charset=utf-8", "delivery_mode": 2,
            "message_id": ex["payload"]["message_id"], "timestamp": 1, "type": "tongban.case_event.v1",
            "app_id": "tongban-hub", "correlation_id": ex["payload"]["message_id"]}
    assert strict_consumer.check(names.EVENTS, good, ex["headers"], body) == []
    for change in ({"content_encoding": "utf-8"}, {"content_type": "application/json"}, {"app_id": None},
                   {"timestamp": None}, {"type": "tongban.certificate.v1"}):
        props = {k: v for k, v in {**good, **change}.items() if v is not None}
        assert strict_consumer.check(names.EVENTS, props, ex["headers"], body), change
    assert strict_consumer.check(names.EVENTS, good, {**ex["headers"], names.H_SEQUENCE: 0}, body)
    assert strict_consumer.check(names.EVENTS, good, {**ex["headers"], "x-tongban-new-thing": 1}, body)
    dl = {**good, "type": "tongban.dead_letter.v1", "content_type": "application/json; charset=utf-8",
          "message_id": "1b4e28ba-2fa1-51d2-883f-0016d3cca427", "correlation_id": None}
    dl = {k: v for k, v in dl.items() if v is not None}
    dl_headers = strict_consumer.document()["components"]["messages"]["DeadLetter"]["examples"][0]["headers"]
    soap = b"<soap:Envelope><soap:Body/></soap:Envelope>"
    assert strict_consumer.check(names.DLX, dl, dl_headers, soap)       # XML labelled JSON
    assert strict_consumer.check(names.DLX, {**dl, "content_type": payload_type(soap)}, dl_headers, soap) == []
    utc = {**dl_headers, names.H_LAST_FAILED: "2026-12-03T02:15:00+00:00"}
    assert strict_consumer.check(names.DLX, {**dl, "content_type": payload_type(soap)}, utc, soap)


@pytest.mark.parametrize("payload, expected", [
    (b'{"a": 1}', "application/json; charset=utf-8"),
    (b'\xef\xbb\xbf  <?xml version="1.0"?><a/>', "application/xml; charset=utf-8"),
    (b"<soap:Envelope/>", "application/xml; charset=utf-8"),
    (b"<!DOCTYPE html><html></html>", "text/html; charset=utf-8"),
    ("SLBH,XMMC,SXH\nA1,名称,1\nA2,名称,2\n".encode("utf-8"), "text/csv; charset=utf-8"),
    ("\u6536\u4ef6".encode("gb18030"), "application/octet-stream"),
    (b"{not json", "text/plain; charset=utf-8"),
    (b"", "text/plain; charset=utf-8"),
])
def test_a_dead_letters_content_type_is_its_payloads_true_type(payload, expected):
    assert payload_type(payload) == expected


def test_the_bus_and_the_model_agree_on_the_schema_version():
    assert names.SCHEMA_VERSION == SCHEMA_VERSION


# --- compatibility -----------------------------------------------------------------
def _closed(props: dict, required=()) -> dict:
    return {"$id": "https://x/v1/s.schema.json", "type": "object", "additionalProperties": False,
            "properties": props, "required": list(required)}


@pytest.mark.parametrize("old, new, breaking", [
    (_closed({"a": {"type": "string"}}), _closed({"a": {"type": "string"}, "b": {"type": "string"}}), True),
    (_closed({"a": {"type": "string"}, "b": {"type": "string"}}), _closed({"a": {"type": "string"}}), False),
    (_closed({"a": {"type": "string"}}, ["a"]), _closed({"a": {"type": "string"}}), True),
    (_closed({"a": {"type": "string"}}), _closed({"a": {"type": "string"}}, ["a"]), False),
    (_closed({"a": {"enum": ["x", "y"]}}), _closed({"a": {"enum": ["x", "y", "z"]}}), True),
    (_closed({"a": {"enum": ["x", "y"]}}), _closed({"a": {"enum": ["x"]}}), False),
    (_closed({"a": {"type": "integer", "minimum": 1}}), _closed({"a": {"type": "integer", "minimum": 0}}), True),
    (_closed({"a": {"type": "integer"}}), _closed({"a": {"anyOf": [{"type": "integer"}, {"type": "null"}]}}), True),
    (_closed({"a": {"anyOf": [{"type": "integer"}, {"type": "null"}]}}), _closed({"a": {"type": "integer"}}), False),
    (_closed({"a": {"$ref": "#/$defs/A"}}) | {"$defs": {"A": {"type": "string", "maxLength": 5}}},
     _closed({"a": {"$ref": "#/$defs/A"}}) | {"$defs": {"A": {"type": "string", "maxLength": 9}}}, True),
])
def test_schema_diff_calls_breaking_what_an_old_strict_reader_could_refuse(old, new, breaking):
    assert bool(compare(old, new)) is breaking


def test_a_breaking_change_passes_only_with_a_version_bump():
    old = {"s.schema.json": _closed({"a": {"type": "string"}})}
    new = {"s.schema.json": _closed({"a": {"type": "string"}, "b": {"type": "string"}})}
    assert not diff_sets(old, new).ok
    bumped = {"s.schema.json": dict(new["s.schema.json"], **{"$id": "https://x/v2/s.schema.json"})}
    report = diff_sets(old, bumped)
    assert report.ok and report.bumped and report.allowed
    assert not diff_sets(old, {}).ok                 # a schema removed


def test_the_current_schemas_are_compatible_with_the_last_released_ones(tmp_path):
    # what CI runs: `tongban schema diff schemas/released/v1 schemas/current`
    report = diff_paths(contract.RELEASED_DIR / f"v{SCHEMA_VERSION}", contract.SCHEMA_DIR)
    assert report.ok, report.breaking
    # and it does fail on a breaking change: a new event type widens an enum
    env = json.loads((contract.SCHEMA_DIR / "envelope.schema.json").read_text(encoding="utf-8"))
    env["$defs"]["EventType"]["enum"].append("teleported")
    (tmp_path / "envelope.schema.json").write_text(json.dumps(env), encoding="utf-8")
    report = diff_paths(contract.SCHEMA_DIR / "envelope.schema.json", tmp_path / "envelope.schema.json")
    assert not report.ok and any("teleported" in line for line in report.breaking)


def test_the_checked_in_asyncapi_document_and_schemas_are_what_the_code_makes():
    # `tongban schema asyncapi` writes them; this fails when the code moved and they did not
    assert contract.ASYNCAPI_FILE.read_text(encoding="utf-8") == contract.render(contract.asyncapi()), \
        "docs/asyncapi.yaml is stale: run `tongban schema asyncapi`"
    from hub.model.schema_export import dumps
    for name, schema in contract.all_schemas().items():
        assert (contract.SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8") == dumps(schema), name
    out = subprocess.run([sys.executable, "-m", "hub.cli.main", "schema", "asyncapi", "--check"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_asyncapi_document_is_whole():
    doc = strict_consumer.document()
    assert doc["asyncapi"] == "3.0.0"
    comps = doc["components"]["messages"]

    def resolve(ref):
        node = doc
        for part in ref[2:].split("/"):
            node = node[part]
        return node
    for cname, ch in doc["channels"].items():
        assert ch["address"] and ch["bindings"]["amqp"]["is"] in ("routingKey", "queue")
        for ref in ch["messages"].values():
            assert resolve(ref["$ref"]) in comps.values()
    for op in doc["operations"].values():
        ch = resolve(op["channel"]["$ref"])
        for ref in op["messages"]:
            assert ref["$ref"].startswith(op["channel"]["$ref"] + "/messages/")
            resolve(ref["$ref"])
    for m in comps.values():
        props = m["x-amqp-properties"]
        assert {"content_type", "message_id", "timestamp", "type", "app_id"} <= set(props["required"])
    schema_ids = {s["$id"] for s in doc["components"]["schemas"].values()}
    for node in _walk(doc["components"]["messages"]):
        if "$ref" in node and node["$ref"].startswith("http"):
            assert node["$ref"].split("#")[0] in schema_ids, node["$ref"]
