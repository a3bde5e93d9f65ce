"""Text that lost characters on its way to the hub, and the flags a mapping raises for it.

A legacy export that converts to GBK (or to ASCII) with errors="replace" writes "?" for each
character the target cannot hold: 刘䶮 becomes 刘?. A decoder that replaces writes U+FFFD.
Either way the value still looks like a name, so it would be forwarded as one. A field
marked `text:` in its mapping is looked at for:
  U+FFFD anywhere;
  a "?" (ASCII) touching a CJK ideograph, or a value of nothing but "?": Chinese text is
  typed with the full-width ？, so an ASCII ? next to a hanzi is what a lossy conversion
  leaves, not what a person wrote. (An opinion typed with half-width punctuation may hold
  one legitimately: mark such fields `text: flag`, not refuse.)

The check runs on the value as read, before any transform (halfwidth would turn a typed ？
into ?). Flags are collected per thread for the record being mapped (compiler.Mapping.run)."""
from __future__ import annotations

import re
import threading

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_LOST = re.compile(f"\ufffd|[{_CJK}]\\?|\\?[{_CJK}]|^[?\\s]*\\?[?\\s]*$")
_local = threading.local()


def lost(value: str) -> str | None:
    """Why the text looks lossy, or None. Fast for clean text: one regex search."""
    if "?" not in value and "\ufffd" not in value:
        return None
    m = _LOST.search(value)
    if m is None:
        return None
    if "\ufffd" in m.group():
        return f"holds U+FFFD (a character replaced in a lossy conversion) at position {m.start()}"
    return (f"holds '?' where a character seems lost in a lossy conversion (GBK or ASCII with "
            f"replacement) at position {value.index('?', m.start())}")


def start() -> None:
    _local.flags = []


def flag(note: str) -> None:
    flags = getattr(_local, "flags", None)
    if flags is not None:
        flags.append(note)


def collected() -> list[str]:
    flags = getattr(_local, "flags", None) or []
    _local.flags = None
    return flags
