"""审计留痕, in words: what each stored event says in plain Chinese, for the audit trail.

`describe(event)` tells what happened ("县发展和改革局 张伟 报送进展：30%，方案已起草");
`describe_record(type, data, names)` the same from an audit entry's stored JSON, with the chats
and the tasks' parties named as the trail knows them (`Names`). Event types this module does not
know are described generically ("<actor> <事件类型>：<字段> <值>；…"), from the fields a person
can name, so new aggregates show up readably without a change here and no field's code is shown.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from eventsourcing.domain import DomainEvent

from domain.accountability import AccountabilityMeasure
from domain.directory import ChannelRecord, Official, Unit
from domain.document import DocumentSequence
from domain.document_number import DOCUMENT_KINDS
from domain.evidence import with_attachments
from domain.holiday_notice import CalendarOverrides, HolidayNotice
from domain.instruction import Instruction, instruction_ref
from domain.plan_review import PlanReview
from domain.reminder import ChatMessage, Reminder
from domain.rungs import rung_label
from domain.task import ReformTask
from domain.token import AccessToken
from domain.vocabulary import (
    AUDIENCE_LABELS,
    FIELD_LABELS,
    MEASURE_LABELS,
    MILESTONE_VIA_LABELS,
    PLATFORM_LABELS,
    RECOGNITION_KIND_LABELS,
    RECOGNITION_LABELS,
    TARGET_LABELS,
    actor_text,
    date_text,
    event_label,
)
from projections.audit_inbound import INBOUND_TEXTS
from projections.audit_people import PEOPLE_TEXTS
from projections.audit_via import via_of, via_text
from projections.facts import jsonable

__all__ = [
    "KIND_LABELS",
    "SECRET_FIELDS",
    "UNKNOWN_CHAT",
    "Names",
    "describe",
    "describe_record",
    "task_codes_of",
    "who",
]


def who(actor: str | None) -> str:
    """「县发展和改革局 张伟」「改革办」「系统（消息投递）」: `domain.vocabulary.actor_text`."""
    return actor_text(actor)


KIND_LABELS, LEVEL_LABELS = RECOGNITION_KIND_LABELS, RECOGNITION_LABELS
_META = frozenset({"originator_id", "originator_version", "timestamp", "originator_topic", "actor"})
# Fields that are secret material, if only as a fingerprint (a token's digest, a signing
# secret's or a webhook's fingerprint): the API leaves them out of what it answers (the
# generic description of an event type shows its fields as `name=value`, these included).
SECRET_FIELDS = frozenset({"digest", "secret", "robots", "robot", "password"})


def _text(value: Any) -> str:
    value = jsonable(value)
    if isinstance(value, list):
        return "、".join(_text(v) for v in value) or "无"
    if isinstance(value, dict):
        return "，".join(f"{k}={_text(v)}" for k, v in value.items())
    return "无" if value is None else str(value)


def _day(value: Any) -> str:
    """A date field as a person reads it (「2024年6月30日」); 「无」 for none."""
    return "无" if value in (None, "") else date_text(jsonable(value))


UNKNOWN_CHAT = "工作群"  # a chat the trail has no record of: not named as anyone's


@dataclass(frozen=True)
class Names:
    """What a description names beyond the event itself: each chat by the units it serves
    (「县财政局群」) and each task's units and official at the time (for 「通知牵头单位…」).
    Read from the directory and task events of the trail (`AuditTrail`); empty for a bare
    event, which then names the chat 「单位工作群」 and the audiences by their role."""

    chats: Mapping[str, str] = field(default_factory=dict)
    parties: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    other_chat: str = "单位工作群"  # the trail's: a chat no unit or official uses is the office's

    def chat(self, channel: Any) -> str:
        return self.chats.get(str(channel), self.other_chat)

    def audience(self, audience: Any, code: Any) -> str:
        party = self.parties.get(str(code), {})
        shown = []
        for role in audience or ():
            role_label = AUDIENCE_LABELS.get(str(role), "相关单位")
            whom = party.get(str(role))
            if isinstance(whom, list | tuple):
                whom = "、".join(str(x) for x in whom)
            shown.append(f"{role_label}{whom}" if whom and role_label != whom else role_label)
        return "、".join(shown) or "无"


_NO_NAMES = Names()


def _calendar(version: Any) -> str:
    """The calendar data a rung's date was computed with (`WorkingCalendar.version`), in words:
    「，日历依据 2024年内置节假日数据 1.11.0」."""
    if not version:
        return ""
    text = re.sub(r"(\d{4}):", r"\1年", str(version)).replace("chinesecalendar", "内置节假日数据")
    return f"，日历依据 {text}"


def _deadline(text: Any, deadline: Any) -> str:
    """The task's own wording of its deadline, unless it is only the ISO date."""
    return str(text) if text and str(text) != _text(deadline) else _day(deadline)


def _titled(title: Any, channel: Any, names: Names) -> str:
    """A message's stored title, its chat's code (older titles: 「…｜bb｜…」) as the units'
    names (「…｜县委编办｜…」)."""
    return str(title).replace(f"｜{channel}｜", f"｜{names.chat(channel).removesuffix('群')}｜")


def _target(target: Any) -> str:
    """What a reminder is about: 「完成时限」, 「阶段节点「…」」."""
    kind, _, name = str(target).partition(":")
    shown = TARGET_LABELS.get(kind, "督办事项")
    return f"{shown}「{name}」" if name else shown


def _overrides(event: Any) -> str:
    return f"节假日 {_text(event.extra_holidays)}；工作日 {_text(event.extra_workdays)}"


def _short(value: Any, width: int = 60) -> str:
    text = _text(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def _then(reason: str | None) -> str:
    return f"：{reason}" if reason else ""


_Describe = Callable[[Any, str, Names], str]
_OFFICIAL_FIELDS = {"title": "职务", "channel": "群", "mobile": "手机号", "rank": "排序"}


def _reconfigured(e: Any, w: str, n: Names) -> str:
    changed = [
        k for k in e.settings if k not in SECRET_FIELDS and e.settings.get(k) != e.previous.get(k)
    ]
    shown = [_SETTING_LABELS.get(k, "其他设置") for k in changed]
    notes = {"robots": "机器人地址已更换", "secret": "签名密钥已更换"}
    secrets = [notes[k] for k in ("robots", "secret") if e.settings.get(k) != e.previous.get(k)]
    platform = PLATFORM_LABELS.get(str(e.settings.get("platform")), "")
    return (
        f"{w} 修改{n.chat(e.name)}配置"
        + (f"（{platform}）" if platform else "")
        + "".join(f"；{x}" for x in [*(f"{x}已修改" for x in dict.fromkeys(shown)), *secrets])
    )


_SETTING_LABELS = {
    "platform": "平台",
    "host": "机器人地址",
    "hosts": "机器人地址",
    "keyword": "关键词",
    "display_name": "群名称",
}

_ANSWER_KINDS = {"retry_later": "稍后重试", "config": "群配置有误", "content": "内容被拒收"}


def _informative(detail: Any) -> bool:
    """A platform's answer worth showing: Chinese words, not 「ok」 or an English errmsg."""
    text = str(detail or "").strip()
    return bool(text) and re.search(r"[A-Za-z]{3,}", text) is None and text.lower() != "ok"


def _attempt(e: Any, w: str, n: Names) -> str:
    answer = e.answer or {}
    if answer.get("ok"):
        detail = answer.get("detail")
        return f"{w} 投递第 {e.part + 1} 段：平台已接受" + (
            f"（{detail}）" if _informative(detail) else ""
        )
    shown = [_ANSWER_KINDS[k] for k in [str(answer.get("kind"))] if k in _ANSWER_KINDS]
    if answer.get("code") not in (None, 0, "0", ""):
        shown.append(f"错误码 {answer['code']}")
    if _informative(answer.get("detail")):
        shown.append(str(answer["detail"]))
    return f"{w} 投递第 {e.part + 1} 段：平台未接受" + (f"（{'，'.join(shown)}）" if shown else "")


def _token(e: Any, w: str, n: Names) -> str:
    whom = e.name + (f"（{e.unit}）" if e.unit else "")
    return f"{w} 签发{ROLE_NAMES.get(e.role, '')}访问令牌 {e.token_id}，持有人 {whom}" + _then(
        e.reason
    )


def _instruction(e: Any, w: str) -> str:
    """「王建国 作出批示 2026-01/1：请加快推进；请县委编办于2026年6月20日前答复」."""
    number = getattr(e, "number", 0)
    ref = f" {instruction_ref(e.task_code, number)}" if number else ""
    due = f"于{_day(e.answer_by)}前" if e.answer_by else ""
    return f"{w} 作出批示{ref}：{e.text}；请{e.unit}{due}答复"


def _measure(e: Any, w: str) -> str:
    """「改革办 记录约谈：县委编办，文号 县改办〔2026〕3号，事由 …」."""
    kind = MEASURE_LABELS.get(str(e.kind), "问责措施")
    on = getattr(e, "on", None)
    return (
        f"{w} 记录{kind}：{e.unit}，文号 {e.document_no}"
        + (f"，{_day(on)}实施" if on else "")
        + f"，事由 {e.reason}"
    )


ROLE_NAMES = {"office": "改革办", "liaison": "联络员", "official": "领衔领导", "auditor": "审计"}


_DESCRIBE: dict[type[DomainEvent], _Describe] = {
    ReformTask.Assigned: lambda e, w, n: (
        f"{w} 交办任务 {e.code}「{e.title}」，牵头单位 {e.lead_unit}"
        + (f"，配合单位 {_text(e.co_units)}" if e.co_units else "")
        + f"，完成时限 {_deadline(e.deadline_text, e.deadline) if e.deadline else '持续推进'}"
    ),
    ReformTask.Revised: lambda e, w, n: (
        f"{w} 修改任务："
        + "；".join(
            f"{FIELD_LABELS.get(k, '其他')} {_field(k, e.previous.get(k))} → {_field(k, v)}"
            for k, v in e.changes.items()
        )
        + _then(e.reason)
    ),
    ReformTask.Claimed: lambda e, w, n: f"{w} 签收任务",
    ReformTask.ProgressReported: lambda e, w, n: f"{w} 报送进展：{e.percent}%，{e.text}",
    ReformTask.ExtensionRequested: lambda e, w, n: (
        f"{w} 申请延期至 {_day(e.new_deadline)}{_then(e.reason)}"
    ),
    ReformTask.ExtensionGranted: lambda e, w, n: (
        f"{w} 批准延期：{_day(e.previous_deadline)} → {_day(e.new_deadline)}{_then(e.reason)}"
    ),
    ReformTask.ExtensionDenied: lambda e, w, n: f"{w} 不同意延期{_then(e.reason)}",
    ReformTask.CompletionSubmitted: lambda e, w, n: f"{w} 申请办结{_then(e.summary)}",
    ReformTask.CompletionAccepted: lambda e, w, n: (
        f"{w} 同意销号（{'按期' if e.on_time else '逾期'}完成）{_then(e.reason)}"
    ),
    ReformTask.CompletionReturned: lambda e, w, n: f"{w} 退回办结申请{_then(e.reason)}",
    ReformTask.Cancelled: lambda e, w, n: f"{w} 撤销任务{_then(e.reason)}",
    ReformTask.EscalationRecorded: lambda e, w, n: (
        f"{w} 记录{rung_label(e.rung)}（{_target(e.target)}，时限 {_day(e.due)}）"
    ),
    ReformTask.Recognised: lambda e, w, n: (
        f"{w} 记录{LEVEL_LABELS.get(e.level, e.level)}{KIND_LABELS.get(e.kind, e.kind)}：{e.title}"
    ),
    Reminder.Issued: lambda e, w, n: (
        f"{w} 发出{rung_label(e.rung)}（{_target(e.target)}，时限 {_day(e.due)}），"
        f"通知{n.audience(e.audience, getattr(e, 'task_code', ''))}，"
        f"经{'、'.join(n.chat(c) for c in e.channels) or '无'}"
        + _calendar(e.__dict__.get("calendar_version"))
    ),
    HolidayNotice.Recorded: lambda e, w, n: (
        f"{w} 导入{e.year}年节假日安排通知（放假 {len(e.holidays)} 天，调休上班 "
        f"{len(e.workdays)} 天，SHA-256 {e.source_sha256}）"
    ),
    HolidayNotice.Revised: lambda e, w, n: (
        f"{w} 更正{e.year}年节假日安排通知（放假 {len(e.holidays)} 天，"
        f"调休上班 {len(e.workdays)} 天，SHA-256 {e.previous_sha256[:12]} → {e.source_sha256}）"
    ),
    CalendarOverrides.Recorded: lambda e, w, n: f"{w} 记录配置的日历调整：{_overrides(e)}",
    CalendarOverrides.Changed: lambda e, w, n: f"{w} 修改配置的日历调整：{_overrides(e)}",
    ChatMessage.Queued: lambda e, w, n: (
        f"{w} 生成消息「{_titled(e.title, e.channel, n)}」，"
        f"发往{n.chat(e.channel)}，共 {len(e.parts)} 段"
    ),
    ChatMessage.AttemptRecorded: _attempt,
    ChatMessage.Delivered: lambda e, w, n: f"{w} 确认消息已送达",
    ChatMessage.Failed: lambda e, w, n: f"{w} 记录消息投递失败{_then(e.reason)}",
    Unit.Registered: lambda e, w, n: (
        f"{w} 登记单位 {e.name}（{n.chat(e.channel)}，联络员 "
        f"{_text([x.get('name') for x in e.liaisons])}）"
    ),
    Unit.ChannelChanged: lambda e, w, n: (
        f"{w} 更换单位群：{n.chat(e.previous)} → {n.chat(e.channel)}"
    ),
    Unit.LiaisonsChanged: lambda e, w, n: (
        f"{w} 更换联络员：{_text([x.get('name') for x in e.previous])} → "
        f"{_text([x.get('name') for x in e.liaisons])}"
    ),
    Official.Registered: lambda e, w, n: (
        f"{w} 登记领衔领导 {e.name}（{e.title}，{n.chat(e.channel)}）"
    ),
    Official.Changed: lambda e, w, n: (
        f"{w} 修改领衔领导信息："
        + "；".join(f"{_OFFICIAL_FIELDS.get(k, '其他')} {_short(v)}" for k, v in e.changes.items())
    ),
    ChannelRecord.Configured: lambda e, w, n: (
        f"{w} 配置{n.chat(e.name)}"
        f"（{PLATFORM_LABELS.get(str(e.settings.get('platform')), '其他平台')}）"
    ),
    ChannelRecord.Reconfigured: _reconfigured,
    Unit.Removed: lambda e, w, n: (
        f"{w} 将单位 {e.name} 移出名录（联络员 {_text([x.get('name') for x in e.liaisons])}）"
    ),
    Unit.Restored: lambda e, w, n: f"{w} 将单位 {e.name} 重新列入名录",
    Official.Removed: lambda e, w, n: f"{w} 将领衔领导 {e.name} 移出名录",
    Official.Restored: lambda e, w, n: f"{w} 将领衔领导 {e.name} 重新列入名录",
    PlanReview.Submitted: lambda e, w, n: f"{w} 报送改革方案 {e.plan_code}「{e.title}」前置初审",
    PlanReview.OpinionAdded: lambda e, w, n: f"{w} 提出初审意见：{e.text}",
    PlanReview.Approved: lambda e, w, n: f"{w} 初审通过{_then(e.reason)}",
    PlanReview.Returned: lambda e, w, n: f"{w} 初审退回{_then(e.reason)}",
    PlanReview.Resubmitted: lambda e, w, n: f"{w} 修改后重新报送方案「{e.title}」{_then(e.text)}",
    ReformTask.MilestoneClosed: lambda e, w, n: (
        f"{w} 确认阶段节点「{e.name}」完成"
        f"（{MILESTONE_VIA_LABELS.get(e.via, '确认')}）{_then(e.reason)}"
    ),
    DocumentSequence.Opened: lambda e, w, n: (
        f"{w} 启用{e.year}年{DOCUMENT_KINDS[e.kind].title}文号"
    ),
    DocumentSequence.Numbered: lambda e, w, n: f"{w} 印发{e.number}（{e.unit}）{_then(e.reason)}",
    AccessToken.Issued: _token,
    AccessToken.Revoked: lambda e, w, n: f"{w} 吊销访问令牌{_then(e.reason)}",
    Instruction.Issued: lambda e, w, n: _instruction(e, w),
    Instruction.Answered: lambda e, w, n: f"{w} 答复批示：{e.text}",
    AccountabilityMeasure.Recorded: lambda e, w, n: _measure(e, w),
}
_BY_TYPE = {k.__qualname__: t for k, t in _DESCRIBE.items()} | PEOPLE_TEXTS | INBOUND_TEXTS


def _field(key: str, value: Any) -> str:
    return _day(value) if key == "deadline" else _short(value)


def describe(event: Any, names: Names = _NO_NAMES) -> str:
    """What happened, in plain Chinese; unknown types generically but readably."""
    kind = type(event)
    return describe_record(kind.__qualname__, event.__dict__, names, _DESCRIBE.get(kind))


def describe_record(
    kind: str, data: Mapping[str, Any], names: Names = _NO_NAMES, known: _Describe | None = None
) -> str:
    """An event described from its type name and its fields (an event's ``__dict__`` or the
    stored JSON of an audit entry). A type without its own description: the event's label
    and the values of the fields a person can name (`FIELD_LABELS`); never a field's code."""
    w = who(data.get("actor")) + via_text(via_of(data))  # 「县财政局 李静（网页登录）」
    known = known or _BY_TYPE.get(kind)
    if known is not None:
        try:
            return known(SimpleNamespace(**data), w, names) + with_attachments(data.get("files"))
        except (AttributeError, KeyError, TypeError, ValueError):
            pass  # an older or newer shape of a known event: fall back to the generic text
    fields = {k: v for k, v in data.items() if k not in _META and k not in _HIDDEN}
    details = "；".join(
        f"{FIELD_LABELS[k]} {_short(v)}" if k in FIELD_LABELS else _short(v)
        for k, v in fields.items()
        if v not in (None, "", [], {}) and (k in FIELD_LABELS or _readable(v))
    )
    shown = event_label(kind)
    return f"{w} {shown if shown != '其他' else '其他事项'}" + (f"：{details}" if details else "")


_HIDDEN = SECRET_FIELDS | {"at", "via", "through"}  # the door: told after the person


def _readable(value: Any) -> bool:
    """A value a person can read as it is: not an identifier (no ASCII word of 3+ letters)."""
    return re.search(r"[A-Za-z]{3,}", _text(value)) is None


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
