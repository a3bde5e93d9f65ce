"""Readable, masked descriptions of validation failures.

pydantic's own messages echo the whole input; these name the record, the field
path and the reason, with personal data masked."""
from __future__ import annotations

from pydantic import ValidationError

from .masking import mask_text, mask_value


def describe(exc: ValidationError, record_key: str | None = None) -> list[dict]:
    problems = []
    for err in exc.errors(include_url=False):
        field = ".".join(str(p) for p in err["loc"]) or "(record)"
        value = err.get("input")
        shown = mask_value(field, value) if isinstance(value, (str, int, float)) or value is None else "(object)"
        problems.append({
            "record": record_key,
            "field": field,
            "reason": mask_text(err["msg"]),
            "value": shown,
        })
    return problems


def summary(problems: list[dict]) -> str:
    parts = [f"{p['field']}: {p['reason']} (value {p['value']!r})" for p in problems]
    head = f"record {problems[0]['record']}: " if problems and problems[0]["record"] else ""
    return head + "; ".join(parts)
