"""Logging with personal data masked in every line (IDs, mobile numbers)."""
from __future__ import annotations

import logging
import os

from hub.model.masking import mask_text


class MaskingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask_text(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            # A traceback may quote the value that failed (zeep does): format it here, masked.
            record.exc_text = mask_text(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        return True


def setup(level: str | None = None) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(MaskingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level or os.environ.get("TONGBAN_LOG_LEVEL", "INFO"))
    for noisy in ("amqp", "kombu", "zeep", "urllib3", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
