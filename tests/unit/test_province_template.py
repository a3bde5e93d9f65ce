"""The province client's prepared envelope is zeep's, byte for byte (hub/delivery/province_soap.py)."""
from __future__ import annotations

from pathlib import Path

import pytest
import zeep
from hypothesis import given, settings, strategies as st
from zeep.wsdl.utils import etree_to_string

from hub.delivery.province_soap import _Prepared

WSDL = str(Path(__file__).resolve().parents[2] / "sims" / "province.wsdl")
CLIENT = zeep.Client(WSDL, settings=zeep.Settings(forbid_dtd=True, forbid_entities=True, forbid_external=True))
PREPARED = _Prepared(CLIENT)
XML_SAFE = st.characters(blacklist_categories=("Cs",), blacklist_characters="\ufffe\uffff") \
    .filter(lambda c: c in "\t\n\r" or c >= " ")


def zeep_bytes(values: dict) -> bytes:
    return etree_to_string(CLIENT.create_message(CLIENT.service, "Report", **values))


def values(text: str, seq: int = 3) -> dict:
    return {"messageId": text, "kind": "case_event", "caseNo": text[::-1], "sequence": seq,
            "department": "commerce", "payload": '{"opinion": %s}' % repr(text)}


@pytest.mark.parametrize("text", ["", "plain", "a&b<c>d\"e'f", "line\r\nnext\ttab", "]]>", "办件 受理 𠀀 🙂",
                                  "&amp; already", "<![CDATA[x]]>"])
def test_template_is_zeeps_envelope(text):
    assert PREPARED.envelope(values(text)) == zeep_bytes(values(text))


@settings(max_examples=300, deadline=None)
@given(st.text(XML_SAFE, max_size=40), st.integers(-(2**31), 2**31 - 1))
def test_template_is_zeeps_envelope_for_any_xml_text(text, seq):
    assert PREPARED.envelope(values(text, seq)) == zeep_bytes(values(text, seq))


@pytest.mark.parametrize("text", ["nul\x00", "bell\x07", "\ufffe", "lone \ud800"])
def test_values_xml_cannot_carry_go_to_zeep(text):
    assert PREPARED.envelope(values(text)) is None


def test_address_and_action_come_from_the_wsdl():
    assert PREPARED.address == "http://127.0.0.1:18083/ws/report"
    assert PREPARED.headers == {"Content-Type": "text/xml; charset=utf-8",
                                "SOAPAction": '"urn:tongban:province:report:1#Report"'}


HEADER = {"algorithm": "ed25519", "keyId": "0123456789abcdef", "signedAt": "2026-12-01T01:02:03.456+00:00",
          "nonce": "a1" * 16, "value": "c2lnbmF0dXJlPT0+Jg=="}


@pytest.mark.parametrize("text", ["plain", "a&b<c>d", "办件 受理 🙂", "line\r\nnext"])
def test_signed_template_is_zeeps_envelope_with_the_signature_header(text):
    header = {**HEADER, "keyId": text}
    expected = etree_to_string(CLIENT.create_message(CLIENT.service, "Report", **values(text),
                                                     _soapheaders={"signature": header}))
    assert PREPARED.envelope(values(text), header) == expected
    assert b"<soap-env:Header><ns0:Signature" in expected
