"""Decisions that reach the unit (PRODUCT.md rule 10): each decision event, one message to the
chat of the unit it concerns (and to the leading official's chat, where the task has one and
the config gives them a channel; a 批示 also to the chat of the official who wrote it).

Told: an extension granted (the new date) or denied (the reason), a completion accepted (销号)
or returned (the reason), a plan approved or returned in 前置初审, a 批示 (its text and answer
date) and a 问责 measure (约谈 / 通报批评 / 问责, the reason, the document number). Each
message's key is the event's own identity (aggregate, version) and the chat, so the decision
is queued once per chat whoever gets there first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import structlog
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import DomainEvent

from domain.accountability import KIND_LABELS, AccountabilityMeasure
from domain.calendar import WorkingCalendar
from domain.instruction import Instruction, instruction_ref
from domain.plan_review import PlanReview
from domain.task import ReformTask, task_id
from duban.app.notice_parts import DECISION_KIND, Notice, day_text, link_text, text
from duban.app.routing import Directory, Route, one_per_chat
from duban.settings.config import Config

__all__ = ["DECISION_EVENTS", "Decision", "Lookup", "decision_notices"]

log = structlog.get_logger(__name__)


class Lookup:
    """The aggregates a decision message names (a task, a plan), each loaded once per run."""

    def __init__(self, get: Callable[[UUID], Any]) -> None:
        self._get = get
        self._cache: dict[UUID, Any] = {}

    def aggregate(self, aggregate_id: UUID) -> Any:
        if aggregate_id not in self._cache:
            self._cache[aggregate_id] = self._get(aggregate_id)
        return self._cache[aggregate_id]

    def task(self, code: str) -> Any:
        return self.aggregate(task_id(code))


@dataclass(frozen=True)
class Decision:
    """What one decision says and whom it concerns (the officials in the order told)."""

    unit: str
    officials: tuple[str | None, ...]
    task_code: str | None
    title: str
    lines: tuple[str, ...]


def _reason(value: object) -> str:
    return text(value) if str(value).strip() else "无"


def _task_head(task: Any) -> str:
    return f"**{text(task.code)}** {text(task.title)}"


def _on_task(
    title: str, verdict: Callable[[Any, Any], str], said: str
) -> Callable[[Any, Lookup], Decision]:
    """A decision on a task (its event's aggregate), told to its lead unit and official:
    「任务 … 的<verdict>」 and the decision's reason under `said`."""

    def told(e: Any, look: Lookup) -> Decision:
        task = look.aggregate(e.originator_id)
        return Decision(
            task.lead_unit,
            (task.official,),
            task.code,
            f"{title}｜{text(task.code)}",
            (f"任务 {_task_head(task)} 的{verdict(e, task)}", f"{said}：{_reason(e.reason)}"),
        )

    return told


def _granted(e: Any, _task: Any) -> str:
    return (
        f"延期申请已批准，完成时限由{day_text(e.previous_deadline)}"
        f"调整为**{day_text(e.new_deadline)}**。"
    )


def _denied(_e: Any, task: Any) -> str:
    return f"延期申请未获批准，请按原时限（{day_text(task.deadline)}）抓紧推进。"


def _accepted(e: Any, _task: Any) -> str:
    timely = "按期完成" if e.on_time else "逾期完成"
    return f"办结申请已审核通过，予以销号（{timely}）。"


def _returned(_e: Any, _task: Any) -> str:
    return "办结申请已退回，请按意见补充完善后重新申请办结。"


def _plan(e: Any, look: Lookup, approved: bool) -> Decision:
    plan = look.aggregate(e.originator_id)
    task = look.task(plan.task_code) if plan.task_code else None
    head = f"方案 **{text(plan.plan_code)}**《{text(plan.title)}》"
    if task is not None:
        head += f"（任务 {_task_head(task)}）"
    if approved:
        title, verdict = "方案通过前置初审", "已通过前置初审。"
        said = f"审核意见：{_reason(e.reason)}"
    else:
        title, verdict = "方案退回修改", "未通过前置初审，已退回，请修改后重新报送。"
        said = f"退回理由：{_reason(e.reason)}"
    return Decision(
        plan.unit,
        (task.official if task is not None else None,),
        plan.task_code,
        f"{title}｜{text(plan.plan_code)}",
        (head + verdict, said),
    )


def _issuing_official(actor: str) -> str | None:
    role, _, name = str(actor).partition(":")
    return name if role == "official" and name else None


def _instruction(e: Any, look: Lookup) -> Decision:
    task = look.task(e.task_code)
    answer = f"请于**{day_text(e.answer_by)}**前报送落实情况。" if e.answer_by else ""
    number = f"（编号 {text(instruction_ref(e.task_code, e.number))}）" if e.number else ""
    return Decision(
        e.unit,
        (_issuing_official(e.actor), task.official),  # who wrote it, and who leads the task
        e.task_code,
        f"领导批示｜{text(e.task_code)}",
        (
            f"任务 {_task_head(task)} 收到领导批示{number}：",
            f"> {text(e.text)}",
            answer,
        ),
    )


def _measure(e: Any, look: Lookup) -> Decision:
    task = look.task(e.task_code)
    kind = KIND_LABELS.get(e.kind, text(e.kind))
    return Decision(
        e.unit,
        (task.official,),
        e.task_code,
        f"追责问责｜{text(e.unit)}｜{kind}",
        (
            f"就任务 {_task_head(task)}，对{text(e.unit)}予以**{kind}**。",
            f"事由：{_reason(e.reason)}",
            f"文号：{_reason(e.document_no)}",
        ),
    )


DECISION_EVENTS: dict[type[DomainEvent], Callable[[Any, Lookup], Decision]] = {
    ReformTask.ExtensionGranted: _on_task("延期申请已批准", _granted, "审批意见"),
    ReformTask.ExtensionDenied: _on_task("延期申请未获批准", _denied, "理由"),
    ReformTask.CompletionAccepted: _on_task("办结销号", _accepted, "审核意见"),
    ReformTask.CompletionReturned: _on_task("办结申请退回", _returned, "退回理由"),
    PlanReview.Approved: lambda e, look: _plan(e, look, approved=True),
    PlanReview.Returned: lambda e, look: _plan(e, look, approved=False),
    Instruction.Issued: _instruction,
    AccountabilityMeasure.Recorded: _measure,
}
"""Every decision told, with what it says."""


def decision_notices(
    events: Sequence[Any], lookup: Lookup, config: Config, calendar: WorkingCalendar
) -> list[Notice]:
    """One message per decision per chat told of it."""
    directory = Directory(config)
    office = text(config.office.name)
    notices: list[Notice] = []
    for event in events:
        try:
            decision = DECISION_EVENTS[type(event)](event, lookup)
        except AggregateNotFoundError:
            # A decision on a task or plan the store does not hold cannot name it: the office
            # recorded it, so nothing is lost by not telling; never block the other messages.
            log.warning("decision_without_aggregate", event=type(event).__qualname__)
            continue
        routes: list[Route | None] = [
            directory.unit_route(decision.unit, mention=True),
            *(directory.official_route(name, mention=False) for name in decision.officials),
        ]
        local = event.at.astimezone(calendar.tz)
        signed = f"（{office}，{local:%Y-%m-%d %H:%M}）"
        link = link_text(config.web.public_url, decision.task_code)
        body = "\n\n".join([*(line for line in (*decision.lines, link) if line), signed])
        for route in one_per_chat(r for r in routes if r is not None):
            notices.append(
                Notice(
                    key=f"notice|{event.originator_id}|{event.originator_version}|{route.channel}",
                    channel=route.channel,
                    kind=DECISION_KIND,
                    title=decision.title,
                    body=body,
                    mention_mobiles=route.mobiles,
                    task_codes=(decision.task_code,) if decision.task_code else (),
                )
            )
    return notices
