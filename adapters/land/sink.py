"""Sends a canonical application down to the land system: an XML file (GB18030) written
into its inbox, atomically (temp file, fsync, then a hard link to the final name).

The file is named after the platform's 申办流水号, and the link refuses to replace an
existing name: an application still waiting in the inbox is not written twice (that
counts as "duplicate"). Once the land system has taken the file, a repeat is refused by
the land system itself, which keeps one application per 外网受理编号."""
from __future__ import annotations

import hashlib
import json
import os
import re
import uuid
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from hub.adapter import ACCEPTED, DUPLICATE, DeliveryError, Sink

SHANGHAI = ZoneInfo("Asia/Shanghai")
# canonical id_type -> ZJZL (1 身份证, 8 统一社会信用代码, 99 其他 as gtmap codes them; 3 护照 is invented)
ZJZL = {"resident_id": "1", "uscc": "8", "passport": "3", "other": "99"}
QLRLX = {"person": "1", "organisation": "2"}
SQFS = {"online": "1", "window": "2", "mobile": "3", "self_service": "4"}   # invented


def file_name(application_no: str) -> str:
    safe = re.sub(r"[^0-9A-Za-z_-]", "_", application_no)
    if safe != application_no or not safe:
        safe += "_" + hashlib.sha256(application_no.encode("utf-8")).hexdigest()[:8]
    return f"SQ_{safe}.xml"


def _local(ts: str) -> str:
    return datetime.fromisoformat(ts).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def render(envelope: dict, encoding: str = "GB18030") -> bytes:
    app = envelope["payload"]
    who = app["applicant"]
    form = dict(app.get("form") or {})
    root = ET.Element("Message")
    head = ET.SubElement(root, "Head")
    for key, value in (("XXID", envelope["message_id"]), ("XXLX", "SQ"), ("FSF", "tongban-hub"),
                       ("FSSJ", datetime.now(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S"))):
        ET.SubElement(head, key).text = str(value)
    node = ET.SubElement(ET.SubElement(root, "Data"), "Application")
    for key, value in (("WWSLBH", app["application_no"]), ("SXBM", app["item_code"]),
                       ("SXMC", form.pop("item_name", None)), ("SQSJ", _local(app["submitted_at"])),
                       ("SQFS", SQFS.get(app.get("channel"), "1")), ("QLRMC", who["name"]),
                       ("QLRLX", QLRLX[who["kind"]]), ("ZJZL", ZJZL.get(who["id_type"], "99")),
                       ("ZJH", who["id_number"]), ("LXDH", who.get("phone"))):
        ET.SubElement(node, key).text = _text(value)
    materials = ET.SubElement(node, "CLXX")
    for m in app.get("materials") or []:
        cl = ET.SubElement(materials, "CL")
        for key, value in (("CLMC", m["name"]), ("SFBX", m.get("required", True)),
                           ("SFTJ", m.get("provided", True)), ("DZZZBH", m.get("reused_certificate"))):
            ET.SubElement(cl, key).text = _text(value)
    fields = ET.SubElement(node, "BDXX")
    for key, value in form.items():
        ET.SubElement(fields, "BDX", MC=str(key)).text = _text(value)
    ET.indent(root, space="  ")
    text = f'<?xml version="1.0" encoding="{encoding}"?>\n' + ET.tostring(root, encoding="unicode")
    return text.encode(encoding)


class LandSink(Sink):
    def __init__(self, name: str, inbox: Path, encoding: str = "GB18030"):
        self.name = name
        self.inbox = inbox
        self.encoding = encoding

    def send(self, body: bytes, meta) -> str:
        try:
            envelope = json.loads(body)
            app = envelope["payload"]
            if app.get("kind") != "application":
                raise ValueError(f"payload kind is {app.get('kind')!r}")
            data = render(envelope, self.encoding)
            name = file_name(app["application_no"])
        except (ValueError, KeyError, TypeError) as exc:
            raise DeliveryError(f"not a canonical application: {exc}", transient=False) from None
        if not self.inbox.is_dir():
            raise DeliveryError(f"land inbox {self.inbox} is not there (share not mounted?)", transient=True)
        try:
            return self._write(name, data)
        except OSError as exc:
            raise DeliveryError(f"cannot write into the land inbox: {exc.strerror or exc}", transient=True) from None

    def _write(self, name: str, data: bytes) -> str:
        tmp = self.inbox / f".{name}.{uuid.uuid4().hex[:8]}.tmp"
        final = self.inbox / name
        try:
            with open(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            try:
                os.link(tmp, final)   # atomic, and never over an existing name
            except FileExistsError:
                return DUPLICATE
            except OSError:
                # A share without hard links: check, then rename (a narrow race, refused downstream).
                if final.exists():
                    return DUPLICATE
                os.replace(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)
        fd = os.open(self.inbox, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        return ACCEPTED

    def close(self) -> None:
        pass
