"""The XML of the 投资项目审批 web service (ndrc.wsdl): requests read into plain values,
answers built in the order the schema's sequences demand (zeep reads them strictly)."""
from __future__ import annotations

import json
import re

from lxml import etree

from .base import Response
from .soap import XML_TYPE, SoapFault, envelope, fields

TNS = "urn:tongban:ndrc:tzxmsp:1"
# ChangeRecord's sequence, in schema order; projectInfo is the project as tzxmxx JSON text.
CHANGE_FIELDS = ("changeId", "updateTime", "changeType", "caseNo", "applicationNo", "acceptNo", "itemCode",
                 "itemName", "stepSeq", "stepCode", "stepName", "eventTime", "handler", "deptName", "opinion",
                 "PFWH", "PFWJBT", "PFRQ", "PFWJYXQX", "declareMode", "windowType", "limitDays", "visitTimes",
                 "materials", "projectInfo")
MATERIAL_FIELDS = ("materialName", "required", "submitted", "shareSource")
SUBMIT_FIELDS = ("applicationNo", "itemCode", "applicantName", "applicantIdType", "applicantIdNumber", "payload")
UPDATE_TIME = re.compile(r"^\d{14}$")   # yyyyMMddHHmmss, the feed's change stamp
_INT = re.compile(r"^\s*\d{1,18}\s*$")
MAX_PAGE = 500


def _operation(element: etree._Element, name: str) -> dict[str, str]:
    if element.tag != f"{{{TNS}}}{name}":
        raise SoapFault("Client", f"unknown operation element {etree.QName(element).text}")
    return fields(element, TNS)


def parse_query(element: etree._Element) -> tuple[str, int, int]:
    """(updatedSince, afterId, pageSize) of a QueryProjectChanges request."""
    got = _operation(element, "QueryProjectChanges")
    since = got.get("updatedSince", "").strip()
    if since and not UPDATE_TIME.match(since):
        raise SoapFault("Client", "updatedSince 格式错误: yyyyMMddHHmmss, e.g. 20260305080000")
    after = got.get("afterId", "").strip() or "0"
    if not _INT.match(after):
        raise SoapFault("Client", "afterId must be a non-negative integer")
    size = got.get("pageSize", "").strip()
    if not _INT.match(size) or int(size) < 1:
        raise SoapFault("Client", "pageSize must be a positive integer")
    return since, int(after), min(int(size), MAX_PAGE)


def parse_submit(element: etree._Element) -> dict[str, str]:
    got = _operation(element, "SubmitApplication")
    for name in SUBMIT_FIELDS:
        if not got.get(name, "").strip():
            raise SoapFault("Client", f"缺少必填项 missing element: {name}")
    out = {name: got[name].strip() for name in SUBMIT_FIELDS}
    out["payload"] = got["payload"]
    out["projectCode"] = got.get("projectCode", "").strip()
    try:
        out["form"] = json.loads(out["payload"])
    except ValueError:
        raise SoapFault("Client", "payload: not valid JSON") from None
    return out


def change_element(record: dict) -> etree._Element:
    """One ChangeRecord; the decoded project goes back to the JSON text the system stores."""
    el = etree.Element(f"{{{TNS}}}change")
    for name in CHANGE_FIELDS:
        if name == "projectInfo":
            value = record["projectInfo"] if "project" not in record else json.dumps(record["project"],
                                                                                    ensure_ascii=False)
        elif name == "materials":
            if record.get("materials") is not None:
                el.append(materials_element(record["materials"]))
            continue
        else:
            value = record.get(name)
        if value is not None:
            etree.SubElement(el, f"{{{TNS}}}{name}").text = _text(value)
    return el


def _text(value) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def materials_element(materials: dict) -> etree._Element:
    """The materials checked at 受理: {"material": [{materialName, required, submitted, shareSource}]}."""
    el = etree.Element(f"{{{TNS}}}materials")
    items = materials.get("material") if isinstance(materials, dict) else None
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue   # the schema has no place for anything else
        m = etree.SubElement(el, f"{{{TNS}}}material")
        for name in MATERIAL_FIELDS:
            if item.get(name) is not None:
                etree.SubElement(m, f"{{{TNS}}}{name}").text = _text(item[name])
    return el


def query_response(records: list[dict], has_more: bool) -> Response:
    answer = etree.Element(f"{{{TNS}}}QueryProjectChangesResponse", nsmap={"tns": TNS})
    etree.SubElement(answer, f"{{{TNS}}}hasMore").text = "true" if has_more else "false"
    for record in records:
        answer.append(change_element(record))
    return Response(200, envelope(answer), XML_TYPE)


def submit_response(code: str, message: str, accept_no: str | None = None,
                    project_code: str | None = None) -> Response:
    answer = etree.Element(f"{{{TNS}}}SubmitApplicationResponse", nsmap={"tns": TNS})
    for name, value in (("code", code), ("message", message), ("acceptNo", accept_no),
                        ("projectCode", project_code)):
        if value is not None:
            etree.SubElement(answer, f"{{{TNS}}}{name}").text = value
    return Response(200, envelope(answer), XML_TYPE)


GATEWAY_PAGE = (b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
                b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
