"""发改 投资项目在线审批监管平台: the investment project approval system, a SOAP 1.1 web
service called through zeep against the WSDL it serves. Reads its change feed
(QueryProjectChanges) and delivers applications to it (SubmitApplication)."""
from __future__ import annotations

from hub.adapter import Adapter, CheckResult, ConfigSpec, Field

from .client import CallFailed, SoapClient
from .sink import NdrcSink
from .source import NdrcSource

SERVICE_PATH = "/services/ProjectApprovalService"  # where CXF-style services publish themselves


class NdrcAdapter(Adapter):
    name = "ndrc"
    department = "ndrc"
    department_label = ("发展和改革局", "development and reform")
    system = "ndrc-tzxm"
    style = "soap"
    has_sink = True
    spec = ConfigSpec(fields=(
        Field("url", "base URL of the project approval system's web server", required=True,
              example="http://127.0.0.1:18084"),
        Field("wsdl", f"URL of the service's WSDL, when not <url>{SERVICE_PATH}?wsdl",
              example="http://10.1.2.3:8080/services/ProjectApprovalService?wsdl"),
        Field("page_size", "change records asked for per QueryProjectChanges call", type=int, default=200,
              example=200),
        Field("timeout", "seconds before a call (or the WSDL download) counts as failed", type=float,
              default=10.0),
        Field("attempts", "tries of one page before the source reports the system unavailable", type=int,
              default=3),
    ))

    @property
    def wsdl(self) -> str:
        return self.config["wsdl"] or f"{self.config['url'].rstrip('/')}{SERVICE_PATH}?wsdl"

    def source(self) -> NdrcSource:
        return NdrcSource(self.wsdl, self.config["timeout"], self.config["attempts"], self.config["max_record_bytes"])

    def sink(self) -> NdrcSink:
        return NdrcSink(self.name, self.wsdl, self.config["timeout"])

    @classmethod
    def simulator(cls):
        from sims.harness import BuiltinSimulator   # the simulators are not needed to run the hub
        return BuiltinSimulator("ndrc")

    def check(self) -> CheckResult:
        client = SoapClient(self.wsdl, self.config["timeout"])
        try:
            result = client.call("QueryProjectChanges", updatedSince=None, afterId=0, pageSize=1)
        except CallFailed as exc:
            return CheckResult(False, f"project approval system not usable: {exc.reason}")
        finally:
            client.close()
        return CheckResult(True, "WSDL loaded; QueryProjectChanges answers",
                           {"sample_items": len(result.change or []), "has_more": bool(result.hasMore)})
