"""The error a record raises when it cannot be mapped or validated.

It names the stage, the mapping, the record and each field with its reason; values
are masked already, so the message can go to a log, a dead letter or the console."""
from __future__ import annotations


class RecordError(Exception):
    def __init__(self, stage: str, mapping: str, record_key: str | None, problems: list[dict]):
        self.stage = stage              # "decode" (text lost before it came), "map" or "validate"
        self.mapping = mapping
        self.record_key = record_key
        self.problems = problems        # [{"record", "field", "reason", "value"}]
        super().__init__(self.reason)

    @property
    def reason(self) -> str:
        fields = "; ".join(f"{p['field']}: {p['reason']} (value {p['value']!r})" for p in self.problems)
        return f"{self.stage} failed in {self.mapping} for record {self.record_key}: {fields}"


class TransformError(ValueError):
    """A value could not be transformed; the message says why, without the value."""
