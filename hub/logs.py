"""Logging with personal data masked in every line (IDs, mobile numbers)."""
from __future__ import annotations

import logging
import os

from hub.model.masking import mask_text


class MaskingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask_text(record.getMessage())
        record.args = None
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
