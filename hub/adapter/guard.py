"""Checks a JSON-speaking adapter makes on each record before the hub takes it: a size limit,
text that is really text, and a key that can name the record. A record that fails one is
handed on with RawRecord.error, so the hub dead-letters it at stage "decode" and the rest
of the page flows.

Pages are decoded with errors="surrogateescape": bytes that are not valid in the encoding
the page declares (GB18030 text in a feed that says UTF-8) survive as lone surrogates
instead of turning silently into U+FFFD, and the record holding them is refused here,
naming the field and the bytes. Part of the adapter SDK: import it from hub.adapter.

JSON is read by hub.exactjson: numbers with a fraction are Decimal (exact, scale kept), and a
record holding a duplicate key is refused here naming the key and where it stands; the rest of
its page flows."""
from __future__ import annotations

import codecs
from typing import Any

from hub import exactjson
from .base import RawRecord

DEFAULT_MAX_RECORD_BYTES = 65536   # the hub's max_record_bytes default (hub/adapter/spec.py); ~30 times a large record; keeps keys and case numbers
#                                    (which travel in AMQP headers) far below the broker's frame_max
MAX_KEY_CHARS = 200
_GB = {"gbk", "gb2312", "cp936", "gb18030", "x-gbk", "euc-cn"}


def page_json(content: bytes, content_type: str | None, records: str = "items") -> tuple[Any, str, dict[int, str]]:
    """(the JSON document, its charset, {index of a record: why it is refused}) of a page in the
    charset its Content-Type names (UTF-8 if none, as RFC 8259 says). A duplicate key inside the
    list `records` refuses that record only; one anywhere else makes the page unreadable. Raises
    ValueError (not JSON, unknown charset, such a duplicate) or RecursionError (nested deeper
    than the parser allows): the page as a whole is unreadable."""
    charset = "utf-8"
    for param in (content_type or "").split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip("\"'").lower()
    if content.startswith(codecs.BOM_UTF8):
        content, charset = content[3:], "utf-8"
    try:
        codec = "gb18030" if charset in _GB else codecs.lookup(charset).name
    except LookupError:
        raise ValueError(f"unknown charset {charset!r}") from None
    decoded = exactjson.decode(content.decode(codec, "surrogateescape"))
    refused: dict[int, str] = {}
    for dup in decoded.duplicates:
        head, _, rest = dup.path.partition(".")
        index = rest.partition(".")[0]
        if head != records or not index.isdigit():
            raise dup
        inner = rest.partition(".")[2]
        where = f"in the object at {inner}" if inner else "in the record"
        refused.setdefault(int(index), f"duplicate key {dup.key!r} {where}: which value the system meant "
                                       f"cannot be told")
    return decoded.value, charset, refused


def is_html(content_type: str | None) -> bool:
    """An HTML answer where a page was asked for is a gateway's or a maintenance page, a passing
    outage of the system, never a page spoiled by one of its records."""
    return (content_type or "").split(";")[0].strip().lower() in ("text/html", "application/xhtml+xml")


def _first_surrogate(value: Any) -> tuple[str, str] | None:
    """(dotted path, the offending text) of the first string holding a lone surrogate; iterative,
    so a deeply nested record cannot exhaust the stack."""
    stack = [("", value)]
    while stack:
        path, v = stack.pop()
        if isinstance(v, str):
            try:
                v.encode("utf-8")
            except UnicodeEncodeError as exc:
                return path or "(record)", v[exc.start:exc.end]
        elif isinstance(v, dict):
            stack.extend((f"{path}.{k}" if path else str(k), x) for k, x in reversed(list(v.items())))
        elif isinstance(v, list):
            stack.extend((f"{path}.{i}" if path else str(i), x) for i, x in reversed(list(enumerate(v))))
    return None


def _not_text(bad: str, charset: str) -> str:
    raw = bytes(ord(c) - 0xDC00 for c in bad if 0xDC80 <= ord(c) <= 0xDCFF)
    if raw:
        return f"bytes {raw[:8].hex(' ')} are not valid {charset} (the encoding the system declares)"
    return f"holds a lone surrogate U+{ord(bad[0]):04X}, which is not text"


def checked(item: Any, key: Any, *, key_name: str, position: int, limit: int, charset: str = "utf-8",
            error: str | None = None) -> RawRecord:
    """The RawRecord for one decoded JSON record, with .error set when the hub must not take it."""
    if isinstance(key, bool) or not isinstance(key, (str, int)) or key == "":
        shown = "missing" if key in (None, "") else f"a JSON {type(key).__name__}, not a number or text"
        name, error = f"(item {position} of the page: no usable {key_name})", error or f"{key_name} is {shown}"
    else:
        name = str(key)
        if not name.isprintable():   # NUL, controls, lone surrogates: shown escaped, refused
            name = ascii(name)[1:-1]
            error = error or f"{key_name} is not text"
        if len(name) > MAX_KEY_CHARS:
            error = error or f"{key_name} is {len(name)} characters long; not a record key"
            name = f"{name[:40]}…({len(name)} characters)"
    if not isinstance(item, dict):
        error = error or f"item {position} of the page is a JSON {type(item).__name__}, not an object"
    try:
        raw = exactjson.dumps(item, ensure_ascii=False)   # Decimals as the numbers they were
    except RecursionError:
        raw = exactjson.dumps({"unkept": f"{key_name} {name}: nested too deeply to keep"}, ensure_ascii=False)
        error = error or "the record is nested too deeply"
    try:
        size = len(raw.encode("utf-8"))
    except UnicodeEncodeError:
        raw = exactjson.dumps(item)   # \\udcxx escapes: the text as received, and storable
        size = len(raw)
        path, bad = _first_surrogate(item) or ("(record)", "\udc00")
        error = error or f"{path}: {_not_text(bad, charset)}"
    if size > limit:
        error = f"record is {size} bytes, over the limit of {limit} bytes (max_record_bytes)"
    data = item if isinstance(item, dict) else {}
    if error:
        # Not mapped, only looked at for its case number (which travels in a header): short,
        # clean text only, so a refused record cannot carry its poison into headers or the store.
        data = {k: v for k, v in data.items() if isinstance(v, str) and len(v) <= 64 and v.isprintable()}
    return RawRecord(key=name, data=data, raw=raw, error=error)
