"""The provincial node (省节点): a SOAP service described by its WSDL, read with zeep.

The WSDL is loaded on first use, not at start, so a hub can start while the node is
down. zeep's envelope building and reply reading cost more than the HTTP call itself
(bench/delivery_clients.py), so the client reuses what zeep lets it reuse: from the
WSDL, once, it takes the endpoint address and SOAPAction and has zeep serialise one
Report envelope with a marker in each field; that serialisation, cut at the markers, is
the template every call fills in, the values escaped as lxml escapes text. The wire
contract stays zeep's, byte for byte (tests/unit/test_province_template.py). A 200
answer holding a ReportResponse with code 0 or 1 is read with zeep's own hardened parser
(no DTDs, no entities: zeep.loader.parse_xml with the client's settings); every other
answer (a fault, an HTTP error, anything unexpected) is handed to zeep's SOAP binding
to read as before, and a value that XML cannot carry goes through zeep whole."""
from __future__ import annotations

import re
import threading
from urllib.parse import unquote, urlsplit, urlunsplit

import requests
import zeep
import zeep.exceptions
from zeep.loader import parse_xml
from zeep.transports import Transport
from zeep.wsdl.utils import etree_to_string

from .base import ACCEPTED, DUPLICATE, DeliveryError, MessageMeta
from .province_signing import HEADER_FIELDS, MessageSigner
from .retrying import three_tries
from .sessions import keepalive_session, tls_failure, tls_verify

OPERATION = "Report"
FIELDS = ("messageId", "kind", "caseNo", "sequence", "department", "payload")   # the WSDL's order
SOAP_ENV = "{http://schemas.xmlsoap.org/soap/envelope/}"
_MARK = "TONGBAN-TEMPLATE-{}-7c1e"
_SEQ_MARK = 1357924680            # an int marker for the xs:int field
# Characters XML 1.0 cannot carry: such a value goes through zeep, which refuses it as before.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def escape_text(value: str) -> str:
    """Text content as libxml2 serialises it: &, <, > and carriage return escaped."""
    if "&" in value:
        value = value.replace("&", "&amp;")
    if "<" in value:
        value = value.replace("<", "&lt;")
    if ">" in value:
        value = value.replace(">", "&gt;")
    if "\r" in value:
        value = value.replace("\r", "&#13;")
    return value


def split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """(the URL without user:password@, (user, password) or None)."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit(parts._replace(netloc=netloc)), (unquote(parts.username or ""), unquote(parts.password or ""))


class _Template:
    """zeep's Report envelope cut at a marker in each field: the text between the values."""

    def __init__(self, client: zeep.Client, header_marks: dict):
        marks = {f: (_SEQ_MARK if f == "sequence" else _MARK.format(f)) for f in FIELDS}
        kwargs = {"_soapheaders": {"signature": header_marks}} if header_marks else {}
        envelope = client.create_message(client.service, OPERATION, **marks, **kwargs)
        marks.update(header_marks)
        text = etree_to_string(envelope).decode("utf-8")
        self.parts, order = [], []
        pattern = "|".join(re.escape(str(m)) for m in marks.values())
        pos = 0
        for m in re.finditer(pattern, text):
            self.parts.append(text[pos:m.start()])
            order.append(next(f for f, v in marks.items() if str(v) == m.group(0)))
            pos = m.end()
        self.parts.append(text[pos:])
        if sorted(order) != sorted(marks):
            raise ValueError(f"the {OPERATION} envelope does not hold each field once: {order}")
        self.order = order

    def fill(self, values: dict) -> bytes | None:
        out = [self.parts[0]]
        for name, part in zip(self.order, self.parts[1:]):
            value = values[name]
            if name == "sequence":
                if type(value) is not int:
                    return None
                out.append(str(value))
            else:
                if not isinstance(value, str) or _NOT_XML.search(value):
                    return None
                out.append(escape_text(value))
            out.append(part)
        return "".join(out).encode("utf-8")


class _Prepared:
    """What one WSDL gives every call: the zeep client, binding and operation (for the
    answers zeep reads), the address, the headers and the envelope template."""

    def __init__(self, client: zeep.Client):
        self.client = client
        service = next(iter(client.wsdl.services.values()))
        port = next(iter(service.ports.values()))
        self.binding, self.address = port.binding, port.binding_options["address"]
        self.operation = self.binding.get(OPERATION)
        self.tns = self.operation.input.body.qname.namespace
        self.headers = {"Content-Type": "text/xml; charset=utf-8"}
        if self.operation.soapaction:
            self.headers["SOAPAction"] = f'"{self.operation.soapaction}"'
        self.plain = _Template(client, {})
        try:
            self.signed = _Template(client, {f: _MARK.format(f) for f in HEADER_FIELDS})
        except (zeep.exceptions.Error, ValueError, KeyError, TypeError):
            self.signed = None      # a node whose WSDL declares no Signature header

    def envelope(self, values: dict, header: dict | None = None) -> bytes | None:
        """The filled template (with the Signature header when ``header`` is given), or None
        when a value needs zeep (not XML-safe, not an int)."""
        if header is None:
            return self.plain.fill(values)
        if self.signed is None:
            raise DeliveryError(f"the province's WSDL declares no {OPERATION} Signature header: "
                                "it cannot take signed messages (destination signing settings)", transient=False)
        return self.signed.fill({**values, **header})

    def read_fast(self, resp) -> tuple[str, str] | None:
        """(code, message) of a plain answer; None for anything zeep should read."""
        if resp.status_code != 200 or not resp.content:
            return None
        try:
            doc = parse_xml(resp.content, self.client.transport, settings=self.client.settings)
        except zeep.exceptions.Error:
            return None
        if doc.tag != f"{SOAP_ENV}Envelope":
            return None
        body = doc.find(f"{SOAP_ENV}Body")
        if body is None or body.find(f"{SOAP_ENV}Fault") is not None:
            return None
        answer = body.find(f"{{{self.tns}}}{OPERATION}Response")
        code = None if answer is None else answer.findtext(f"{{{self.tns}}}code")
        if code not in ("0", "1"):
            return None
        return code, answer.findtext(f"{{{self.tns}}}message") or ""


class ProvinceSoap:
    def __init__(self, name: str, wsdl: str, timeout: float = 10.0, signing: dict | None = None,
                 ca_bundle: str | None = None, verify: bool = True, **_):
        self.name = name
        self.timeout = timeout
        # Loaded (or made) now: a missing or unreadable key is a settings error at start.
        self.signer = MessageSigner.from_settings(name, signing)
        self._prepared: _Prepared | None = None
        self._lock = threading.Lock()
        self._session = keepalive_session(verify=tls_verify(name, ca_bundle, verify))
        # Credentials in the WSDL's URL become the session's basic auth: zeep logs the URLs it
        # loads, and the calls go to the WSDL's address, which carries none.
        self.wsdl, self._session.auth = split_credentials(wsdl)
        self._send = three_tries(self._call)
        self._post = None

    def _prepare(self) -> _Prepared:
        with self._lock:
            if self._prepared is None:
                try:
                    # No DTDs, entities or external resources in anything the node answers.
                    settings = zeep.Settings(forbid_dtd=True, forbid_entities=True, forbid_external=True)
                    client = zeep.Client(self.wsdl, settings=settings,
                                         transport=Transport(session=self._session, timeout=self.timeout,
                                                             operation_timeout=self.timeout))
                    prepared = _Prepared(client)
                except (requests.RequestException, zeep.exceptions.Error, OSError) as exc:
                    why = tls_failure(exc, self.name)
                    raise DeliveryError(f"province WSDL not available: {why or exc.__class__.__name__}",
                                        transient=True) from None
                self._post = self._session.prepare_request(requests.Request(
                    "POST", prepared.address, headers=prepared.headers))
                self._prepared = prepared
            return self._prepared

    def send(self, body: bytes, meta: MessageMeta) -> str:
        """Three attempts in all for a transient failure (retrying.three_tries)."""
        return self._send(body, meta)

    def _call(self, body: bytes, meta: MessageMeta) -> str:
        p = self._prepared or self._prepare()
        values = {"messageId": meta.message_id, "kind": meta.kind, "caseNo": meta.case_no or "",
                  "sequence": meta.sequence or 0, "department": meta.department,
                  "payload": body.decode("utf-8")}
        # Signed per call, retries included: a fresh time and nonce each time (province_signing.py).
        header = self.signer.header(values) if self.signer else None
        try:
            xml = p.envelope(values, header)
            if xml is None:     # zeep builds, sends and reads it, as it always did
                extra = {"_soapheaders": {"signature": header}} if header else {}
                result = p.client.service.Report(**values, **extra)
                code, message = str(getattr(result, "code", "")), getattr(result, "message", "")
            else:
                req = self._post.copy()
                req.headers["Content-Length"] = str(len(xml))
                req.body = xml
                resp = self._session.send(req, timeout=self.timeout)
                fast = p.read_fast(resp)
                if fast is None:
                    result = p.binding.process_reply(p.client, p.operation, resp)
                    code, message = str(getattr(result, "code", "")), getattr(result, "message", "")
                else:
                    code, message = fast
        except zeep.exceptions.Fault as fault:
            code = str(fault.code or "")
            transient = "Server" in code or "Receiver" in code
            raise DeliveryError(f"province fault {code}: {fault.message}", transient=transient) from None
        except (requests.RequestException, zeep.exceptions.TransportError, OSError) as exc:
            why = tls_failure(exc, self.name) or f"province unreachable: {exc.__class__.__name__}"
            raise DeliveryError(why, transient=True) from None
        except zeep.exceptions.Error as exc:
            raise DeliveryError(f"province answered something that is not SOAP: {exc}", transient=True) from None
        if code == "0":
            return ACCEPTED
        if code == "1":
            return DUPLICATE
        raise DeliveryError(f"province refused the message: code {code} {message}", transient=False)

    def close(self) -> None:
        self._session.close()
