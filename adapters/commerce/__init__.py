"""市场监管 企业登记: the legacy enterprise-registration system, a REST/JSON change feed."""
from __future__ import annotations

import requests

from hub.adapter import Adapter, CheckResult, ConfigSpec, Field

from .sink import CommerceSink
from .source import CommerceSource


class CommerceAdapter(Adapter):
    name = "commerce"
    department = "commerce"
    system = "commerce-registry"
    style = "rest"
    department_label = ("市场监督管理局", "market regulation")
    has_sink = True
    spec = ConfigSpec(fields=(
        Field("url", "base URL of the registration system's REST API", required=True,
              example="http://127.0.0.1:18081"),
        Field("timeout", "seconds before a call counts as failed", type=float, default=10.0),
    ))

    def source(self) -> CommerceSource:
        return CommerceSource(self.config["url"], self.config["timeout"], self.config["max_record_bytes"])

    def sink(self) -> CommerceSink:
        return CommerceSink(self.name, self.config["url"], self.config["timeout"])

    @classmethod
    def simulator(cls):
        from sims.harness import BuiltinSimulator   # the simulators are not needed to run the hub
        return BuiltinSimulator("commerce")

    def check(self) -> CheckResult:
        try:
            resp = requests.get(f"{self.config['url'].rstrip('/')}/api/v1/changes",
                                params={"pageSize": 1}, timeout=self.config["timeout"])
        except requests.RequestException as exc:
            return CheckResult(False, f"cannot reach {self.config['url']}: {exc.__class__.__name__}")
        if resp.status_code != 200:
            return CheckResult(False, f"{self.config['url']} answered HTTP {resp.status_code}")
        return CheckResult(True, "change feed answers", {"sample_items": len(resp.json().get("items", []))})
