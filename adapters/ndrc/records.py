"""A ChangeRecord as zeep read it, turned into the plain dict the mappings read.

Absent and nil elements are left out (never None), and projectInfo, the project as the
system stores it (tzxmxx JSON text), is decoded into `project`. A record whose JSON is
broken cannot be mapped at all: it comes back with .error set, so the hub dead-letters it
at stage "decode" and the rest of the page flows."""
from __future__ import annotations

import json

from zeep.helpers import serialize_object

from hub.adapter import RawRecord

from ..guard import DEFAULT_MAX_RECORD_BYTES, checked, parse_int


def decode(change, limit: int = DEFAULT_MAX_RECORD_BYTES, position: int = 1) -> RawRecord:
    data = {k: v for k, v in serialize_object(change, dict).items() if v is not None}
    info = data.pop("projectInfo", None)
    error = None
    if info is None:
        error = "projectInfo is missing"
    else:
        try:
            project = json.loads(info, parse_int=parse_int)
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
