"""SOAP 1.1 plumbing for simulators that speak it (the provincial node now, the NDRC
platform later): hardened parsing, envelopes, faults, and a WSDL whose address is the
one the caller actually reached."""
from __future__ import annotations

import re
from pathlib import Path

from lxml import etree

from .base import Request, Response

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
XML_TYPE = "text/xml; charset=utf-8"
_HOST_RE = re.compile(r"^(?:[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$")


class SoapFault(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message  # code: "Client" or "Server"


def parse_envelope(data: bytes) -> etree._Element:
    """The first element inside soap:Body. Anything carrying a DOCTYPE is refused
    outright: no legitimate SOAP 1.1 message has one, and it is how XXE and entity
    bombs arrive."""
    return parse_message(data)[1]


def parse_message(data: bytes) -> tuple[etree._Element | None, etree._Element]:
    """(soap:Header or None, the first element inside soap:Body), parsed as parse_envelope does."""
    # A fresh parser per call: lxml parsers must not be shared between threads.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             dtd_validation=False, huge_tree=False, remove_pis=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise SoapFault("Client", f"malformed XML: {exc}") from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise SoapFault("Client", "DOCTYPE is not allowed in a SOAP message")
    if root.tag != f"{{{SOAP_ENV}}}Envelope":
        raise SoapFault("Client", "not a SOAP 1.1 Envelope")
    body = root.find(f"{{{SOAP_ENV}}}Body")
    if body is None:
        raise SoapFault("Client", "soap:Body is missing")
    children = [c for c in body if isinstance(c.tag, str)]
    if not children:
        raise SoapFault("Client", "soap:Body is empty")
    return root.find(f"{{{SOAP_ENV}}}Header"), children[0]


def fields(element: etree._Element, namespace: str) -> dict[str, str]:
    """Child elements by local name (qualified in `namespace`, or unqualified)."""
    out = {}
    for child in element:
        if not isinstance(child.tag, str):
            continue
        qname = etree.QName(child)
        if qname.namespace in (namespace, None):
            out[qname.localname] = child.text or ""
    return out


def envelope(payload: etree._Element) -> bytes:
    env = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV})
    etree.SubElement(env, f"{{{SOAP_ENV}}}Body").append(payload)
    return etree.tostring(env, xml_declaration=True, encoding="utf-8")


def fault_response(code: str, message: str) -> Response:
    fault = etree.Element(f"{{{SOAP_ENV}}}Fault", nsmap={"soap": SOAP_ENV})
    etree.SubElement(fault, "faultcode").text = f"soap:{code}"
    etree.SubElement(fault, "faultstring").text = message
    # SOAP 1.1 over HTTP: every fault, the caller's or ours, travels with status 500.
    return Response(500, envelope(fault), XML_TYPE)


class Wsdl:
    """A WSDL file whose soap:address placeholder is swapped for the real address."""

    def __init__(self, path: Path, placeholder: str):
        self.text = path.read_text(encoding="utf-8")
        if placeholder not in self.text:
            raise ValueError(f"{path} lacks the address placeholder {placeholder}")
        self.placeholder = placeholder
        self._cache: dict[str, bytes] = {}

    def render(self, req: Request, fallback_host: str, endpoint_path: str, scheme: str = "http") -> Response:
        host = req.headers.get("host", "")
        if not _HOST_RE.match(host):  # a hostile Host header must not reach the XML
            host = fallback_host
        if (scheme, host) not in self._cache:
            self._cache[(scheme, host)] = self.text.replace(self.placeholder,
                                                            f"{scheme}://{host}{endpoint_path}").encode()
        return Response(200, self._cache[(scheme, host)], XML_TYPE)
