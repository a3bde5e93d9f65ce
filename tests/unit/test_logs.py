"""Log lines: JSON with the operator's fields, personal data (names in free text included)
masked, and a dead-letter storm summarised instead of one line per record."""
from __future__ import annotations

import io
import json
import logging
import threading

from hub import logs
from hub.model.masking import mask_names
from hub.observability.storm import Storm, reason_kind


def _capture(fmt: str, emit) -> list[str]:
    logs.setup(fmt=fmt)
    handler = logging.getLogger().handlers[0]
    buf = io.StringIO()
    original = logs.CurrentStderrHandler.stream
    try:
        logs.CurrentStderrHandler.stream = property(lambda self: buf)
        emit()
    finally:
        logs.CurrentStderrHandler.stream = original
        logs.setup()
    assert handler
    return buf.getvalue().splitlines()


def test_json_lines_carry_context_and_mask_personal_data():
    def emit():
        def work():
            logging.getLogger("tongban.delivery").warning(
                "申请人张三 (330106199003071236, 13812345678) refused: {\"name\": \"欧阳娜娜\"}", extra={"trace_id": "t-1"})
        t = threading.Thread(target=work, name="deliver:tongban.to.platform.2of4")
        t.start()
        t.join()
    [line] = _capture("json", emit)
    doc = json.loads(line)
    assert doc["level"] == "WARNING" and doc["logger"] == "tongban.delivery"
    assert doc["destination"] == "platform" and doc["stage"] == "deliver" and doc["trace_id"] == "t-1"
    for secret in ("张三", "330106199003071236", "13812345678", "欧阳娜娜"):
        assert secret not in line
    assert "张*" in doc["message"] and "欧***" in doc["message"]


def test_text_lines_name_the_source_thread_department():
    def emit():
        t = threading.Thread(target=lambda: logging.getLogger("tongban.source").info("page read"),
                             name="source:commerce:new")
        t.start()
        t.join()
    [line] = _capture("text", emit)
    assert line.endswith("page read [department=commerce]")


def test_names_in_free_text():
    assert mask_names("handler=李四; 联系人：赵六") == "handler=李*; 联系人：赵*"
    assert mask_names("applicant.name: Value error, too long (value '王小五')") == \
        "applicant.name: Value error, too long (value '王**')"
    assert mask_names('{"name": "commerce"}') == '{"name": "commerce"}'   # the hub's vocabulary stays


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


def test_a_storm_is_one_warning_then_one_summary():
    logger = logging.getLogger("test.storm")
    logger.setLevel(logging.DEBUG)
    sink = _Records()
    logger.addHandler(sink)
    storm = Storm(interval=60, logger=logger)
    try:
        for i in range(30):
            storm.note("validate", "commerce", None, f"record {i}: invalid credit code 9133{i:04d}X", str(i))
        for i in range(4):
            storm.note("deliver", "commerce", "platform", f"gave up after 5 attempts: HTTP 503 ({i})", f"m{i}")
        storm.flush()
    finally:
        logger.removeHandler(sink)
    warnings = [r for r in sink.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    summary = warnings[1].getMessage()
    assert summary.startswith("33 more dead letter(s)")
    assert "validate/commerce: 29 (record #: invalid credit code #)" in summary
    assert "deliver/commerce->platform: 4" in summary
    assert sum(r.levelno == logging.DEBUG for r in sink.records) == 33   # every one, at DEBUG


def test_reason_kinds_group_what_differs_only_in_values():
    assert reason_kind("record 17: bad value '张三'") == reason_kind("record 18: bad value '李四'")


def test_a_long_reason_kind_keeps_what_failed_and_whole_words():
    kind = reason_kind("validate failed in commerce.case_event@1 for record 17: applicant.id_number: Value "
                       "error, invalid resident identity number 330106********1230: checksum: the check digit "
                       "(GB 11643) does not match")
    assert kind == "commerce.case_event@1: applicant.id_number: Value error, invalid resident identity number #…"
