"""A task's audit trail as a person reads it: when, what (in Chinese), who, and what was recorded.

Entries come from the audit trail projection, so reminders, messages and delivery attempts
that name the task appear beside its own events. Each entry's name is the event's label in the
one vocabulary (`duban.app.vocabulary`), the trail's one-line summary says what happened, and
under it (「记录详情」) the recorded fields a person reads, by their Chinese names and with their
values in words (a rung as 催办, an audience as 牵头单位, a chat by its name, a date as
「2026年6月15日」); the store's own keys (reminder keys, sequence numbers, the calendar data's
version) are never listed. A chat message's events (queued,
each delivery attempt, delivered or failed) are folded into one entry: what was sent to which
chat and how it ended (「已送达 县委编办群 09:02」), its attempts listed under it. Mobile numbers
(the @-mentions of liaisons, numbers typed into titles and notes) are masked here and again by
the templates (`duban.web.masked`), with the one masking rule of `duban.app.masking`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from duban.app.evidence import attachment_links
from duban.app.masking import mask_mobiles
from duban.app.routing import UNKNOWN_CHAT  # a channel the config no longer names
from duban.app.vocabulary import (
    AUDIENCE_LABELS,
    MEASURE_LABELS,
    MILESTONE_VIA_LABELS,
    RECOGNITION_KIND_LABELS,
    RECOGNITION_LABELS,
    RUNG_LABELS,
    TARGET_LABELS,
    UNKNOWN,
    date_text,
    event_label,
    field_label,
)

__all__ = ["UNKNOWN_CHAT", "TimelineEntry", "format_value", "timeline"]

_META = frozenset(
    {
        "originator_id",
        "originator_version",
        "originator_topic",
        "timestamp",
        "actor",
        "at",
        "code",
        "files",
    }  # fmt: skip (files: shown as 附件, each linked)
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
    files: list[tuple[str, str]] = field(default_factory=list)  # (「名称（大小）」, download link)


def format_value(value: Any, tz: ZoneInfo) -> str:
    if isinstance(value, dt.datetime) and value.tzinfo:
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list | tuple):
        return "、".join(format_value(v, tz) for v in value) or "—"
    if isinstance(value, dict):
        return "；".join(format_value(v, tz) for v in value.values()) or "—"
    return "—" if value is None else str(value)


def _when(text: str | None, tz: ZoneInfo) -> str:
    if not text:
        return "—"
    try:
        return format_value(dt.datetime.fromisoformat(text), tz)
    except ValueError:
        return text


def _label(event_type: str) -> str:
    shown = event_label(event_type)
    return "其他事项" if shown == UNKNOWN else shown


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
    named = chats or {}
    return [
        _entry(item, tz, named) if isinstance(item, dict) else _message(item, tz, named)
        for item in reversed(shown)
    ]


def _message_id(entry: dict[str, Any]) -> str | None:
    if not str(entry.get("type", "")).startswith(_MESSAGE):
        return None
    found = (entry.get("data") or {}).get("originator_id")
    return str(found) if found else None


def _entry(entry: dict[str, Any], tz: ZoneInfo, chats: Mapping[str, str]) -> TimelineEntry:
    event_type = str(entry.get("type", ""))
    data: dict[str, Any] = entry.get("data") or {}
    details = [(label, mask_mobiles(text)) for label, text in _details(event_type, data, chats)]
    codes = entry.get("tasks") or [None]
    files = attachment_links(data.get("files"), codes[0])
    if files:
        details.append(("附件", "、".join(text for text, _ in files)))
    return TimelineEntry(
        when=_when(entry.get("at") or entry.get("recorded_at"), tz),
        label=_label(event_type),
        type=event_type,
        who=mask_mobiles(str(entry.get("who", ""))),
        summary=mask_mobiles(str(entry.get("summary", ""))),
        details=details,
        severity=_severity(event_type),
        files=files,
    )


# ---- 记录详情: the recorded fields a person reads ----------------------------------------------


def _details(
    event_type: str, data: Mapping[str, Any], chats: Mapping[str, str]
) -> list[tuple[str, str]]:
    """(Chinese field name, value in words) for each recorded field a person reads, in the
    event's order; a field without a way to be told (a key, a sequence number, a version) and
    an empty one are left out."""
    shown: list[tuple[str, str]] = []
    for key, value in data.items():
        if key in _META or value in (None, "", [], {}):
            continue
        text = _value(event_type, key, value, chats)
        if text:
            shown.append((field_label(key), text))
    return shown


def _value(event_type: str, key: str, value: Any, chats: Mapping[str, str]) -> str | None:
    """A field's value as a person reads it, or None for a field that is not shown."""
    told = _FORMATS.get(key)
    return told(value, event_type, chats) if told else None


_Format = Callable[[Any, str, Mapping[str, str]], str | None]  # (value, event type, chats)


def _coded(table: Mapping[str, str]) -> _Format:
    return lambda value, _type, _chats: "、".join(table.get(str(v), UNKNOWN) for v in _many(value))


def _target(value: Any, _type: str, _chats: Mapping[str, str]) -> str:
    kind, _, name = str(value).partition(":")
    return TARGET_LABELS.get(kind, "督办事项") + (f"「{name}」" if name else "")


def _kind(value: Any, event_type: str, _chats: Mapping[str, str]) -> str:
    """A 问责's kind (约谈 …) or a task's 试点/典型."""
    table = MEASURE_LABELS if event_type.startswith("Accountability") else RECOGNITION_KIND_LABELS
    return table.get(str(value), UNKNOWN)


def _changes(value: Any, event_type: str, chats: Mapping[str, str]) -> str | None:
    if not isinstance(value, Mapping):
        return None
    told = [(k, _value(event_type, k, v, chats)) for k, v in value.items()]
    return "；".join(f"{field_label(k)} {v}" for k, v in told if v) or None


def _milestone_via(value: Any, event_type: str, _chats: Mapping[str, str]) -> str | None:
    """How a 阶段节点 was confirmed (报送确认 …). Any other event's `via` is the web session or
    API token the person acted through: told after the person (the entry's `who`), not here."""
    if not event_type.endswith("MilestoneClosed"):
        return None
    return MILESTONE_VIA_LABELS.get(str(value), UNKNOWN)


def _chats(value: Any, _type: str, chats: Mapping[str, str]) -> str:
    return "、".join(chats.get(str(c), UNKNOWN_CHAT) for c in _many(value))


_TEXT = ("title", "text", "reason", "summary", "evidence", "lead_unit", "co_units", "official",
         "group", "area", "deadline_text", "notes", "unit", "name", "document_no")  # fmt: skip
_DAYS = ("deadline", "new_deadline", "previous_deadline", "due", "answer_by", "on")
_FORMATS: Mapping[str, _Format] = {
    **{key: lambda value, _type, _chats: _plain(value) for key in _TEXT},
    **{key: lambda value, _type, _chats: date_text(value) for key in _DAYS},
    "rung": _coded(RUNG_LABELS),
    "audience": _coded(AUDIENCE_LABELS),
    "level": _coded(RECOGNITION_LABELS),
    "via": _milestone_via,
    "channel": _chats,
    "channels": _chats,
    "percent": lambda value, _type, _chats: f"{value}%",
    "on_time": lambda value, _type, _chats: "按期" if value else "逾期",
    "target": _target,
    "kind": _kind,
    # a 督办单's or 通报's number; an instruction's own (an int) is in its summary
    "number": lambda value, _type, _chats: value if isinstance(value, str) else None,
    "milestones": lambda value, _type, _chats: "、".join(_milestone(m) for m in _many(value)),
    "changes": _changes,
}


def _many(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _plain(value: Any) -> str:
    return "、".join(str(v) for v in _many(value) if v not in (None, ""))


def _milestone(milestone: Any) -> str:
    if not isinstance(milestone, Mapping):
        return str(milestone)
    due = milestone.get("due")
    return f"{milestone.get('name', '')}（{date_text(due)}）" if due else str(milestone.get("name"))


# ---- a chat message, folded -----------------------------------------------------------------

_MESSAGE = "ChatMessage."


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
        label=_label(f"ChatMessage.{kind}"),
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
