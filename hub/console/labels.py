"""The console's words: Chinese with the English beside it, as DESIGN.md names things."""
from __future__ import annotations

from hub.adapter.departments import departments

PAGES = [  # (path, label, permission to see the link)
    ("/", "总览 Overview", "read"),
    ("/queues", "队列 Queues", "read"),
    ("/deadletters", "死信 Dead letters", "read"),
    ("/trace", "办件追踪 Case trace", "read"),
    ("/dualtrack", "双轨 Dual-track", "read"),
    ("/reports", "月度通报 Reports", "read"),
    ("/audit", "审计 Audit", "read"),
    ("/users", "用户 Users", "users"),
]

STAGES = {"fetch": "读取 fetch", "decode": "解码 decode", "map": "映射 map", "validate": "校验 validate",
          "conflict": "冲突 conflict", "route": "路由 route", "sequence": "顺序 sequence", "deliver": "投递 deliver"}

DESTINATIONS = {"platform": "市分厅 platform", "province": "省节点 province"}

STATUSES = {"dead": "死信 dead", "replayed": "已重放 replayed", "purged": "已清除 purged"}

BREAKER = {"closed": "闭合 closed", "open": "断开 open", "half_open": "半开 half-open"}

MODES = {"off": "关闭 off", "shadow": "影子 shadow", "cutover": "已切换 cutover", "retired": "旧轨退役 retired"}

OTHER_SOURCES = {"platform": "一网通办 platform"}   # the southbound source

TRACKS = {"old": "旧轨 old", "new": "新轨 new"}

HOLDS = {"retrying": "重试中 retrying", "dead": "死信阻塞 dead", "released": "已放行 released",
         "waiting": "等待前序 waiting"}

VERDICTS = {"match": "一致 match", "mismatch": "不一致 mismatch", "missing_old": "旧轨缺失 missing old",
            "missing_new": "新轨缺失 missing new", "noise": "噪声 noise", "waiting": "等待 waiting"}

TRACE = {"record": "读取记录 record read", "message": "发布消息 message published", "delivery": "投递 delivery",
         "hold": "阻塞 hold", "parked": "暂存 parked", "dead_letter": "死信 dead letter",
         "retry": "重试 retry", "verdict": "双轨比对 dual-track verdict"}


def department(name: str | None) -> str:
    if not name:
        return "-"
    base, _, track = name.partition(".")
    info = departments().get(base)
    label = (info.label if info else None) or OTHER_SOURCES.get(base)
    text = label or base   # the model's labels carry the English already
    return text + (f" ({TRACKS.get(track, track)})" if track else "")


def destination(name: str | None) -> str:
    if not name:
        return "-"
    return DESTINATIONS.get(name) or department(name)


# a case trace's counts (hub/store/console.py case_trace, and the dual-track twins waiting)
TRACE_COUNTS = {"records": "记录 records", "messages": "消息 messages", "deliveries": "投递 deliveries",
                "holds": "阻塞 holds", "parked": "暂存 parked", "dead_letters": "死信 dead letters",
                "comparisons": "比对 comparisons", "waiting": "待配对 waiting"}

# the fields of a dead letter, as its page shows them
DEAD_LETTER_FIELDS = {"stage": "阶段 stage", "status": "状态 status", "department": "部门 department",
                      "destination": "目的地 destination", "case_no": "办件编号 case number",
                      "record_key": "记录键 record key", "message_id": "消息标识 message id",
                      "attempts": "尝试次数 attempts", "first_failed_at": "首次失败 first failed",
                      "last_failed_at": "最近失败 last failed", "updated_at": "更新于 updated"}


def glossary() -> dict:
    return {"stages": STAGES, "statuses": STATUSES, "breaker": BREAKER, "modes": MODES, "tracks": TRACKS,
            "holds": HOLDS, "verdicts": VERDICTS, "trace": TRACE, "department": department,
            "destination": destination, "trace_counts": TRACE_COUNTS, "dead_letter_fields": DEAD_LETTER_FIELDS}
