"""One zeep client per caller (the source and the sink run in different threads), its WSDL
loaded on first use so the hub starts while the system is down, its prepared service proxy
reused for every call (zeep's envelope building is what a SOAP call costs).

Every way a call can fail becomes one CallFailed, transient or not: a soap:Server fault,
a dropped connection, a timeout, an HTTP error page or a cut-off envelope may pass; a
soap:Client fault says our request is wrong and will stay wrong. An answer that came (HTTP 200)
but cannot be read (not well-formed, cut off, not what the schema says) carries its bytes as
received in CallFailed.raw: the source makes it a PageUnreadable, for the source worker to
isolate and dead-letter (hub/runtime/unreadable.py); an HTML page there is a gateway's, a passing
outage, and carries none."""
from __future__ import annotations

import logging

import requests
import zeep
import zeep.exceptions
from lxml import etree
from zeep.transports import Transport

from hub.adapter import is_html

OPERATIONS = ("QueryProjectChanges", "SubmitApplication")
# Said explicitly rather than left to zeep's defaults: a response or WSDL with a DOCTYPE is
# refused (no legitimate SOAP message has one: XXE, entity bombs and external DTDs arrive that
# way), entities are never expanded, nothing external is fetched, and libxml2 keeps its limits
# on depth and text size (no huge_tree). XInclude is never processed (zeep never calls it).
XML_SETTINGS = zeep.Settings(strict=True, forbid_dtd=True, forbid_entities=True, forbid_external=True,
                             xml_huge_tree=False)


class _NoValuesInTracebacks(logging.Filter):
    """zeep logs a value it cannot read as its type (an ID number in an xs:int) with a traceback
    whose last line echoes the value, unmasked (the hub's masking filter sees the message only):
    keep the message and the exception's type."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info:
            record.msg = f"{record.getMessage()} ({record.exc_info[0].__name__}; the value is not shown)"
            record.args = None
            record.exc_info = record.exc_text = None
        return True


logging.getLogger("zeep.xsd.types.simple").addFilter(_NoValuesInTracebacks())


class CallFailed(Exception):
    def __init__(self, reason: str, transient: bool, raw: bytes | None = None):
        super().__init__(reason)
        self.reason, self.transient, self.raw = reason, transient, raw


class _KeepingTransport(Transport):
    """Remembers the last answer, so that one zeep cannot read can be kept as it came."""
    last = None

    def post(self, address, message, headers):
        self.last = None
        self.last = super().post(address, message, headers)
        return self.last


class SoapClient:
    def __init__(self, wsdl: str, timeout: float = 10.0):
        self.wsdl = wsdl
        self.timeout = timeout
        self.session = requests.Session()
        self.session.trust_env = False  # no proxy lookups per call
        self._service = None
        self._transport: _KeepingTransport | None = None

    def service(self):
        if self._service is None:
            try:
                transport = _KeepingTransport(session=self.session, timeout=self.timeout,
                                              operation_timeout=self.timeout)
                client = zeep.Client(self.wsdl, settings=XML_SETTINGS, transport=transport)
                service = client.service
                for name in OPERATIONS:  # a WSDL of another service fails here, not mid-poll
                    getattr(service, name)
            except (requests.RequestException, zeep.exceptions.Error, etree.LxmlError, OSError,
                    AttributeError, ValueError) as exc:
                raise CallFailed(f"WSDL not usable at {self.wsdl}: {exc.__class__.__name__}: {str(exc)[:200]}",
                                 transient=True) from None
            self._service, self._transport = service, transport
        return self._service

    def call(self, operation: str, **params):
        service = self.service()
        self._transport.last = None   # an error before the answer came must not take the last call's
        try:
            return getattr(service, operation)(**params)
        except zeep.exceptions.Fault as fault:
            code = str(fault.code or "")
            transient = "Server" in code or "Receiver" in code
            raise CallFailed(f"SOAP fault {code}: {fault.message}", transient) from None
        except (requests.RequestException, OSError) as exc:
            raise CallFailed(f"unreachable: {exc.__class__.__name__}", transient=True) from None
        except zeep.exceptions.TransportError as exc:
            if exc.status_code == 200:   # zeep's message ends with the content: only its first line is kept
                first = str(exc).split("\n", 1)[0].removeprefix("Server returned response (200) with ")
                raise self._unreadable(f"malformed SOAP response: {first[:200]}", exc.content) from None
            raise CallFailed(f"HTTP {exc.status_code} without a readable SOAP envelope", transient=True) from None
        except (zeep.exceptions.Error, etree.LxmlError) as exc:
            raise self._unreadable(f"malformed SOAP response: {str(exc)[:200]}") from None

    def _unreadable(self, reason: str, raw: bytes | None = None) -> CallFailed:
        response = self._transport.last
        if response is None:   # no answer came: our request could not be made
            return CallFailed(reason, transient=True)
        if raw is None and response.status_code == 200:
            raw = response.content
        if is_html(response.headers.get("Content-Type")):
            return CallFailed(f"{reason} (an HTML page: a gateway's, not the service's)", transient=True)
        return CallFailed(reason, transient=True, raw=raw)

    def close(self) -> None:
        self.session.close()
