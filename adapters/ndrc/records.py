"""A ChangeRecord as zeep read it, turned into the plain dict the mappings read.

Absent and nil elements are left out (never None), at any depth (a material's shareSource),
and projectInfo, the project as the
system stores it (tzxmxx JSON text), is decoded into `project` (hub.exactjson: decimals exact,
a duplicate key refused). A record whose JSON is
broken cannot be mapped at all: it comes back with .error set, so the hub dead-letters it
at stage "decode" and the rest of the page flows."""
from __future__ import annotations

import json
import re

from lxml import etree
from zeep.helpers import serialize_object

from hub import exactjson
from hub.adapter import DEFAULT_MAX_RECORD_BYTES, RawRecord, checked


def _present(value):
    if isinstance(value, dict):
        return {k: _present(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_present(v) for v in value]
    return value


def decode(change, limit: int = DEFAULT_MAX_RECORD_BYTES, position: int = 1) -> RawRecord:
    data = _present(serialize_object(change, dict))
    info = data.pop("projectInfo", None)
    error = None
    if info is None:
        error = "projectInfo is missing"
    else:
        try:
            project = exactjson.loads(info)   # investment 1234.50 stays 1234.50
        except exactjson.DuplicateKey as exc:
            error = f"projectInfo: {exc}: which value the system meant cannot be told"
        except RecursionError:
            error = f"projectInfo is nested deeper than a JSON parser allows ({len(info)} characters)"
        except ValueError as exc:
            error = (f"projectInfo is not valid JSON ({exc.msg} at character {exc.pos} of {len(info)})"
                     if isinstance(exc, json.JSONDecodeError) else f"projectInfo is not valid JSON ({exc})")
        else:
            if isinstance(project, dict):
                data["project"] = project
            else:
                error = "projectInfo is not a JSON object"
        if error:
            data["projectInfo"] = info  # kept as received, for the dead letter
    # checked(): the size limit, text that is not Unicode (a "\ud800" inside projectInfo), the key
    return checked(data, data.get("changeId"), key_name="changeId", position=position, limit=limit, error=error)


def cursor_of(record: RawRecord) -> dict | None:
    """The feed position after this record, if the record carries its key pair."""
    change_id, stamp = record.data.get("changeId"), record.data.get("updateTime")
    if isinstance(change_id, int) and isinstance(stamp, str) and stamp:
        return {"updatedSince": stamp, "afterId": change_id}
    return None


_STAMP = re.compile(r"\d{14}")            # yyyyMMddHHmmss, as the feed stamps a change
_CHANGE_ID = re.compile(r"[1-9]\d{0,17}")
_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def position_in(raw: bytes, after: dict) -> dict | None:
    """The feed position (updatedSince, afterId) of the one change in an answer to a page of one
    that zeep could not read, when that answer still carries it intact; else None.

    Read with libxml2's recovering parser, which keeps what stands before the first fault, and
    with nothing that reaches out: no DTD (an answer with one is not looked into), no entities,
    no network. Taken only when exactly one change element is there, holding exactly one
    changeId and one updateTime, both well-formed, and the pair lies after the cursor: the
    answer is the system's to "the first change after this cursor", so that pair is the
    position of that change and of nothing else."""
    if not raw or _DOCTYPE.search(raw):
        return None
    parser = etree.XMLParser(recover=True, resolve_entities=False, load_dtd=False, no_network=True,
                             huge_tree=False, remove_comments=True, remove_pis=True)
    try:
        root = etree.fromstring(raw, parser)
    except (etree.LxmlError, ValueError):
        return None
    if root is None:
        return None
    changes = [el for el in root.iter() if _local(el.tag) == "change"]
    if len(changes) != 1:
        return None
    found: dict[str, list[str]] = {"changeId": [], "updateTime": []}
    for child in changes[0]:
        if _local(child.tag) in found:
            found[_local(child.tag)].append((child.text or "").strip())
    if len(found["changeId"]) != 1 or len(found["updateTime"]) != 1:
        return None
    change_id, stamp = found["changeId"][0], found["updateTime"][0]
    if not _CHANGE_ID.fullmatch(change_id) or not _STAMP.fullmatch(stamp):
        return None
    try:
        since, after_id = str(after.get("updatedSince") or ""), int(after.get("afterId") or 0)
    except (TypeError, ValueError):
        return None
    if (stamp, int(change_id)) <= (since, after_id):
        return None
    return {"updatedSince": stamp, "afterId": int(change_id)}


def _local(tag) -> str | None:
    """An element's local name; a recovered document may keep a prefix it could not bind."""
    if not isinstance(tag, str):
        return None   # a comment or a processing instruction
    return tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1]
