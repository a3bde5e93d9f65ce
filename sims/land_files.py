"""The land system's files: batch files it drops into its outbox (XML or CSV, GB18030 or
UTF-8), and the application files it reads from its inbox.

A batch is written the way a well-behaved producer writes: to a dot-named temp file in
the same folder, flushed and fsynced, then renamed, so a reader never sees half a file.
This module is the simulator's own reading of the formats; it shares no code with the
hub's adapter, so a bug on one side cannot hide on the other.

CLXX (材料信息, invented like the batch layout) is the one field that is a list: in XML a
CLXX element holding a CL element per material (CLMC, SFBX, SFTJ, FYLX), as the application
files the hub writes have it; in CSV a column holding the same list as JSON text (the export
has no other way to put a list in one cell)."""
from __future__ import annotations

import csv
import io
import json
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

# Every column a batch may carry, in the order the export writes them.
COLUMNS = ("JLLX", "SHXXID", "SLBH", "WWSLBH", "SXBM", "SXMC", "SXH", "JDDM", "JDMC", "QMSJ", "SHRYXM",
           "SHYJ", "CZJG", "QLRMC", "QLRLX", "ZJZL", "ZJH", "LXDH", "ZDDM", "ZDTZM", "BDCDYH", "ZL", "ZDMJ",
           "MJDW", "YT", "QLLX", "QLXZ", "RJL", "ZSMC", "XKZH", "BDCQZH", "FZJG", "FZRQ", "YXQZ", "SQFS", "SQSJ",
           "CNQX", "SFYCSL", "DCCS", "CLXX", "GXSJ")
MATERIAL = ("CLMC", "SFBX", "SFTJ", "FYLX")   # a CL's fields, in the order written

# label -> (encoding named in the XML declaration or None, Python codec, byte order mark)
XML_ENCODINGS = {
    "GB18030": ("GB18030", "gb18030", b""),
    # Declared GBK but written by a GB18030 encoder: what many desks really send. A GBK
    # decoder turns 䶮 (FE9F) into a private-use character; GB18030 reads it right.
    "GBK": ("GBK", "gb18030", b""),
    "UTF-8": ("UTF-8", "utf-8", b""),
    "UTF-8-BOM": ("UTF-8", "utf-8", b"\xef\xbb\xbf"),
    "UTF-8-NODECL": (None, "utf-8", b""),
}
CSV_ENCODINGS = {"GB18030": ("gb18030", b""), "UTF-8-BOM": ("utf-8", b"\xef\xbb\xbf")}


def decoded_view(record: dict, fmt: str) -> dict:
    """The record as a reader of the file sees it: XML carries the elements written,
    CSV every column, empty where the record has nothing."""
    if fmt == "csv":
        return {k: record.get(k, "") if k != "CLXX" else record.get(k) or [] for k in COLUMNS}
    return {k: record[k] for k in COLUMNS if k in record}


def render_xml(records: list[dict], head: dict, encoding: str, empty_style: list[bool]) -> bytes:
    """empty_style[i]: write record i's missing optional fields as empty elements."""
    declared, codec, bom = XML_ENCODINGS[encoding]
    root = ET.Element("Message")
    h = ET.SubElement(root, "Head")
    for key, value in head.items():
        ET.SubElement(h, key).text = str(value)
    data = ET.SubElement(root, "Data")
    for rec, empties in zip(records, empty_style):
        node = ET.SubElement(data, "Record")
        for key in COLUMNS:
            if key == "CLXX" and isinstance(rec.get(key), list):
                materials = ET.SubElement(node, key)
                for m in rec[key]:
                    cl = ET.SubElement(materials, "CL")
                    for part, value in m.items():
                        ET.SubElement(cl, part).text = value or None
            elif key in rec:
                ET.SubElement(node, key).text = rec[key] or None
            elif empties and key in ("LXDH", "SHYJ", "WWSLBH"):
                ET.SubElement(node, key)
    ET.indent(root, space="  ")
    text = ET.tostring(root, encoding="unicode")
    if declared:
        text = f'<?xml version="1.0" encoding="{declared}"?>\n' + text
    return bom + text.encode(codec)


def empties_of(records: list[dict], empty_style: list[bool]) -> list[dict]:
    """What render_xml adds for empty_style: those optional fields as empty strings."""
    out = []
    for rec, empties in zip(records, empty_style):
        rec = dict(rec)
        if empties:
            for key in ("LXDH", "SHYJ", "WWSLBH"):
                rec.setdefault(key, "")
        out.append(rec)
    return out


def render_csv(records: list[dict], encoding: str) -> bytes:
    codec, bom = CSV_ENCODINGS[encoding]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")  # the export runs on Windows desks
    writer.writerow(COLUMNS)
    for rec in records:
        writer.writerow([rec.get(k, "") if k != "CLXX" or not isinstance(rec.get(k), list) else
                         json.dumps(rec[k], ensure_ascii=False) for k in COLUMNS])
    return bom + buf.getvalue().encode(codec)


def write_atomic(folder: Path, name: str, data: bytes) -> Path:
    tmp = folder / f".{name}.tmp"
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    final = folder / name
    os.replace(tmp, final)
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)  # the rename itself survives a power cut
    finally:
        os.close(fd)
    return final


# --- the inbox: application files written by the hub --------------------------------

_DECL = re.compile(rb"""^<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


def read_application(data: bytes) -> dict:
    """An application file -> {field: text, "materials": [...], "form": {...}}; ValueError if unreadable."""
    if data.startswith(b"\xef\xbb\xbf"):
        text = data[3:].decode("utf-8")
    else:
        m = _DECL.match(data.lstrip())
        codec = (m.group(1).decode("ascii").lower() if m else "utf-8")
        codec = "gb18030" if codec in ("gbk", "gb2312", "cp936", "gb18030") else codec
        try:
            text = data.decode(codec)
        except (LookupError, UnicodeDecodeError) as exc:
            raise ValueError(f"cannot decode the application file: {exc}") from None
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise ValueError("application files may not carry a DTD")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise ValueError(f"not well-formed XML: {exc}") from None
    app = root.find("Data/Application") if root.tag == "Message" else None
    if app is None:
        raise ValueError("no Message/Data/Application element")
    out: dict = {"materials": [], "form": {}}
    for child in app:
        if child.tag == "CLXX":
            out["materials"] = [{c.tag: (c.text or "") for c in cl} for cl in child.findall("CL")]
        elif child.tag == "BDXX":
            out["form"] = {b.get("MC", ""): (b.text or "") for b in child.findall("BDX")}
        else:
            out[child.tag] = child.text or ""
    head = root.find("Head")
    out["_message_id"] = head.findtext("XXID", "") if head is not None else ""
    if not out.get("WWSLBH", "").strip():
        raise ValueError("the application has no WWSLBH (外网受理编号)")
    return out
