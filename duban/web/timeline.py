"""A task's audit trail as a person reads it: when, what (in Chinese), who, and the facts recorded.

Entries are rendered generically: a known event type gets its Chinese name, any other (reminders,
deliveries, whatever comes next) shows its own type name; every recorded field is listed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

__all__ = ["TimelineEntry", "format_value", "timeline"]

EVENT_LABELS = {
    "Assigned": "交办",
    "Revised": "修改任务",
    "Claimed": "签收",
    "ProgressReported": "进展报送",
    "ExtensionRequested": "申请延期",
    "ExtensionGranted": "批准延期",
    "ExtensionDenied": "不予延期",
    "CompletionSubmitted": "申请办结",
    "CompletionAccepted": "销号",
    "CompletionReturned": "退回办结申请",
    "Cancelled": "撤销",
    "EscalationRecorded": "升级督办",
    "Recognised": "试点/典型",
    "Reminder.Issued": "发出提醒",
    "ChatMessage.Queued": "消息待发",
    "ChatMessage.AttemptRecorded": "投递尝试",
    "ChatMessage.Delivered": "消息已送达",
    "ChatMessage.Failed": "消息投递失败",
}
FIELD_LABELS = {
    "title": "任务", "text": "内容", "percent": "进度(%)", "evidence": "佐证材料",
    "reason": "理由", "new_deadline": "新时限", "previous_deadline": "原时限",
    "summary": "办结情况", "on_time": "按时完成", "kind": "类别", "level": "级别",
    "rung": "梯度", "target": "对象", "due": "到期日", "changes": "变更", "previous": "原值",
    "lead_unit": "牵头单位", "co_units": "配合单位", "official": "领衔领导", "group": "专责小组",
    "area": "领域", "deadline": "完成时限", "deadline_text": "时限原文", "milestones": "阶段节点",
    "notes": "备注", "channels": "群", "channel": "群", "audience": "通知对象",
    "status": "状态", "attempt": "第几次", "response": "平台应答", "error": "错误",
}  # fmt: skip
_SKIP = frozenset(
    {"type", "originator_id", "originator_topic", "version", "recorded_at", "actor", "at", "code"}
)


@dataclass(frozen=True)
class TimelineEntry:
    when: str
    label: str
    type: str
    actor: str
    details: list[tuple[str, str]]
    severity: str  # css hook: info | warn | alert | done


def _label(event_type: str) -> str:
    short = event_type.rsplit(".", 1)[-1]
    two = ".".join(event_type.split(".")[-2:])
    return EVENT_LABELS.get(two) or EVENT_LABELS.get(short) or event_type


def _severity(event_type: str, record: dict[str, Any]) -> str:
    short = event_type.rsplit(".", 1)[-1]
    if short in ("EscalationRecorded", "Failed", "ExtensionDenied", "CompletionReturned"):
        return "alert"
    if short in ("Issued", "ExtensionRequested") or record.get("rung"):
        return "warn"
    if short in ("CompletionAccepted", "Delivered", "Recognised"):
        return "done"
    return "info"


def format_value(value: Any, tz: ZoneInfo) -> str:
    if isinstance(value, dt.datetime) and value.tzinfo:
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list | tuple):
        return "、".join(format_value(v, tz) for v in value) or "—"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return "—" if value is None else str(value)


def timeline(records: Iterable[dict[str, Any]], tz: ZoneInfo) -> list[TimelineEntry]:
    return [_entry(r, tz) for r in records]


def _entry(record: dict[str, Any], tz: ZoneInfo) -> TimelineEntry:
    event_type = str(record.get("type", ""))
    details = [
        (FIELD_LABELS.get(key, key), format_value(value, tz))
        for key, value in record.items()
        if key not in _SKIP
    ]
    return TimelineEntry(
        when=format_value(record.get("at") or record.get("recorded_at"), tz),
        label=_label(event_type),
        type=event_type,
        actor=str(record.get("actor", "")),
        details=details,
        severity=_severity(event_type, record),
    )
