"""`tongban adapters new NAME --style rest|soap|db|file`: a complete adapter as its own installable
package.

What it writes is the shape an integrator should keep (source, sink, spec, a mapping with a code
table, a sample pair, a simulator, tests that pass at once); places that need a decision of theirs
say DECIDE. Each style's folder under templates/ holds its own modules (*.py.tmpl, written into the
package), its mapping (case_event.yaml.tmpl) and any other file the package ships (a WSDL);
templates/common holds what every style shares. The sample's expected output is made by mapping the simulator's first record, so the
pair is right by construction and becomes a regression test as the mapping is edited."""
from __future__ import annotations

import importlib
import json
import re
import sys
from pathlib import Path
from string import Template

from hub.model.common import DEPARTMENT_PATTERN

TEMPLATES = Path(__file__).resolve().parent / "templates"
STYLES = ("rest", "soap", "db", "file")
WRITTEN = STYLES    # every style has its templates
_NAME = re.compile(DEPARTMENT_PATTERN)


class ScaffoldError(ValueError):
    pass


def _files(style: str, package: str, dept: str, name: str) -> dict[Path, str]:
    """template -> path in the package: the style's own, then the ones every style shares"""
    out = {TEMPLATES / "common" / "pyproject.toml.tmpl": "pyproject.toml"}
    for template in sorted((TEMPLATES / style).glob("*.tmpl")):
        target = template.name.removesuffix(".tmpl")
        out[template] = f"{package}/mappings/{dept}/{target}" if target.endswith(".yaml") else f"{package}/{target}"
    out[TEMPLATES / "common" / "test_adapter.py.tmpl"] = f"tests/test_{name}.py"
    return out


def new(name: str, style: str, directory: str | Path | None = None, *, department: str | None = None,
        label_zh: str = "", label_en: str = "", port: int = 18100) -> Path:
    """Write the package; returns its folder. Refuses a bad name, an unwritten style, a folder in use."""
    if not _NAME.match(name):
        raise ScaffoldError(f"adapter name {name!r} must be a lower-case identifier (a-z, 0-9, _; 2-32 characters, "
                            f"starting with a letter), e.g. socialsec")
    dept = department or name
    if not _NAME.match(dept):
        raise ScaffoldError(f"department {dept!r} must be a lower-case identifier, e.g. socialsec")
    if style not in STYLES:
        raise ScaffoldError(f"style {style!r} is not one of {', '.join(STYLES)}")
    root = Path(directory or f"tongban-{name}")
    if root.exists() and any(root.iterdir()):
        raise ScaffoldError(f"{root}: the folder exists and is not empty; choose another with --package")
    package = f"tongban_{name}"
    cls_base = "".join(p.capitalize() for p in name.split("_"))
    values = {"name": name, "dept": dept, "package": package, "cls": f"{cls_base}Adapter", "cls_base": cls_base,
              "system": f"{dept}-system", "label_zh": label_zh or dept, "label_en": label_en or dept,
              "port": str(port), "key_field": "eventId", "prefix": dept[:4].upper(), "style": style}
    for template, target in _files(style, package, dept, name).items():
        text = Template(template.read_text(encoding="utf-8")).substitute(values)
        path = root / target
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    _sample(root, package, dept, values["system"])
    return root


def _module(root: Path, package: str, module: str):
    """package.module of the package just written, imported from its folder and forgotten again
    (its modules import each other relatively, so it is loaded as the package it is)."""
    def ours(name: str) -> bool:
        return name == package or name.startswith(package + ".")
    before = {m: sys.modules.pop(m) for m in [m for m in sys.modules if ours(m)]}   # another of that name, loaded
    sys.path.insert(0, str(root))
    try:
        return importlib.import_module(f"{package}.{module}")
    finally:
        sys.path.remove(str(root))
        for loaded in [m for m in sys.modules if ours(m)]:
            del sys.modules[loaded]
        sys.modules.update(before)


def _sample(root: Path, package: str, dept: str, system: str) -> None:
    from hub.mapping import MappingSet
    from hub.mapping.compiler import load_file
    from hub.mapping.samples import canonical_output
    sim = _module(root, package, "sim")
    record = sim.records(1)[0]
    mapping = root / package / "mappings" / dept / "case_event.yaml"
    expected = canonical_output(MappingSet([load_file(mapping)]), system, record)
    if not isinstance(expected, list):   # the templates and the simulator disagree: a bug here, not theirs
        raise ScaffoldError(f"the scaffold's own sample does not map: {expected}")
    samples = mapping.parent / "samples"
    samples.mkdir(exist_ok=True)
    (samples / "accepted.input.json").write_text(json.dumps(record, ensure_ascii=False, indent=2) + "\n",
                                                 encoding="utf-8")
    (samples / "accepted.expected.json").write_text(json.dumps(expected, ensure_ascii=False, indent=2) + "\n",
                                                    encoding="utf-8")
