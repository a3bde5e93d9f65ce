"""Logging with personal data masked in every line (IDs, mobile numbers, names in free text),
as readable text (the default) or one JSON object a line (`--log-format json`, or
TONGBAN_LOG_FORMAT=json: worker processes inherit it).

Every line carries, where known, the fields an operator filters by: department, track,
stage, destination, trace_id. A log call may give them (extra={...}); otherwise they come
from the thread doing the work, whose name the runtime sets once per loop
("source:commerce:old", "deliver:tongban.to.platform.2of4", "record:tongban.dead", "compare"),
so the hot paths pass nothing per message."""
from __future__ import annotations

import json
import logging
import os
import re
import sys
from datetime import datetime, timezone

from hub.model.masking import mask_names, mask_text

FIELDS = ("department", "track", "stage", "destination", "trace_id")
FORMATS = ("text", "json")
NOISY = ("amqp", "kombu", "zeep", "urllib3", "alembic")   # libraries kept at WARNING by setup()

_PARTITION = re.compile(r"^tongban\.to\.(.+?)(?:\.\d+of\d+)?$")


def thread_context(name: str) -> dict:
    """The fields a worker thread's name tells."""
    kind, _, rest = name.partition(":")
    if kind == "source" and rest:
        dept, _, track = rest.partition(":")
        return {"stage": "source", "department": dept, "track": track or None}
    if kind == "deliver" and (m := _PARTITION.match(rest)):
        return {"stage": "deliver", "destination": m.group(1)}
    if kind == "record":
        return {"stage": "record"}
    if kind == "compare":
        return {"stage": "compare"}
    return {}


def _mask(text: str) -> str:
    return mask_names(mask_text(text))


class MaskingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = _mask(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            # A traceback may quote the value that failed (zeep does): format it here, masked.
            record.exc_text = _mask(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = _mask(record.exc_text)
        ctx = thread_context(record.threadName or "")
        for key in FIELDS:
            if getattr(record, key, None) is None:
                setattr(record, key, ctx.get(key))
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
               "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        for key in FIELDS:
            value = getattr(record, key, None)
            if value is not None:
                doc[key] = value
        if record.exc_text:
            doc["exception"] = record.exc_text
        doc["process"], doc["thread"] = record.process, record.threadName
        return json.dumps(doc, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """The readable line, with the context in brackets when there is any."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        ctx = " ".join(f"{k}={getattr(record, k)}" for k in ("department", "destination", "stage")
                       if getattr(record, k, None) and k != "stage")
        return f"{line} [{ctx}]" if ctx else line


class CurrentStderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a line is logged: a live display (hub/cli/live.py)
    swaps it to print log lines above itself."""

    def __init__(self):
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


def setup(level: str | None = None, fmt: str | None = None) -> None:
    fmt = fmt or os.environ.get("TONGBAN_LOG_FORMAT") or "text"
    if fmt not in FORMATS:
        raise ValueError(f"log format must be one of {FORMATS}, got {fmt!r}")
    handler = CurrentStderrHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(MaskingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level or os.environ.get("TONGBAN_LOG_LEVEL", "INFO"))
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(logging.WARNING)
