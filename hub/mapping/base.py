"""What the compiled callables of a mapping share: the marker of a missing value, a dotted path
into a record, the check that a value is text, and the error one field raises."""
from __future__ import annotations

import re
from typing import Any, Callable

from hub.model.masking import mask_value

MISSING = object()
# A record key names the record in message headers and in the store (record_key, 255 characters:
# hub/store/schema.py KEY); a longer one would fail the store's insert on PostgreSQL on every re-read.
KEY_MAX = 255
# NUL and the other C0 controls (tab, LF and CR are text) and lone surrogates (what bytes that
# were not valid in the declared encoding become under surrogateescape, or a JSON "\ud800"):
# not text in any legacy system, refused by PostgreSQL (NUL) and by XML 1.0 destinations.
NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def not_text(char: str, pos: int) -> str:
    code = ord(char)
    if code == 0:
        what = "a NUL character (U+0000)"
    elif code < 0x20:
        what = f"the control character U+{code:04X}"
    else:
        what = f"a lone surrogate U+{code:04X} (bytes that were not valid in the declared encoding?)"
    return f"contains {what} at position {pos}; not text"


class FieldError(ValueError):
    """One field of a record could not be mapped. `field` is the source path (what the legacy
    system calls it), `target` the canonical path it was for (None for keys and conditions)."""
    stage = "map"

    def __init__(self, field: str, reason: str, value: Any = None, target: str | None = None):
        self.field, self.reason, self.value = field, reason, mask_value(field, value) if isinstance(value, str) else value
        self.target = target
        super().__init__(f"{field}: {reason}")


class LossyText(FieldError):
    """Text that lost characters before it reached the hub: the record was not decoded whole."""
    stage = "decode"


def compile_path(path: str) -> Callable[[Any], Any]:
    parts = [int(p) if p.isdigit() else p for p in path.split(".")]
    if len(parts) == 1:
        key = parts[0]
        return lambda rec: rec.get(key, MISSING) if isinstance(rec, dict) else MISSING

    def get(rec):
        cur = rec
        for p in parts:
            if isinstance(p, int):
                if not isinstance(cur, list) or p >= len(cur):
                    return MISSING
                cur = cur[p]
            elif isinstance(cur, dict) and p in cur:
                cur = cur[p]
            else:
                return MISSING
        return cur
    return get
