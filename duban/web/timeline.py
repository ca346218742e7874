"""A task's audit trail as a person reads it: when, what (in Chinese), who, and what was recorded.

Entries come from the audit trail projection, so reminders, messages and delivery attempts
that name the task appear beside its own events. They are rendered generically: a known event
type gets a short Chinese name, any other shows its own type; the trail's one-line summary says
what happened and every recorded field is listed under it. A chat message's events (queued,
each delivery attempt, delivered or failed) are folded into one entry: what was sent to which
chat and how it ended (「已送达 县委编办群 09:02」), its attempts listed under it. Mobile numbers
(the @-mentions of liaisons, numbers typed into titles and notes) are masked here and again by
the templates (`duban.web.masked`), with the one masking rule of `duban.app.masking`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from duban.app.masking import mask_mobiles

__all__ = ["UNKNOWN_CHAT", "TimelineEntry", "format_value", "timeline"]

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
    "MilestoneClosed": "阶段节点完成",
    "Instruction.Issued": "领导批示",
    "Instruction.Answered": "答复批示",
    "AccountabilityMeasure.Recorded": "记录问责",
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
    "answer_by": "答复时限", "number": "编号", "task_code": "任务编号", "unit": "单位",
    "name": "名称", "via": "方式",
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
    outcome: str = ""  # a chat message: how it ended, 「已送达 县委编办群 09:02」
    attempts: list[tuple[str, str]] = field(default_factory=list)  # (when, what) per attempt


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


def timeline(
    entries: Iterable[dict[str, Any]], tz: ZoneInfo, chats: Mapping[str, str] | None = None
) -> list[TimelineEntry]:
    """Audit trail entries (projections.audit shape), newest first; each chat message's events
    folded into one entry at the place of its first (`chats`: channel name → the chat as a
    person calls it, 「县委编办群」)."""
    shown: list[dict[str, Any] | list[dict[str, Any]]] = []
    messages: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        message = _message_id(entry)
        if message is None:
            shown.append(entry)
        elif message in messages:
            messages[message].append(entry)
        else:
            messages[message] = [entry]
            shown.append(messages[message])
    return [
        _entry(item, tz) if isinstance(item, dict) else _message(item, tz, chats or {})
        for item in reversed(shown)
    ]


def _message_id(entry: dict[str, Any]) -> str | None:
    if not str(entry.get("type", "")).startswith(_MESSAGE):
        return None
    found = (entry.get("data") or {}).get("originator_id")
    return str(found) if found else None


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


# ---- a chat message, folded -----------------------------------------------------------------

_MESSAGE = "ChatMessage."
UNKNOWN_CHAT = "工作群"  # a channel the config no longer names


def _message(
    entries: list[dict[str, Any]], tz: ZoneInfo, chats: Mapping[str, str]
) -> TimelineEntry:
    """One chat message's events (in trail order) as one entry."""
    by_kind: dict[str, dict[str, Any]] = {}
    attempts: list[tuple[str, str]] = []
    for entry in entries:
        kind = str(entry["type"]).rsplit(".", 1)[-1]
        by_kind.setdefault(kind, entry)
        if kind == "AttemptRecorded":
            attempts.append((_when(entry.get("at"), tz), _attempt_text(entry.get("data") or {})))
    queued = by_kind.get("Queued", entries[0])
    data = queued.get("data") or {}
    channel = data.get("channel")
    chat = chats.get(str(channel), UNKNOWN_CHAT) if channel else UNKNOWN_CHAT
    title = str(data.get("title") or "")
    when = _when(queued.get("at") or queued.get("recorded_at"), tz)
    kind, outcome = _outcome(by_kind, chat, when, tz, attempts)
    return TimelineEntry(
        when=when,
        label=EVENT_LABELS[f"ChatMessage.{kind}"],
        type=f"{_MESSAGE}{kind}",
        who=mask_mobiles(str(queued.get("who", ""))),
        summary=mask_mobiles(f"「{title}」发往{chat}" if title else f"发往{chat}"),
        details=[],  # what was sent is the summary; how, the attempts
        severity=_severity(kind),
        outcome=mask_mobiles(outcome),
        attempts=[(at, mask_mobiles(text)) for at, text in attempts],
    )


def _outcome(
    by_kind: dict[str, dict[str, Any]],
    chat: str,
    queued_when: str,
    tz: ZoneInfo,
    attempts: list[tuple[str, str]],
) -> tuple[str, str]:
    """(the event kind that says how the message stands, the one line that says it)."""
    for kind, verb in (("Delivered", "已送达"), ("Failed", "投递失败")):
        if kind in by_kind:
            at = _when(by_kind[kind].get("at"), tz)
            same_day = at[:10] == queued_when[:10]
            return kind, f"{verb} {chat} {at[11:] if same_day else at}"
    tried = f"（已尝试 {len(attempts)} 次）" if attempts else ""
    return "Queued", f"待发送 {chat}{tried}"


def _attempt_text(data: dict[str, Any]) -> str:
    answer = data.get("answer") or {}
    part = data.get("part")
    which = f"第 {part + 1} 段：" if isinstance(part, int) else ""
    if answer.get("ok"):
        return f"{which}平台已接受"
    detail = "，".join(str(answer[k]) for k in ("code", "detail") if answer.get(k))
    return f"{which}平台未接受" + (f"（{detail}）" if detail else "")
