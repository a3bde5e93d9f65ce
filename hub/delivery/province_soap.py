"""The provincial node (省节点): a SOAP service called through zeep.

The WSDL is loaded on first use, not at start, so a hub can start while the node is
down; the prepared service proxy is reused for every call (zeep's envelope building
dominates the cost of a call)."""
from __future__ import annotations

import requests
import zeep
import zeep.exceptions
from zeep.transports import Transport

from .base import ACCEPTED, DUPLICATE, DeliveryError, MessageMeta
from .retrying import within_attempt


class ProvinceSoap:
    def __init__(self, name: str, wsdl: str, timeout: float = 10.0, **_):
        self.name = name
        self.wsdl = wsdl
        self.timeout = timeout
        self._service = None
        self._session = requests.Session()
        self._session.trust_env = False

    def _proxy(self):
        if self._service is None:
            try:
                # No DTDs, entities or external resources in anything the node answers.
                settings = zeep.Settings(forbid_dtd=True, forbid_entities=True, forbid_external=True)
                client = zeep.Client(self.wsdl, settings=settings,
                                     transport=Transport(session=self._session, timeout=self.timeout,
                                                         operation_timeout=self.timeout))
            except (requests.RequestException, zeep.exceptions.Error, OSError) as exc:
                raise DeliveryError(f"province WSDL not available: {exc.__class__.__name__}", transient=True) from None
            self._service = client.service
        return self._service

    @within_attempt()
    def send(self, body: bytes, meta: MessageMeta) -> str:
        service = self._proxy()
        try:
            result = service.Report(messageId=meta.message_id, kind=meta.kind, caseNo=meta.case_no or "",
                                    sequence=meta.sequence or 0, department=meta.department,
                                    payload=body.decode("utf-8"))
        except zeep.exceptions.Fault as fault:
            code = str(fault.code or "")
            transient = "Server" in code or "Receiver" in code
            raise DeliveryError(f"province fault {code}: {fault.message}", transient=transient) from None
        except (requests.RequestException, zeep.exceptions.TransportError, OSError) as exc:
            raise DeliveryError(f"province unreachable: {exc.__class__.__name__}", transient=True) from None
        except zeep.exceptions.Error as exc:
            raise DeliveryError(f"province answered something that is not SOAP: {exc}", transient=True) from None
        code = str(getattr(result, "code", ""))
        if code == "0":
            return ACCEPTED
        if code == "1":
            return DUPLICATE
        raise DeliveryError(f"province refused the message: code {code} {getattr(result, 'message', '')}",
                            transient=False)

    def close(self) -> None:
        self._session.close()
