"""Hub settings: config/hub.yaml, every value overridable by environment variables.

TONGBAN__A__B=value sets settings["a"]["b"]; TONGBAN_BROKER_URL and TONGBAN_DB_URL are
short forms for the two settings everyone changes. Relative paths are resolved from the
project root, so commands work from any working directory."""
from __future__ import annotations

import copy
import os
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_FILE = ROOT / "config" / "hub.yaml"


_INT = re.compile(r"^-?(0|[1-9]\d*)$")
_FLOAT = re.compile(r"^-?\d+\.\d+$")


def _coerce(text: str):
    # Only the plain shapes are converted: "10" -> 10, "0.5" -> 0.5, "true" -> True. Anything
    # else stays the string it is ("0571" is an area code, "#s3cret!" a password).
    if _INT.match(text):
        return int(text)
    if _FLOAT.match(text):
        return float(text)
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text


def load_settings(path: str | Path | None = None, environ: dict | None = None) -> dict:
    env = os.environ if environ is None else environ
    file = Path(path or env.get("TONGBAN_CONFIG") or DEFAULT_FILE)
    with open(file, encoding="utf-8") as fh:
        settings = yaml.safe_load(fh) or {}
    settings = copy.deepcopy(settings)
    for key, value in env.items():
        if key.startswith("TONGBAN__"):
            parts = [p.lower() for p in key[len("TONGBAN__"):].split("__") if p]
            cur = settings
            for p in parts[:-1]:
                cur = cur.setdefault(p, {})
            cur[parts[-1]] = _coerce(value)
    if env.get("TONGBAN_BROKER_URL"):
        settings["broker_url"] = env["TONGBAN_BROKER_URL"]
    if env.get("TONGBAN_DB_URL"):
        settings["db_url"] = env["TONGBAN_DB_URL"]
    for key in ("routes_file", "mappings_dir"):
        if key in settings and not Path(settings[key]).is_absolute():
            settings[key] = str(ROOT / settings[key])
    db = settings.get("db_url", "")
    if db.startswith("sqlite:///") and not db.startswith("sqlite:////") and ":memory:" not in db:
        settings["db_url"] = "sqlite:///" + str(ROOT / db[len("sqlite:///"):])
    return settings


def with_endpoints(settings: dict, endpoints: dict) -> dict:
    """Settings pointed at running servers, by name: legacy systems by adapter name,
    destinations by destination name. A value is a URL, or a dict of adapter settings
    ({"url": ...} or {"db_url": ...} or folders) plus "admin_url", the simulator's own
    HTTP admin API that verify and the demo read."""
    out = copy.deepcopy(settings)
    for name, value in endpoints.items():
        value = value if isinstance(value, dict) else {"url": value, "admin_url": value}
        base = name[: -len("_new")] if name.endswith("_new") else None
        if base and base in (out.get("adapters") or {}):
            # A department's "new" instance (dual-track): its settings are the new track's overrides.
            out["adapters"][base].setdefault("tracks", {}).setdefault("new", {}).update(value)
            continue
        if name in (out.get("adapters") or {}):
            out["adapters"][name].update(value)
        if isinstance(out.get(name), dict) and "url" in out[name]:   # e.g. the catalogue
            out[name]["url"] = value.get("url") or value["admin_url"]
        if name in (out.get("destinations") or {}):
            dest = out["destinations"][name]
            url = value.get("url") or value["admin_url"]
            if "wsdl" in dest:
                path = dest["wsdl"].split("/", 3)[3] if dest["wsdl"].count("/") >= 3 else "ws/report?wsdl"
                dest["wsdl"] = f"{url.rstrip('/')}/{path}"
            else:
                dest["url"] = url
    return out
