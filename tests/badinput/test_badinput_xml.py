"""XML defences on every path where the hub parses XML that others wrote:
  land batch files (defusedxml, forbid_dtd), ndrc SOAP responses and its WSDL (zeep with
  adapters/ndrc/client.py XML_SETTINGS), province SOAP answers to deliveries (zeep defaults).
Each attack is also fed to a permissive lxml parser (the positive control): the payload
really does read the secret file or expand, so a defence that is removed shows as a failure.
The secret never appears in a record, a dead letter, a published message or a log line."""
from __future__ import annotations

import json
import uuid

import pytest
from lxml import etree

from adapters.ndrc import NdrcAdapter
from hub.delivery import DeliveryError, MessageMeta
from hub.delivery.province_soap import ProvinceSoap
from sims.land_files import render_xml
from tests.badinput.fakes import NDRC_WSDL, ROOT, land_pool, ndrc_pool, ndrc_response, wire
from tests.badinput.test_badinput_land import land, run as land_run, source as land_source  # noqa: F401

XI = "http://www.w3.org/2001/XInclude"
# billion_laughs: 10^9 expansions, which libxml2 also refuses by itself; entity_expansion: 10^4,
# under libxml2's own amplification guard, so only the hub's defence stops it.
ATTACKS = ("xxe", "billion_laughs", "entity_expansion", "external_dtd", "xinclude")
LEVELS = {"billion_laughs": 9, "entity_expansion": 4}


@pytest.fixture(scope="module")
def secret(tmp_path_factory):
    base = tmp_path_factory.mktemp("secret")
    marker = f"TONGBAN-SECRET-{uuid.uuid4().hex}"
    (base / "secret.txt").write_text(marker)
    (base / "ext.dtd").write_text(f'<!ENTITY leak SYSTEM "file://{base / "secret.txt"}">')
    return marker, base / "secret.txt", base / "ext.dtd"


def attack(kind: str, root: str, secret, levels: int | None = None) -> tuple[str, str, str]:
    """(doctype, the value to put in a field, namespace declarations for the root)."""
    _, path, dtd = secret
    if kind == "xxe":
        return f'<!DOCTYPE {root} [<!ENTITY xxe SYSTEM "file://{path}">]>', "&xxe;", ""
    if kind in LEVELS:
        levels = levels or LEVELS[kind]
        ents = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, levels + 1)]
        return f"<!DOCTYPE {root} [{''.join(ents)}]>", f"&lol{levels};", ""
    if kind == "external_dtd":
        return f'<!DOCTYPE {root} SYSTEM "file://{dtd}">', "&leak;", ""
    return "", f'<xi:include href="file://{path}" parse="text"/>', f' xmlns:xi="{XI}"'


@pytest.mark.parametrize("kind", ATTACKS)
def test_positive_control_each_payload_works_on_a_permissive_parser(kind, secret):
    levels = 3 if kind == "billion_laughs" else LEVELS.get(kind)   # a billion would take a while
    doctype, value, ns = attack(kind, "r", secret, levels)
    parser = etree.XMLParser(resolve_entities=True, load_dtd=True, no_network=False, huge_tree=True)
    tree = etree.fromstring(f"{doctype}<r{ns}>{value}</r>".encode(), parser)
    if kind == "xinclude":
        tree.getroottree().xinclude()
    text = "".join(tree.itertext())
    assert (text == "lol" * 10 ** levels) if kind in LEVELS else (secret[0] in text)


def nowhere(marker: str, out, logs_text: str = "") -> None:
    seen = [logs_text, out.refused or ""] + [r.raw + json.dumps(r.data, ensure_ascii=False) for r in out.records]
    seen += [f"{d['reason']}{d['payload']}" for d in out.dead] + [e.model_dump_json() for e in out.envelopes]
    assert not any(marker in s for s in seen), "the secret file was read"
    assert not any("lol" * 100 in s for s in seen), "entities were expanded"


# --- land batch files ----------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ATTACKS)
def test_land_xml_file(kind, secret, land, land_source, pipeline, logs):  # noqa: F811
    doctype, value, ns = attack(kind, "Message", secret)
    rec = dict(land_pool()[0], QLRMC="@@V@@", GXSJ=f"2026-03-05 09:{uuid.uuid4().int % 60:02d}:00")
    text = render_xml([rec], {"JLS": 1}, "UTF-8", [False]).decode("utf-8")
    text = text.replace("?>\n", f"?>\n{doctype}", 1).replace("<Message>", f"<Message{ns}>", 1)
    name = f"TDSP_20260306_{uuid.uuid4().hex[:8]}_{kind}.xml"
    logs.start()
    out = land_run(pipeline, land, land_source, name, text.replace("@@V@@", value).encode("utf-8"))
    nowhere(secret[0], out, logs.text())
    (only,) = out.records
    reason = out.row_of(only)["reason"]
    if kind == "xinclude":   # no DTD: parsed, never included; the element is refused as a nested field
        assert "field QLRMC has nested elements" in reason
    else:                    # refused for its DOCTYPE, before any entity is looked at
        assert "DTDForbidden" in reason and name in reason and (land.folders().failed / name).exists()


# --- ndrc: SOAP responses and the WSDL -------------------------------------------------------------
@pytest.fixture
def ndrc_wire():
    source = NdrcAdapter({"url": "http://ndrc.test", "attempts": 1}).source()
    return source, wire(source.client.session, "http://ndrc.test/", get_body=NDRC_WSDL.encode("utf-8"),
                        content_type="text/xml; charset=utf-8")


@pytest.mark.parametrize("kind", ATTACKS)
def test_ndrc_soap_response(kind, secret, ndrc_wire, pipeline, logs):
    source, w = ndrc_wire
    doctype, value, ns = attack(kind, "soap:Envelope", secret)
    body = ndrc_response([dict(r, handler="@@V@@") for r in ndrc_pool(1)[:2]]).decode("utf-8")
    body = body.replace("?>\n", f"?>\n{doctype}", 1).replace("<soap:Envelope ", f"<soap:Envelope{ns} ", 1)
    w.body = body.replace("@@V@@", value, 1).replace("@@V@@", "郑浩然").encode("utf-8")
    logs.start()
    out = pipeline.poll(source, system="ndrc-tzxm", department="ndrc", name="bi-ndrc-xml")
    nowhere(secret[0], out, logs.text())
    if kind == "xinclude":   # no DTD: read; the include is an element where text was expected, never run
        assert not out.refused and len(out.records) == 2
    else:   # libxml2 may refuse a billion laughs by itself first; the rest only the settings stop
        assert out.refused and not out.envelopes and not out.dead
        assert "DTDForbidden" in out.refused or kind == "billion_laughs", out.refused


@pytest.mark.parametrize("kind", ("xxe", "external_dtd"))
def test_ndrc_wsdl(kind, secret, ndrc_wire, pipeline):
    source, w = ndrc_wire
    doctype, _, _ = attack(kind, "wsdl:definitions", secret)
    w.get_body = NDRC_WSDL.replace("<wsdl:definitions", doctype + "<wsdl:definitions", 1).encode("utf-8")
    out = pipeline.poll(source, system="ndrc-tzxm", department="ndrc", name="bi-ndrc-wsdl")
    assert out.refused and "WSDL not usable" in out.refused and "DTDForbidden" in out.refused
    nowhere(secret[0], out)


# --- province: answers to deliveries (hub/delivery/province_soap.py, zeep's defaults) ---------------
PROVINCE_WSDL = (ROOT / "sims" / "province.wsdl").read_text(encoding="utf-8").replace(
    "http://127.0.0.1:18083/ws/report", "http://province.test/ws/report")


@pytest.mark.parametrize("kind", ATTACKS)
def test_province_answer(kind, secret):
    dest = ProvinceSoap("province", "http://province.test/ws/report?wsdl", timeout=5)
    doctype, value, ns = attack(kind, "soap:Envelope", secret)
    answer = (f'<?xml version="1.0" encoding="utf-8"?>\n{doctype}<soap:Envelope{ns} '
              f'xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
              f'<tns:ReportResponse xmlns:tns="urn:tongban:province:report:1"><tns:code>0</tns:code>'
              f"<tns:message>{value}</tns:message></tns:ReportResponse></soap:Body></soap:Envelope>")
    wire(dest._session, "http://province.test/", body=answer.encode("utf-8"),
         get_body=PROVINCE_WSDL.encode("utf-8"), content_type="text/xml; charset=utf-8")
    meta = MessageMeta(message_id=str(uuid.uuid4()), kind="case_event", case_no="C1", sequence=1,
                       department="land")
    try:
        result = dest.send(b'{"x": 1}', meta)
    except DeliveryError as exc:
        assert secret[0] not in exc.reason and "lol" * 100 not in exc.reason
        # The province client forbids DTDs outright: every DOCTYPE attack is refused before parsing.
        assert kind in ("xxe", "billion_laughs", "entity_expansion", "external_dtd"), exc.reason
        assert "DTDForbidden" in exc.reason or "EntitiesForbidden" in exc.reason or kind == "billion_laughs", exc.reason
    else:
        # zeep never runs an XInclude: the answer reads as accepted and nothing was read from disk.
        assert kind == "xinclude" and result == "accepted"
