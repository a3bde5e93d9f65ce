"""A batch file's bytes -> its records, each a RawRecord.

One broken record (a CSV row with the wrong number of fields, undecodable bytes on one
line, an XML record with a nested or repeated field) becomes a
RawRecord with .error and the rest of the batch flows. A file that cannot be read as a
whole (not well-formed XML, a DTD, an undecodable header, a record count that does not
match its header) raises BatchUnreadable.

XML is parsed with defusedxml and DTDs forbidden: no entity expansion, no external
fetch, no network, whatever the file says."""
from __future__ import annotations

import csv
import json
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from hub.adapter import RawRecord

from .decode import Undecodable, decode, sniff

SUFFIXES = (".xml", ".csv")


class BatchUnreadable(Exception):
    """The whole file cannot be read; it goes to failed/ with this reason."""


def parse(name: str, data: bytes, csv_encoding: str = "gb18030") -> list[RawRecord]:
    suffix = name[name.rfind("."):].lower()
    if suffix == ".xml":
        return parse_xml(name, data)
    if suffix == ".csv":
        return parse_csv(name, data, csv_encoding)
    raise BatchUnreadable(f"{name}: not a batch file ({', '.join(SUFFIXES)})")


def _record(name: str, index: int, fields: dict, problem: str | None = None, text: str | None = None) -> RawRecord:
    key = f"{name}#{index + 1}"
    if problem is not None:
        raw = {"file": name, "record": index + 1, "fields": fields, "text": text}
        return RawRecord(key, fields, json.dumps(raw, ensure_ascii=False), error=f"{key}: {problem}")
    # raw is the decoded record as JSON: what a replay maps again.
    return RawRecord(key, fields, json.dumps(fields, ensure_ascii=False))


def parse_xml(name: str, data: bytes) -> list[RawRecord]:
    try:
        text, how = decode(data, xml=True)
    except Undecodable as exc:
        raise BatchUnreadable(str(exc)) from None
    try:
        root = fromstring(text, forbid_dtd=True)
    except (ParseError, DefusedXmlException) as exc:
        raise BatchUnreadable(f"not well-formed XML or not allowed ({how}): {exc}") from None
    body = root.find("Data") if root.tag == "Message" else None
    if body is None:
        raise BatchUnreadable(f"no Message/Data element (root is <{root.tag}>)")
    nodes = list(body)
    declared = (root.findtext("Head/JLS") or "").strip()
    if declared.isdigit() and int(declared) != len(nodes):
        raise BatchUnreadable(f"the header counts {declared} records (JLS), the file holds {len(nodes)}")
    out = []
    for i, node in enumerate(nodes):
        fields, problem = {}, None
        if node.tag != "Record":
            problem = f"unexpected element <{node.tag}> in Data"
        for child in node:
            if len(child):
                problem = f"field {child.tag} has nested elements"
            elif child.tag in fields:
                problem = f"field {child.tag} appears twice"
            else:
                fields[child.tag] = child.text or ""
        out.append(_record(name, i, fields, problem))
    return out


def parse_csv(name: str, data: bytes, default: str) -> list[RawRecord]:
    try:
        codec, skip, how = sniff(data, default, xml=False)
    except Undecodable as exc:
        raise BatchUnreadable(str(exc)) from None
    body = data[skip:]
    # One record per line, always: the exchange format has no line breaks inside fields, so a
    # broken line (bad bytes, an unclosed quote, a field over the csv module's limit) is one
    # bad record and never swallows the lines after it. CR and LF never occur inside a
    # GB18030 or UTF-8 multi-byte sequence, so splitting the bytes on them is safe.
    rows = []
    for line in body.split(b"\n"):
        try:
            rows.extend((row, None) for row in csv.reader([line.rstrip(b"\r").decode(codec)], strict=True))
        except UnicodeDecodeError as exc:
            rows.append((None, f"bytes {exc.start}-{exc.end} of the line are not valid {codec} ({how})"))
        except csv.Error as exc:
            rows.append((None, f"the line is not valid CSV: {exc}"))
    rows = [(row, problem) for row, problem in rows if problem or row]   # blank lines are not records
    if not rows or rows[0][1]:
        raise BatchUnreadable(f"no readable header row ({how})")
    header = [h.strip().upper() for h in rows[0][0]]
    if "" in header or len(set(header)) != len(header):
        raise BatchUnreadable("the header row has an empty or repeated column name")
    out = []
    for i, (row, problem) in enumerate(rows[1:]):
        if problem is None and len(row) != len(header):
            problem = f"row has {len(row)} fields, the header has {len(header)}"
        fields = dict(zip(header, row)) if problem is None else {}
        out.append(_record(name, i, fields, problem, None if row is None else ",".join(row)))
    return out
