"""A fifth department shipped as its own package, as an integrator would: a module and a
dist-info folder with its entry point, put on sys.path. Nothing in hub/ names it."""
from __future__ import annotations

import importlib
import sys
import textwrap
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]

ADAPTER = '''
from hub.adapter import Adapter, CheckResult, ConfigSpec, Field, Page, Source


class ListSource(Source):
    records = []

    def fetch(self, cursor, limit):
        start = (cursor or {}).get("next", 0)
        page = self.records[start:start + limit]
        return Page(records=page, cursor={"next": start + len(page)})


class SocialsecAdapter(Adapter):
    name = "sisystem"          # not its department's name, on purpose
    department = "socialsec"
    department_label = ("人力资源和社会保障局", "human resources and social security")
    system = "socialsec-si"
    style = "rest"
    spec = ConfigSpec(fields=(Field("url", "base URL", required=True, example="http://127.0.0.1:1"),))

    def source(self):
        return ListSource()

    def check(self):
        return CheckResult(True, "ok")
'''


def install(tmp_path: Path, monkeypatch) -> Path:
    """The package on sys.path, and a mappings tree holding the hub's and the fifth one's."""
    pkg = tmp_path / "site"
    (pkg / "tongban_socialsec").mkdir(parents=True)
    (pkg / "tongban_socialsec" / "__init__.py").write_text(textwrap.dedent(ADAPTER), encoding="utf-8")
    info = pkg / "tongban_socialsec-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: tongban-socialsec\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[tongban.adapters]\nsisystem = tongban_socialsec:SocialsecAdapter\n")
    monkeypatch.syspath_prepend(str(pkg))
    importlib.invalidate_caches()
    monkeypatch.delitem(sys.modules, "tongban_socialsec", raising=False)
    mappings = tmp_path / "mappings"
    (mappings / "socialsec").mkdir(parents=True)
    doc = yaml.safe_load((ROOT / "mappings/commerce/case_event.yaml").read_text(encoding="utf-8"))
    doc.update(name="socialsec.case_event", department="socialsec", system="socialsec-si")
    doc["fields"]["case_no"] = {"path": "AAZ001", "transform": ["trim", "halfwidth", "upper"], "required": True}
    doc["fields"]["department"] = {"const": "socialsec"}
    (mappings / "socialsec" / "case_event.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return mappings
