"""A chat command as a task command (`duban.app.task_commands`) and the answers in the group.

The mapping, with the same descriptions the API and the CLI carry commands out through:
签收 → CLAIM; 进展/报送 → REPORT; 节点完成 → REPORT naming the 阶段节点 (the lead unit closes one
by naming it in its report, at the task's present percent); 延期 → REQUEST_EXTENSION;
销号 → SUBMIT (the unit applies for 销号, the office decides). Every answer is zh-CN and short:
it is read on a phone in the group.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from domain.chat_commands import HELP_TEXT, ChatCommand
from domain.roles import Identity
from domain.task_rules import TaskStatus
from duban.app import task_commands as tc
from duban.app.validation_messages import has_chinese

__all__ = [
    "MINE_LIMIT",
    "STRANGER",
    "Planned",
    "help_answer",
    "invalid_answer",
    "mine_answer",
    "plan",
]

STRANGER = (
    "您的账号尚未在督办系统中登记，本条消息未办理。"
    "请联系县委改革办，在名录中登记您的账号（用户号）后再试。"
)
MINE_LIMIT = 10
_MISSING = {
    "text": "请写明进展情况",
    "reason": "请写明延期原因",
    "summary": "请写明完成情况",
    "new_deadline": "请写明延期后的日期",
}


@dataclass(frozen=True)
class Planned:
    """The task command a chat command is carried out as, with its validated body."""

    command: tc.TaskCommand[Any]
    body: BaseModel


def plan(chat: ChatCommand, percent_now: Callable[[], int]) -> Planned:
    """The task command for `chat` (kind claim/report/milestone/extend/complete); raises
    pydantic's `ValidationError` when what was written does not make a valid command."""
    if chat.kind == "claim":
        return Planned(tc.CLAIM, tc.CLAIM.parse())
    if chat.kind == "report":
        text = chat.text or f"进展{chat.percent}%"
        return Planned(tc.REPORT, tc.REPORT.parse(text=text, percent=chat.percent))
    if chat.kind == "milestone":
        text = f"阶段节点「{chat.milestone}」已完成" + (f"，{chat.text}" if chat.text else "")
        body = tc.REPORT.parse(text=text, percent=percent_now(), milestone=chat.milestone)
        return Planned(tc.REPORT, body)
    if chat.kind == "extend":
        extension = tc.REQUEST_EXTENSION.parse(new_deadline=chat.deadline, reason=chat.text)
        return Planned(tc.REQUEST_EXTENSION, extension)
    if chat.kind == "complete":
        return Planned(tc.SUBMIT, tc.SUBMIT.parse(summary=chat.text))
    raise ValueError(f"not a task command: {chat.kind}")


def invalid_answer(exc: ValidationError) -> str:
    """What is missing or wrong in the message, from the command's validation."""
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else ""
        if error["type"] in ("missing", "string_too_short", "none_required") and field in _MISSING:
            return _MISSING[field]
        if has_chinese(error["msg"]):
            return str(error["msg"])
        if field in _MISSING:
            return _MISSING[field]
    return "指令内容有误"


def help_answer(chat: ChatCommand) -> str:
    """The help text, after the problem when the message was not understood."""
    return f"{chat.problem}\n\n{HELP_TEXT}" if chat.problem else HELP_TEXT


def mine_answer(who: Identity, rows: Iterable[dict[str, Any]]) -> str:
    """The sender's open tasks, one short line each: code, name, deadline, percent."""
    open_rows = [r for r in rows if r.get("status") not in TaskStatus.CLOSED]
    if not open_rows:
        return f"{who.name}：目前没有待办的督办任务。"
    lines = [f"{who.name}的待办任务（{len(open_rows)}项）："]
    for row in open_rows[:MINE_LIMIT]:
        title = str(row.get("title") or "")
        title = title if len(title) <= 16 else title[:15] + "…"
        lines.append(
            f"{row['code']} {title}｜{_deadline(row.get('deadline'))}｜{row.get('percent', 0)}%"
        )
    if len(open_rows) > MINE_LIMIT:
        lines.append(f"……另有{len(open_rows) - MINE_LIMIT}项，请在督办系统中查看")
    return "\n".join(lines)


def _deadline(value: Any) -> str:
    if isinstance(value, str) and value:
        value = dt.date.fromisoformat(value[:10])
    if isinstance(value, dt.date):
        return f"{value.year}年{value.month}月{value.day}日前"
    return "持续推进"
