"""审计留痕: the audit trail, per task and global, in the order events were stored.

Each entry keeps the office's time (`at`), the store's write timestamp (`recorded_at`),
the actor, what happened in plain Chinese ("县发展和改革局 张伟 报送进展：30%，方案已起草")
and the full event data as JSON — enough to prove who was told what and when.

Which tasks an entry belongs to (the contract for other aggregates): a task's own events;
and ANY event that carries an attribute ``task_code: str`` or ``task_codes: list[str]`` is
attached to those tasks' trails (reminders issued, messages queued, delivery attempts,
delivered / failed, plan reviews tied to a task). Everything, including directory changes
(units, officials, channels), is in the global trail. Event types this module does not know
are described generically ("<actor> <事件类型>：field=value；…") so new aggregates show up
readably without a change here.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.domain import DomainEvent
from eventsourcing.persistence import Tracking

from domain.directory import ChannelRecord, Official, Unit
from domain.document import DocumentSequence
from domain.document_number import DOCUMENT_KINDS
from domain.holiday_notice import CalendarOverrides, HolidayNotice
from domain.plan_review import PlanReview
from domain.reminder import ChatMessage, Reminder
from domain.rungs import rung_label
from domain.task import ReformTask
from projections.facts import jsonable
from projections.runner import Item
from projections.viewstore import Step, ViewRecorder, view_recorder

__all__ = ["SECRET_FIELDS", "AuditProjection", "AuditTrail", "describe", "open_audit", "who"]

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS {p}audit_entries (notification_id BIGINT PRIMARY KEY, "
    "originator_id TEXT NOT NULL, originator_version BIGINT NOT NULL, type TEXT NOT NULL, "
    "at TEXT, day TEXT, recorded_at TEXT, actor TEXT, tasks TEXT NOT NULL, "
    "summary TEXT NOT NULL, data TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS {p}audit_entries_day ON {p}audit_entries (day)",
    "CREATE TABLE IF NOT EXISTS {p}audit_links (task_code TEXT NOT NULL, "
    "notification_id BIGINT NOT NULL, PRIMARY KEY (task_code, notification_id))",
    "CREATE TABLE IF NOT EXISTS {p}audit_tasks (originator_id TEXT PRIMARY KEY, code TEXT)",
)
TABLES = ("audit_entries", "audit_links", "audit_tasks")

_INSERT_ENTRY = (
    "INSERT INTO {p}audit_entries (notification_id, originator_id, originator_version, type, "
    "at, day, recorded_at, actor, tasks, summary, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_LINK = "INSERT INTO {p}audit_links (task_code, notification_id) VALUES (?, ?)"
_INSERT_TASK = "INSERT INTO {p}audit_tasks (originator_id, code) VALUES (?, ?)"
_COLUMNS = (
    "e.notification_id AS id, e.type, e.at, e.recorded_at, e.actor, e.tasks, e.summary, e.data"
)

# ---- who and what, in Chinese ------------------------------------------------------------------


def who(actor: str | None) -> str:
    """ "liaison:县发展和改革局/张伟" → "县发展和改革局 张伟"; "office:改革办" → "改革办"."""
    if not actor:
        return "（未记录）"
    role, _, rest = actor.partition(":")
    if role == "liaison":
        unit, _, name = rest.partition("/")
        return f"{unit} {name}".strip()
    if role == "system":
        return f"系统（{rest}）" if rest else "系统"
    return rest or actor


FIELD_LABELS = {
    "title": "改革任务",
    "area": "领域",
    "lead_unit": "牵头单位",
    "co_units": "配合单位",
    "official": "领衔领导",
    "group": "专责小组",
    "deadline": "完成时限",
    "deadline_text": "时限表述",
    "milestones": "阶段节点",
    "notes": "备注",
}
KIND_LABELS = {"pilot": "改革试点", "exemplar": "改革典型"}
LEVEL_LABELS = {"national": "国家级", "provincial": "省级", "municipal": "市级", "county": "县级"}
_META = frozenset({"originator_id", "originator_version", "timestamp", "originator_topic", "actor"})
# Fields that are secret material, if only as a fingerprint (a token's digest, a signing
# secret's or a webhook's fingerprint): the API leaves them out of what it answers (the
# generic description of an event type shows its fields as `name=value`, these included).
SECRET_FIELDS = frozenset({"digest", "secret", "robots", "robot"})


def _text(value: Any) -> str:
    value = jsonable(value)
    if isinstance(value, list):
        return "、".join(_text(v) for v in value) or "无"
    if isinstance(value, dict):
        return "，".join(f"{k}={_text(v)}" for k, v in value.items())
    return "无" if value is None else str(value)


def _overrides(event: Any) -> str:
    return f"节假日 {_text(event.extra_holidays)}；工作日 {_text(event.extra_workdays)}"


def _short(value: Any, width: int = 60) -> str:
    text = _text(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def _then(reason: str | None) -> str:
    return f"：{reason}" if reason else ""


_VIA = {"report": "进展报送", "office": "改革办确认", "plan": "方案初审通过"}  # MilestoneClosed

_Describe = Callable[[Any, str], str]


def _reconfigured(e: Any, w: str) -> str:
    shown = {k: v for k, v in e.settings.items() if k not in SECRET_FIELDS}
    changed = [k for k in ("robots", "secret") if e.settings.get(k) != e.previous.get(k)]
    notes = {"robots": "机器人地址已更换", "secret": "签名密钥已更换"}
    return f"{w} 修改群配置：{_short(shown)}" + "".join(f"；{notes[k]}" for k in changed)


def _attempt(e: Any, w: str) -> str:
    answer = e.answer or {}
    verdict = "平台已接受" if answer.get("ok") else "平台未接受"
    detail = "，".join(str(answer[k]) for k in ("kind", "code", "detail") if answer.get(k))
    return f"{w} 投递第 {e.part + 1} 段：{verdict}" + (f"（{detail}）" if detail else "")


_DESCRIBE: dict[type[DomainEvent], _Describe] = {
    ReformTask.Assigned: lambda e, w: (
        f"{w} 交办任务 {e.code}「{e.title}」，牵头单位 {e.lead_unit}"
        + (f"，配合单位 {_text(e.co_units)}" if e.co_units else "")
        + f"，完成时限 {e.deadline_text or _text(e.deadline) if e.deadline else '持续推进'}"
    ),
    ReformTask.Revised: lambda e, w: (
        f"{w} 修改任务："
        + "；".join(
            f"{FIELD_LABELS.get(k, k)} {_short(e.previous.get(k))} → {_short(v)}"
            for k, v in e.changes.items()
        )
        + _then(e.reason)
    ),
    ReformTask.Claimed: lambda e, w: f"{w} 签收任务",
    ReformTask.ProgressReported: lambda e, w: f"{w} 报送进展：{e.percent}%，{e.text}",
    ReformTask.ExtensionRequested: lambda e, w: (
        f"{w} 申请延期至 {_text(e.new_deadline)}{_then(e.reason)}"
    ),
    ReformTask.ExtensionGranted: lambda e, w: (
        f"{w} 批准延期：{_text(e.previous_deadline)} → {_text(e.new_deadline)}{_then(e.reason)}"
    ),
    ReformTask.ExtensionDenied: lambda e, w: f"{w} 不同意延期{_then(e.reason)}",
    ReformTask.CompletionSubmitted: lambda e, w: f"{w} 申请办结{_then(e.summary)}",
    ReformTask.CompletionAccepted: lambda e, w: (
        f"{w} 同意销号（{'按期' if e.on_time else '逾期'}完成）{_then(e.reason)}"
    ),
    ReformTask.CompletionReturned: lambda e, w: f"{w} 退回办结申请{_then(e.reason)}",
    ReformTask.Cancelled: lambda e, w: f"{w} 撤销任务{_then(e.reason)}",
    ReformTask.EscalationRecorded: lambda e, w: (
        f"{w} 记录{rung_label(e.rung)}（{e.target}，时限 {_text(e.due)}）"
    ),
    ReformTask.Recognised: lambda e, w: (
        f"{w} 记录{LEVEL_LABELS.get(e.level, e.level)}{KIND_LABELS.get(e.kind, e.kind)}：{e.title}"
    ),
    Reminder.Issued: lambda e, w: (
        f"{w} 发出{rung_label(e.rung)}（{e.target}，时限 {_text(e.due)}），"
        f"通知 {_text(e.audience)}，经 {_text(e.channels)}"
        + (f"，日历 {e.__dict__['calendar_version']}" if e.__dict__.get("calendar_version") else "")
    ),
    HolidayNotice.Recorded: lambda e, w: (
        f"{w} 导入{e.year}年节假日安排通知（放假 {len(e.holidays)} 天，调休上班 "
        f"{len(e.workdays)} 天，SHA-256 {e.source_sha256}）"
    ),
    HolidayNotice.Revised: lambda e, w: (
        f"{w} 更正{e.year}年节假日安排通知（放假 {len(e.holidays)} 天，"
        f"调休上班 {len(e.workdays)} 天，SHA-256 {e.previous_sha256[:12]} → {e.source_sha256}）"
    ),
    CalendarOverrides.Recorded: lambda e, w: f"{w} 记录配置的日历调整：{_overrides(e)}",
    CalendarOverrides.Changed: lambda e, w: f"{w} 修改配置的日历调整：{_overrides(e)}",
    ChatMessage.Queued: lambda e, w: (
        f"{w} 生成消息「{e.title}」，发往群 {e.channel}，共 {len(e.parts)} 段"
    ),
    ChatMessage.AttemptRecorded: _attempt,
    ChatMessage.Delivered: lambda e, w: f"{w} 确认消息已送达",
    ChatMessage.Failed: lambda e, w: f"{w} 记录消息投递失败{_then(e.reason)}",
    Unit.Registered: lambda e, w: (
        f"{w} 登记单位 {e.name}（群 {e.channel}，联络员 "
        f"{_text([x.get('name') for x in e.liaisons])}）"
    ),
    Unit.ChannelChanged: lambda e, w: f"{w} 更换单位群：{e.previous} → {e.channel}",
    Unit.LiaisonsChanged: lambda e, w: (
        f"{w} 更换联络员：{_text([x.get('name') for x in e.previous])} → "
        f"{_text([x.get('name') for x in e.liaisons])}"
    ),
    Official.Registered: lambda e, w: f"{w} 登记领衔领导 {e.name}（{e.title}，群 {e.channel}）",
    Official.Changed: lambda e, w: f"{w} 修改领衔领导信息：{_short(e.changes)}",
    ChannelRecord.Configured: lambda e, w: f"{w} 配置群 {e.name}（{e.settings.get('platform')}）",
    ChannelRecord.Reconfigured: _reconfigured,
    Unit.Removed: lambda e, w: (
        f"{w} 将单位 {e.name} 移出名录（联络员 {_text([x.get('name') for x in e.liaisons])}）"
    ),
    Unit.Restored: lambda e, w: f"{w} 将单位 {e.name} 重新列入名录",
    Official.Removed: lambda e, w: f"{w} 将领衔领导 {e.name} 移出名录",
    Official.Restored: lambda e, w: f"{w} 将领衔领导 {e.name} 重新列入名录",
    PlanReview.Submitted: lambda e, w: f"{w} 报送改革方案 {e.plan_code}「{e.title}」前置初审",
    PlanReview.OpinionAdded: lambda e, w: f"{w} 提出初审意见：{e.text}",
    PlanReview.Approved: lambda e, w: f"{w} 初审通过{_then(e.reason)}",
    PlanReview.Returned: lambda e, w: f"{w} 初审退回{_then(e.reason)}",
    PlanReview.Resubmitted: lambda e, w: f"{w} 修改后重新报送方案「{e.title}」{_then(e.text)}",
    ReformTask.MilestoneClosed: lambda e, w: (
        f"{w} 确认阶段节点「{e.name}」完成（{_VIA.get(e.via, e.via)}）{_then(e.reason)}"
    ),
    DocumentSequence.Opened: lambda e, w: f"{w} 启用{e.year}年{DOCUMENT_KINDS[e.kind].title}文号",
    DocumentSequence.Numbered: lambda e, w: f"{w} 印发{e.number}（{e.unit}）{_then(e.reason)}",
}


def describe(event: Any) -> str:
    """What happened, in plain Chinese; unknown types generically but readably."""
    w = who(getattr(event, "actor", None))
    known = _DESCRIBE.get(type(event))
    if known is not None:
        try:
            return known(event, w)
        except (AttributeError, KeyError, TypeError):
            pass  # an older or newer shape of a known event: fall back to the generic text
    fields = {k: v for k, v in event.__dict__.items() if k not in _META and k != "at"}
    details = "；".join(f"{k}={_short(v)}" for k, v in fields.items())
    return f"{w} {type(event).__qualname__}" + (f"：{details}" if details else "")


def task_codes_of(event: Any) -> list[str]:
    """The contract: `task_code: str` and/or `task_codes: list[str]` attach an event to tasks."""
    codes: list[str] = []
    single = getattr(event, "task_code", None)
    if isinstance(single, str) and single:
        codes.append(single)
    many = getattr(event, "task_codes", None)
    if isinstance(many, list | tuple):
        codes += [c for c in many if isinstance(c, str) and c]
    return list(dict.fromkeys(codes))


# ---- the stored trail ------------------------------------------------------------------------


class AuditProjection:
    """One entry per stored event, plus (task code, entry) links for the per-task trails."""

    name = "audit"
    decode = True
    topics: Sequence[str] = ()

    def __init__(self, view: ViewRecorder) -> None:
        self._view = view
        self._codes: dict[str, str] = {}  # ReformTask originator id → task code

    @property
    def view(self) -> ViewRecorder:
        return self._view

    def reset(self) -> None:
        self._codes = {}

    def begin(self, position: int) -> None:
        """Task codes never change for an id, so the cache stays valid at any position."""

    def process(self, batch: Sequence[Item], tracking: Tracking) -> None:
        self._load_codes(batch)
        entries: list[tuple[Any, ...]] = []
        links: list[tuple[str, int]] = []
        tasks: list[tuple[str, str]] = []
        for notification, event in batch:
            codes = self._codes_for(event, tasks)
            entries.append(_entry(notification.id, event, codes))
            links += [(code, notification.id) for code in codes]
        steps: list[Step] = [(_INSERT_TASK, tasks), (_INSERT_ENTRY, entries), (_INSERT_LINK, links)]
        self._view.write(steps, tracking)

    def _codes_for(self, event: Any, new_tasks: list[tuple[str, str]]) -> list[str]:
        kind = type(event)
        if not issubclass(kind, ReformTask.Event):
            return task_codes_of(event)
        originator = str(event.originator_id)
        if kind is ReformTask.Assigned:
            self._codes[originator] = event.code
            new_tasks.append((originator, event.code))
        code = self._codes.get(originator)
        return [code] if code else []

    def _load_codes(self, batch: Sequence[Item]) -> None:
        wanted = {
            str(e.originator_id)
            for _, e in batch
            if isinstance(e, ReformTask.Event) and type(e) is not ReformTask.Assigned
        }
        for row in self._view.select_in(
            "SELECT originator_id, code FROM {p}audit_tasks WHERE originator_id IN ({in})",
            wanted - self._codes.keys(),
        ):
            self._codes[row["originator_id"]] = row["code"]


def _entry(position: int, event: Any, codes: list[str]) -> tuple[Any, ...]:
    at = getattr(event, "at", None)
    data = jsonable(event.__dict__)
    return (
        position,
        str(event.originator_id),
        event.originator_version,
        type(event).__qualname__,
        jsonable(at),
        at.date().isoformat() if isinstance(at, dt.datetime) else None,
        jsonable(getattr(event, "timestamp", None)),
        getattr(event, "actor", None),
        json.dumps(codes, ensure_ascii=False),
        describe(event),
        json.dumps(data, ensure_ascii=False, sort_keys=True),
    )


@dataclass
class AuditTrail:
    """Reads of the audit view: a task's trail or the global one, oldest first."""

    projection: AuditProjection

    def entries(
        self, task: str | None = None, since: dt.date | None = None
    ) -> list[dict[str, Any]]:
        """Entries in notification order; `since` filters by the day of `at` (office time)."""
        where, params = [], []
        source = "{p}audit_entries e"
        if task is not None:
            source += " JOIN {p}audit_links l ON l.notification_id = e.notification_id"
            where.append("l.task_code = ?")
            params.append(task)
        if since is not None:
            where.append("e.day >= ?")
            params.append(since.isoformat())
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        query = f"SELECT {_COLUMNS} FROM {source}{clause} ORDER BY e.notification_id"  # noqa: S608
        return [_shape(row) for row in self.projection.view.select(query, params)]


def _shape(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "position": int(row["id"]),
        "at": row["at"],
        "recorded_at": row["recorded_at"],
        "actor": row["actor"],
        "who": who(row["actor"]),
        "type": row["type"],
        "tasks": json.loads(row["tasks"]),
        "summary": row["summary"],
        "data": json.loads(row["data"]),
    }


def open_audit(datastore: object) -> AuditTrail:
    """The audit view of the store behind `datastore`, its tables created if new."""
    return AuditTrail(AuditProjection(view_recorder(datastore, "audit", SCHEMA, TABLES)))
