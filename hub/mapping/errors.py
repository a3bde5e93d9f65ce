"""The errors of the mapping engine.

RecordError: a record that cannot be mapped or validated. It names the stage, the mapping, the
record and each field with its reason; values are masked already, so the message can go to a
log, a dead letter or the console.

SpecError / MappingFileError: a mapping file that cannot be compiled. The compiler raises
SpecError with the path of the offending key in the document; the loader turns it into a
MappingFileError naming the file, the line of that key and the key (yamlfile.py)."""
from __future__ import annotations

import difflib


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


class SpecError(ValueError):
    """Part of a mapping file is wrong. `key` is where, as the path of keys (and list indexes)
    from the top of the document: ("fields", "occurred_at", "transform", 1)."""

    def __init__(self, message: str, key=()):
        self.message, self.key = message, tuple(key)
        super().__init__(message)


def dotted(key) -> str:
    return ".".join(str(k) for k in key)


class MappingFileError(ValueError):
    """A mapping file that does not compile: file, line (when the key is in the file) and key."""

    def __init__(self, file: str, message: str, key=(), line: int | None = None):
        self.file, self.message, self.key, self.line = str(file), message, tuple(key), line
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where} ({dotted(self.key)}): {self.message}" if self.key else f"{where}: {self.message}"


def did_you_mean(name, known) -> str:
    """"; did you mean 'x'?" when a known name is close, else ""."""
    close = difflib.get_close_matches(str(name), [str(k) for k in known], n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""
