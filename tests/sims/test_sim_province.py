"""The provincial node simulator, called the way the hub calls it: through zeep."""
from __future__ import annotations

import uuid

import pytest
import requests
import zeep
from lxml import etree
from zeep.exceptions import Fault
from zeep.transports import Transport

TNS = "urn:tongban:province:report:1"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"


@pytest.fixture
def client(province):
    session = requests.Session()
    session.trust_env = False
    yield zeep.Client(f"{province.url}/ws/report?wsdl", transport=Transport(session=session))
    session.close()


def report(client, message_id=None, sequence=1):
    return client.service.Report(messageId=message_id or str(uuid.uuid4()), kind="case_event",
                                 caseNo="SCJG202600310001", sequence=sequence,
                                 department="commerce", payload='{"type": "accepted"}')


def raw(http, province, body: str, prolog: str = ""):
    xml = (f'{prolog}<soap:Envelope xmlns:soap="{SOAP}" xmlns:r="{TNS}"><soap:Body>'
           f"{body}</soap:Body></soap:Envelope>")
    return http.post(f"{province.url}/ws/report", data=xml.encode(),
                     headers={"Content-Type": "text/xml; charset=utf-8"})


def fault_of(response) -> tuple[str, str]:
    root = etree.fromstring(response.content)
    fault = root.find(f"{{{SOAP}}}Body/{{{SOAP}}}Fault")
    return fault.findtext("faultcode"), fault.findtext("faultstring")


def test_wsdl_points_at_the_running_server(http, province, client):
    wsdl = http.get(f"{province.url}/ws/report?wsdl")
    assert wsdl.status_code == 200 and b"urn:tongban:province:report:1" in wsdl.content
    assert client.service._binding_options["address"] == f"{province.url}/ws/report"
    hostile = http.get(f"{province.url}/ws/report?wsdl", headers={"Host": 'x"><evil'})
    assert f"http://127.0.0.1:{province.port}/ws/report".encode() in hostile.content


def test_report_accepted_then_duplicate(http, province, client):
    message_id = str(uuid.uuid4())
    first = report(client, message_id)
    assert first.code == "0"
    again = report(client, message_id)
    assert again.code == "1" and again.message
    assert http.get(f"{province.url}/_admin/stats").json() == {"accepted": 1, "duplicates_refused": 1}
    item = http.get(f"{province.url}/_admin/received").json()["items"][0]
    assert item["message_id"] == message_id and item["sequence"] == 1
    assert item["department"] == "commerce" and item["payload"] == '{"type": "accepted"}'


def test_the_example_call_from_the_contract(province, client):
    result = client.service.Report(messageId="m-1", kind="case_event", caseNo="C1", sequence=1,
                                   department="commerce", payload="{}")
    assert result.code == "0"


def test_bad_sequence_is_a_client_fault(http, province):
    fields = ("<r:messageId>m1</r:messageId><r:kind>k</r:kind><r:caseNo>c</r:caseNo>"
              "<r:sequence>two</r:sequence><r:department>commerce</r:department><r:payload>{{}}</r:payload>")
    r = raw(http, province, f"<r:Report>{fields}</r:Report>".replace("{{}}", "{}"))
    assert r.status_code == 500
    code, text = fault_of(r)
    assert code == "soap:Client" and "sequence" in text


def test_missing_element_is_a_client_fault_naming_it(http, province):
    r = raw(http, province, "<r:Report><r:messageId>m1</r:messageId><r:kind>k</r:kind></r:Report>")
    assert fault_of(r) == ("soap:Client", "missing element: caseNo")


def test_doctype_and_xxe_are_refused(http, province, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    prolog = f'<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file://{secret}">]>'
    body = ("<r:Report><r:messageId>&xxe;</r:messageId><r:kind>k</r:kind><r:caseNo>c</r:caseNo>"
            "<r:sequence>1</r:sequence><r:department>d</r:department><r:payload>{}</r:payload></r:Report>")
    r = raw(http, province, body, prolog)
    assert r.status_code == 500 and b"TOP-SECRET" not in r.content
    code, text = fault_of(r)
    assert code == "soap:Client" and "DOCTYPE" in text
    bomb = '<!DOCTYPE b [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    assert fault_of(raw(http, province, body.replace("&xxe;", "&b;"), bomb))[0] == "soap:Client"
    assert http.get(f"{province.url}/_admin/stats").json()["accepted"] == 0


def test_not_xml_is_a_client_fault(http, province):
    r = http.post(f"{province.url}/ws/report", data=b"hello")
    assert r.status_code == 500 and fault_of(r)[0] == "soap:Client"


def test_injected_error_is_a_server_fault(http, province, client):
    http.post(f"{province.url}/_admin/faults", json={"error_rate": 1.0})
    with pytest.raises(Fault) as caught:
        report(client)
    assert caught.value.code == "soap:Server"
    http.post(f"{province.url}/_admin/faults", json={"error_rate": 0})
    assert report(client).code == "0"
