"""Which encoding a batch file is in, and its text.

The rule, in order: a byte order mark; for XML, the encoding its declaration names (no
declaration means UTF-8, as XML says); for CSV, the configured default (GB18030). No
guessing from the bytes: a guess that is right 99 times turns the hundredth file into
well-formed nonsense, where a wrong label fails loudly.

GBK, GB2312 and CP936 labels are read as GB18030, their superset: desks label GB18030
output "GBK", and a GBK decoder turns 䶮 (FE9F in GB18030) into a private-use character."""
from __future__ import annotations

import codecs
import re

BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))
GB_FAMILY = {"gbk", "gb2312", "cp936", "x-gbk", "gb18030", "euc-cn", "ms936"}
_DECL = re.compile(rb"""^<\?xml\s[^>]*?encoding\s*=\s*["']([A-Za-z][A-Za-z0-9._-]*)["']""")


class Undecodable(ValueError):
    """The file's bytes are not text in the encoding it claims (or the claim is unknown)."""


def codec_name(label: str) -> str:
    low = label.strip().lower()
    if low in GB_FAMILY:
        return "gb18030"
    try:
        return codecs.lookup(low).name
    except LookupError:
        raise Undecodable(f"unknown encoding {label!r}") from None


def sniff(data: bytes, default: str, xml: bool) -> tuple[str, int, str]:
    """(codec, bytes of BOM to skip, how it was decided)."""
    codec, skip, how = _sniff(data, default, xml)
    if codec == "gb18030" and _looks_utf8(data[skip:]):
        # A GB label on UTF-8 bytes would decode without error into mojibake. Chinese text in
        # GB18030 is valid UTF-8 only by accident, for a character or two; several multi-byte
        # UTF-8 sequences and no invalid one mean the label lies.
        return "utf-8", skip, f"{how}, but the bytes are UTF-8"
    return codec, skip, how


def _looks_utf8(data: bytes) -> bool:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return sum(1 for ch in text if ord(ch) > 0x7F) >= 3


def _sniff(data: bytes, default: str, xml: bool) -> tuple[str, int, str]:
    for bom, codec in BOMS:
        if data.startswith(bom):
            # The mark wins over a declaration that disagrees: it was written by the encoder itself.
            return codec, len(bom), "byte order mark"
    if xml:
        m = _DECL.match(data)
        if m:
            label = m.group(1).decode("ascii")
            return codec_name(label), 0, f"XML declaration {label}"
        return "utf-8", 0, "XML without an encoding declaration (UTF-8)"
    return codec_name(default), 0, f"default {default}"


def decode(data: bytes, default: str = "gb18030", xml: bool = False) -> tuple[str, str]:
    """(text, how the encoding was decided); raises Undecodable naming the bad bytes."""
    codec, skip, how = sniff(data, default, xml)
    try:
        return data[skip:].decode(codec), f"{codec} ({how})"
    except UnicodeDecodeError as exc:
        start = exc.start + skip
        raise Undecodable(f"bytes {start}-{exc.end + skip} ({data[start:exc.end + skip][:8].hex()}) are not "
                          f"valid {codec} ({how})") from None
