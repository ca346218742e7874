"""A task's audit trail as a person reads it: when, what (in Chinese), who, and what was recorded.

Entries come from the audit trail projection, so reminders, messages and delivery attempts
that name the task appear beside its own events. They are rendered generically: a known event
type gets a short Chinese name, any other shows its own type; the trail's one-line summary says
what happened and every recorded field is listed under it. Mobile numbers (the @-mentions of
liaisons, numbers typed into titles and notes) are masked here and again by the templates
(`duban.web.masked`), with the one masking rule of `duban.app.masking`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from duban.app.masking import mask_mobiles

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
_META = frozenset(
    {"originator_id", "originator_version", "originator_topic", "timestamp", "actor", "at", "code"}
)
_ALERT = frozenset({"EscalationRecorded", "Failed", "ExtensionDenied", "CompletionReturned"})
_WARN = frozenset({"Issued", "ExtensionRequested", "Queued", "AttemptRecorded"})
_DONE = frozenset({"CompletionAccepted", "Delivered", "Recognised"})


@dataclass(frozen=True)
class TimelineEntry:
    when: str
    label: str
    type: str
    who: str
    summary: str
    details: list[tuple[str, str]]
    severity: str  # css hook: info | warn | alert | done


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


def _when(text: str | None, tz: ZoneInfo) -> str:
    if not text:
        return "—"
    try:
        return format_value(dt.datetime.fromisoformat(text), tz)
    except ValueError:
        return text


def _label(event_type: str) -> str:
    last_two = ".".join(event_type.split(".")[-2:])
    return EVENT_LABELS.get(last_two) or EVENT_LABELS.get(event_type.rsplit(".", 1)[-1], event_type)


def _severity(event_type: str) -> str:
    name = event_type.rsplit(".", 1)[-1]
    if name in _ALERT:
        return "alert"
    if name in _WARN:
        return "warn"
    return "done" if name in _DONE else "info"


def timeline(entries: Iterable[dict[str, Any]], tz: ZoneInfo) -> list[TimelineEntry]:
    """Audit trail entries (projections.audit shape), newest first."""
    return [_entry(e, tz) for e in reversed(list(entries))]


def _entry(entry: dict[str, Any], tz: ZoneInfo) -> TimelineEntry:
    event_type = str(entry.get("type", ""))
    data: dict[str, Any] = entry.get("data") or {}
    details = [
        (FIELD_LABELS.get(key, key), mask_mobiles(format_value(value, tz)))
        for key, value in data.items()
        if key not in _META
    ]
    return TimelineEntry(
        when=_when(entry.get("at") or entry.get("recorded_at"), tz),
        label=_label(event_type),
        type=event_type,
        who=mask_mobiles(str(entry.get("who", ""))),
        summary=mask_mobiles(str(entry.get("summary", ""))),
        details=details,
        severity=_severity(event_type),
    )
