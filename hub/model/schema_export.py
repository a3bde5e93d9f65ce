"""JSON Schema export of every canonical model (`tongban schema export DIR`)."""
from __future__ import annotations

import json
from pathlib import Path

from . import MODELS


def export(directory: str | Path) -> list[Path]:
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, model in MODELS.items():
        path = out / f"{name}.schema.json"
        path.write_text(json.dumps(model.model_json_schema(), ensure_ascii=False, indent=2), encoding="utf-8")
        written.append(path)
    return written
