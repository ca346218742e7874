"""The one vocabulary: the Chinese label of every code a person may read.

Statuses, rungs, lights, event types, roles, audiences, platforms, recognition levels, plan
states, 问责 kinds and calendar sources each have their table here; messages, board, reports,
CLI and API errors take their words from it. ``label(kind, code)`` never returns the code for a
known kind: an unknown code is shown as 「其他」 (and logged by the caller if it matters), so no
identifier reaches a reader. Identifiers stay in ``--format json`` and in the events.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from domain.accountability import KIND_LABELS as MEASURE_LABELS
from domain.calendar import SOURCE_LABELS as _CALENDAR_SOURCES
from domain.dates import chinese_date
from domain.plan_review import STATUS_LABELS as _PLAN_STATUS
from domain.rungs import DIGEST_HEADLINES, RUNG_LABELS
from domain.task_rules import STATUS_LABELS as _TASK_STATUS

__all__ = [
    "ACTION_LABELS",
    "AUDIENCE_LABELS",
    "CALENDAR_SOURCE_LABELS",
    "DIGEST_HEADLINES",
    "EVENT_LABELS",
    "FIELD_LABELS",
    "LIGHT_LABELS",
    "MEASURE_LABELS",
    "MILESTONE_VIA_LABELS",
    "PERSON_STATE_LABELS",
    "PLAN_STATUS_LABELS",
    "PLATFORM_LABELS",
    "RECOGNITION_KIND_LABELS",
    "RECOGNITION_LABELS",
    "ROLE_LABELS",
    "RUNG_LABELS",
    "SESSION_STATE_LABELS",
    "SIGNIN_HOW_LABELS",
    "SYSTEM_ACTOR_LABELS",
    "TARGET_LABELS",
    "TASK_STATUS_LABELS",
    "UNKNOWN",
    "VOCABULARY",
    "actor_text",
    "date_text",
    "event_label",
    "field_label",
    "label",
    "moment_text",
]

UNKNOWN: Final = "其他"

CALENDAR_SOURCE_LABELS: Mapping[str, str] = MappingProxyType(dict(_CALENDAR_SOURCES))

TASK_STATUS_LABELS: Mapping[str, str] = MappingProxyType(
    {str(code): text for code, text in _TASK_STATUS.items()}
)
PLAN_STATUS_LABELS: Mapping[str, str] = MappingProxyType(
    {str(code): text for code, text in _PLAN_STATUS.items()}
)

LIGHT_LABELS: Mapping[str, str] = MappingProxyType(
    {"green": "绿灯", "yellow": "黄灯", "red": "红灯", "closed": "已办结"}
)

ROLE_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "office": "县委改革办",
        "liaison": "单位联络员",
        "official": "领衔领导",
        "auditor": "审计人员",
        "system": "系统",
    }
)

# The processes that act as `system:<name>` (the audit trail's 「系统（消息投递）」).
SYSTEM_ACTOR_LABELS: Mapping[str, str] = MappingProxyType(
    {"duban": "督办提醒", "delivery": "消息投递", "preview": "预演", "scheduler": "定时任务"}
)

# What a reminder is about (`Reminder.target`: "deadline" or "milestone:<name>").
TARGET_LABELS: Mapping[str, str] = MappingProxyType(
    {"deadline": "完成时限", "milestone": "阶段节点", "claim": "签收", "report": "进展报送"}
)

AUDIENCE_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "lead_unit": "牵头单位",
        "co_units": "配合单位",
        "official": "领衔领导",
        "office": "县委改革办",
        "leaders": "县领导",
    }
)

PLATFORM_LABELS: Mapping[str, str] = MappingProxyType(
    {"wecom": "企业微信", "dingtalk": "钉钉", "feishu": "飞书", "console": "控制台"}
)

RECOGNITION_LABELS: Mapping[str, str] = MappingProxyType(
    {"national": "国家级", "provincial": "省级", "municipal": "市级", "county": "县级"}
)

RECOGNITION_KIND_LABELS: Mapping[str, str] = MappingProxyType(
    {"pilot": "改革试点", "exemplar": "改革典型"}
)

# How a 阶段节点 was confirmed reached (`ReformTask.MilestoneClosed.via`).
MILESTONE_VIA_LABELS: Mapping[str, str] = MappingProxyType(
    {"report": "进展报送", "office": "改革办确认", "plan": "方案初审通过"}
)

EVENT_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "ReformTask.Created": "建立任务",
        "ReformTask.Assigned": "交办",
        "ReformTask.Revised": "修改任务",
        "ReformTask.Claimed": "签收",
        "ReformTask.ProgressReported": "报送进展",
        "ReformTask.MilestoneClosed": "阶段节点完成",
        "ReformTask.ExtensionRequested": "申请延期",
        "ReformTask.ExtensionGranted": "同意延期",
        "ReformTask.ExtensionDenied": "不同意延期",
        "ReformTask.CompletionSubmitted": "提交销号",
        "ReformTask.CompletionAccepted": "销号",
        "ReformTask.CompletionReturned": "退回销号申请",
        "ReformTask.Cancelled": "撤销任务",
        "ReformTask.EscalationRecorded": "督办升级",
        "ReformTask.Recognised": "记录表彰推广",
        "Reminder.Created": "生成提醒",
        "Reminder.Issued": "发出提醒",
        "ChatMessage.Created": "生成消息",
        "ChatMessage.Queued": "消息待发",
        "ChatMessage.AttemptRecorded": "投递尝试",
        "ChatMessage.Delivered": "消息已送达",
        "ChatMessage.Failed": "消息发送失败",
        "Instruction.Created": "领导批示",
        "Instruction.Issued": "领导批示",
        "Instruction.Answered": "答复批示",
        "PlanReview.Created": "报送方案",
        "PlanReview.Submitted": "报送方案",
        "PlanReview.Resubmitted": "重新报送方案",
        "PlanReview.OpinionAdded": "提出审核意见",
        "PlanReview.Approved": "方案通过前置初审",
        "PlanReview.Returned": "退回方案",
        "AccountabilityMeasure.Created": "记录问责",
        "AccountabilityMeasure.Recorded": "记录问责",
        "DocumentSequence.Created": "建立文号序列",
        "DocumentSequence.Opened": "建立文号序列",
        "DocumentSequence.Numbered": "编发文号",
        "ReportRound.Created": "开启报送轮次",
        "ReportRound.Opened": "开启报送轮次",
        "ReportRound.Reminded": "提醒报送",
        "ReportRound.ReportLate": "逾期报送",
        "ReportRound.ReportMissing": "未报送",
        "ReportRound.Closed": "关闭报送轮次",
        "HolidayNotice.Created": "导入放假通知",
        "HolidayNotice.Recorded": "导入放假通知",
        "HolidayNotice.Revised": "修订放假安排",
        "CalendarOverrides.Created": "设置日历调整",
        "CalendarOverrides.Recorded": "设置日历调整",
        "CalendarOverrides.Changed": "修改日历调整",
        "AccessToken.Created": "签发令牌",
        "AccessToken.Issued": "签发令牌",
        "AccessToken.Revoked": "吊销令牌",
        "Unit.Created": "登记单位",
        "Unit.Registered": "登记单位",
        "Unit.ChannelChanged": "变更单位群",
        "Unit.LiaisonsChanged": "变更联络员",
        "Unit.Removed": "撤销单位",
        "Unit.Restored": "恢复单位",
        "Official.Created": "登记领导",
        "Official.Registered": "登记领导",
        "Official.Changed": "变更领导信息",
        "Official.Removed": "撤销领导",
        "Official.Restored": "恢复领导",
        "ChannelRecord.Created": "登记群机器人",
        "ChannelRecord.Configured": "登记群机器人",
        "ChannelRecord.Reconfigured": "变更群机器人",
        "Person.Added": "添加人员",
        "Person.PasswordSet": "设置登录密码",
        "Person.Disabled": "停用人员",
        "Invitation.Issued": "发出登录邀请",
        "Invitation.Redeemed": "使用登录邀请",
        "WebSession.Opened": "登录工作台",
        "WebSession.Revoked": "注销登录会话",
        "WebSecret.Made": "生成表单校验密钥",
    }
)

# Sign-in to the web workspace (issue 15): how a session was opened, a session's and a
# person's state as the office's lists show them.
SIGNIN_HOW_LABELS: Mapping[str, str] = MappingProxyType(
    {"invitation": "邀请链接", "password": "密码"}
)
SESSION_STATE_LABELS: Mapping[str, str] = MappingProxyType(
    {"live": "有效", "revoked": "已注销", "expired": "已过期"}
)
PERSON_STATE_LABELS: Mapping[str, str] = MappingProxyType({"active": "正常", "disabled": "已停用"})

ACTION_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "read": "查看",
        "read_details": "查看任务详情",
        "assign": "交办",
        "claim": "签收",
        "report": "报送进展",
        "request_extension": "申请延期",
        "decide_extension": "审批延期",
        "submit": "提交销号",
        "accept": "销号",
        "return": "退回",
        "cancel": "撤销",
        "recognise": "记录表彰推广",
        "escalate": "督办升级",
        "review_plan": "审核方案",
        "submit_plan": "报送方案",
        "close_milestone": "确认阶段节点完成",
        "instruct": "批示",
        "answer_instruction": "答复批示",
        "record_measure": "记录问责",
        "admin": "系统管理",
    }
)

# The fields of commands, imports and the config as a person names them: the names a
# validation error is told with (`duban.app.validation_messages.translate(errors, FIELD_LABELS)`).
FIELD_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "code": "任务编号",
        "title": "名称",
        "area": "领域",
        "lead_unit": "牵头单位",
        "co_units": "配合单位",
        "official": "领衔领导",
        "group": "专责小组",
        "deadline": "完成时限",
        "deadline_text": "时限表述",
        "milestones": "阶段节点",
        "milestone": "阶段节点",
        "notes": "备注",
        "text": "内容",
        "percent": "完成进度",
        "evidence": "佐证材料",
        "reason": "理由",
        "summary": "完成情况",
        "new_deadline": "新的完成时限",
        "kind": "类别",
        "level": "级别",
        "name": "名称",
        "due": "时限",
        "unit": "单位",
        "role": "角色",
        "answer_by": "答复期限",
        "document": "文号",
        "verdict": "审核结论",
        "answers": "答复的批示",
        "date": "日期",
        "year": "年度",
        "previous_deadline": "原完成时限",
        "on_time": "是否按期",
        "rung": "提醒类别",
        "target": "督办事项",
        "audience": "通知对象",
        "channels": "发送群",
        "channel": "发送群",
        "document_no": "文号",
        "number": "文号",
        "via": "确认方式",
        "on": "实施日期",
        "changes": "变更内容",
    }
)


def field_label(name: str) -> str:
    """A field's Chinese name (「其他」 never: an unknown field is shown as 「该项」)."""
    return FIELD_LABELS.get(name, "该项")


VOCABULARY: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "status": TASK_STATUS_LABELS,
        "plan_status": PLAN_STATUS_LABELS,
        "rung": RUNG_LABELS,
        "headline": DIGEST_HEADLINES,
        "light": LIGHT_LABELS,
        "role": ROLE_LABELS,
        "audience": AUDIENCE_LABELS,
        "platform": PLATFORM_LABELS,
        "recognition": RECOGNITION_LABELS,
        "recognition_kind": RECOGNITION_KIND_LABELS,
        "milestone_via": MILESTONE_VIA_LABELS,
        "event": EVENT_LABELS,
        "action": ACTION_LABELS,
        "measure": MEASURE_LABELS,
        "calendar_source": CALENDAR_SOURCE_LABELS,
        "system_actor": SYSTEM_ACTOR_LABELS,
        "target": TARGET_LABELS,
        "field": FIELD_LABELS,
        "signin_how": SIGNIN_HOW_LABELS,
        "session_state": SESSION_STATE_LABELS,
        "person_state": PERSON_STATE_LABELS,
    }
)


def label(kind: str, code: str) -> str:
    """The Chinese label of `code` in the table `kind` (「其他」 for a code the table lacks)."""
    return VOCABULARY[kind].get(str(code), UNKNOWN)


def event_label(topic: str) -> str:
    """An event's label from its type as stored (``ReformTask.Assigned``, or a full topic
    ``domain.task:ReformTask.Assigned``)."""
    name = topic.rsplit(":", 1)[-1]
    return EVENT_LABELS.get(name, UNKNOWN)


def date_text(value: object) -> str:
    """A day as a person reads it: 「2024年6月30日」 (a date, a datetime or an ISO string, as
    ``domain.dates.chinese_date`` writes it); 「无」 for none, any other value as it is."""
    if value is None or isinstance(value, dt.date | str):
        return chinese_date(value, missing="无")
    return str(value)


def moment_text(value: object) -> str:
    """A moment as a person reads it: 「2024年6月26日 10:00」 (in the zone it carries)."""
    moment = _as_moment(value)
    if not isinstance(moment, dt.datetime):
        return date_text(value)
    return f"{date_text(moment)} {moment:%H:%M}"


def _as_moment(value: object) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and value:
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
        return moment if "T" in value or " " in value else moment.date()
    return None


def actor_text(actor: str | None) -> str:
    """Who acted, as a person names them: 「县发展和改革局 张伟」「改革办」「系统（消息投递）」."""
    if not actor:
        return "（未记录）"
    role, _, rest = actor.partition(":")
    if role == "liaison":
        unit, _, name = rest.partition("/")
        return f"{unit} {name}".strip()
    if role == "system":
        return f"系统（{SYSTEM_ACTOR_LABELS.get(rest, '自动处理')}）" if rest else "系统"
    if role in ROLE_LABELS:
        return rest or ROLE_LABELS[role]
    return actor
