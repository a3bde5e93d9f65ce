"""A batch file's bytes -> its records, each a RawRecord.

One broken record (a CSV row with the wrong number of fields or that the csv reader cannot
parse, undecodable bytes in one record, an XML record with a nested or repeated field) becomes a
RawRecord with .error and the rest of the batch flows. A file that cannot be read as a
whole (not well-formed XML, a DTD, an undecodable header, a record count that does not
match its header) raises BatchUnreadable.

CLXX (材料信息) is the one field that holds a list, the materials checked at 受理: in XML a
CLXX element with a CL element per material, each of plain fields; in CSV the same list as
JSON text in the CLXX column (blank: none). Either way the record carries it as a list of
{field: text}, for the mapping's `each:`; a CLXX that is not such a list is that record's fault.

XML is parsed with defusedxml and DTDs forbidden: no entity expansion, no external
fetch, no network, whatever the file says."""
from __future__ import annotations

import csv
import json
import re
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from hub.adapter import RawRecord

from .decode import Undecodable, decode, sniff

SUFFIXES = (".xml", ".csv")
LIST_FIELD = "CLXX"


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
            if child.tag in fields:
                problem = f"field {child.tag} appears twice"
            elif child.tag == LIST_FIELD:
                fields[child.tag], why = _xml_materials(child)
                problem = problem or why
            elif len(child):
                problem = f"field {child.tag} has nested elements"
            else:
                fields[child.tag] = child.text or ""
        out.append(_record(name, i, fields, problem))
    return out


def parse_csv(name: str, data: bytes, default: str) -> list[RawRecord]:
    try:
        codec, skip, how = sniff(data, default, xml=False)
    except Undecodable as exc:
        raise BatchUnreadable(str(exc)) from None
    # The whole file is decoded once and read by the csv module, as a CSV file must be: a quoted
    # field may hold a line break (an opinion of two paragraphs is one record, not two dead
    # ones). Bytes not valid in the file's encoding are kept as lone surrogates (surrogateescape;
    # CR and LF never occur inside a GB18030 or UTF-8 multi-byte sequence, so they cannot eat a
    # line break) and refuse only the record holding them. NUL padding at the end (a desk's
    # fixed-size blocks) is not data.
    text = data[skip:].decode(codec, "surrogateescape").rstrip("\x00")
    rows = [r for r in _rows(_LINE.findall(text)) if r[1] or r[2]]   # blank lines are not records
    if not rows or rows[0][2] or _not_valid(rows[0][1], rows[0][1], codec, how):
        raise BatchUnreadable(f"no readable header row ({how})")
    header = [h.strip().upper() for h in rows[0][1]]
    if "" in header or len(set(header)) != len(header):
        raise BatchUnreadable("the header row has an empty or repeated column name")
    out = []
    for i, (line, row, problem) in enumerate(rows[1:]):
        if problem is None:
            problem = _not_valid(header, row, codec, how)
        if problem is None and len(row) != len(header):
            problem = f"row has {len(row)} fields, the header has {len(header)}"
        fields = dict(zip(header, row)) if problem is None else {}
        if LIST_FIELD in fields:
            fields[LIST_FIELD], problem = _csv_materials(fields[LIST_FIELD])
        shown = None if row is None else ",".join(row).encode("utf-8", "backslashreplace").decode("utf-8")
        out.append(_record(name, i, fields, problem and f"{problem} (line {line + 1} of the file)", shown))
    return out


def _xml_materials(node) -> tuple[list, str | None]:
    """A CLXX element's materials, and what is wrong with it (or None)."""
    if (node.text or "").strip():
        return [], f"field {LIST_FIELD} holds text, not CL elements"
    out = []
    for i, cl in enumerate(node):
        item: dict[str, str] = {}
        if cl.tag != "CL":
            return out, f"field {LIST_FIELD}.{i}: unexpected element <{cl.tag}>, not CL"
        for part in cl:
            if len(part):
                return out, f"field {LIST_FIELD}.{i}.{part.tag} has nested elements"
            if part.tag in item:
                return out, f"field {LIST_FIELD}.{i}.{part.tag} appears twice"
            item[part.tag] = part.text or ""
        out.append(item)
    return out, None


def _csv_materials(text: str) -> tuple[list, str | None]:
    """The CLXX column's JSON list, and what is wrong with it (or None)."""
    if not text.strip():
        return [], None
    try:
        value = json.loads(text, object_pairs_hook=_no_repeats)
    except (ValueError, RecursionError) as exc:
        return [], f"field {LIST_FIELD}: not a JSON list of materials ({type(exc).__name__}: {str(exc)[:80]})"
    if not isinstance(value, list) or not all(isinstance(m, dict) for m in value):
        return [], f"field {LIST_FIELD}: not a JSON list of materials (objects with CLMC, SFBX, SFTJ, FYLX)"
    for i, m in enumerate(value):
        for key, v in m.items():
            if not isinstance(v, str):
                return [], f"field {LIST_FIELD}.{i}.{key}: {type(v).__name__}, the export writes text"
    return value, None


def _no_repeats(pairs):
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError(f"a material names {next(k for k in keys if keys.count(k) > 1)!r} twice")
    return dict(pairs)


# A physical line and its own line break (CRLF, LF or CR), the last one perhaps without.
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def _rows(lines: list[str]):
    """(index of its first line, fields, problem) of each record. A record the reader cannot
    parse (csv.Error: a stray quote, a field over the module's limit, a quote still open at the
    end of the file) is one problem, and reading starts again on the line after the one that
    record began on; so does a record that runs over several lines and then has another
    number of fields than the first row (the header): a quote opened and never closed would
    otherwise swallow the good records after it. Only what the reader cannot take is lost to
    a dead letter, never a neighbour."""
    start, width = 0, None
    while start < len(lines):
        pos = [start]

        def feed():
            while pos[0] < len(lines):
                pos[0] += 1
                yield lines[pos[0] - 1]
        reader = csv.reader(feed(), strict=True)
        while True:
            first = pos[0]
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield first, None, f"the line is not valid CSV: {exc}"
                start = first + 1
                break
            if pos[0] - first > 1:
                if width is not None and len(row) != width:
                    # spans lines and is the wrong width: an unclosed quote, most likely
                    yield first, None, (f"a quoted field opened here runs over {pos[0] - first} lines and "
                                        f"leaves {len(row)} fields, the header has {width}")
                    start = first + 1
                    break
                row = [f.replace("\r\n", "\n") for f in row]   # a Windows desk's line break, inside a field
            if width is None and row:
                width = len(row)
            yield first, row, None


def _not_valid(header: list[str], row: list[str], codec: str, how: str) -> str | None:
    for column, value in zip(header, row):
        if not value.isprintable():
            bad = next((c for c in value if 0xDC80 <= ord(c) <= 0xDCFF), None)
            if bad is not None:
                raw = bytes(ord(c) - 0xDC00 for c in value if 0xDC80 <= ord(c) <= 0xDCFF)
                return f"field {column}: bytes {raw[:8].hex(' ')} are not valid {codec} ({how})"
    return None
