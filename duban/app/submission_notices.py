"""What the units do, told to the office's chat (issue 15): the office hears of a step the
moment it is taken, not only when it opens the 工作台.

Told, each as a one-task message with the link to the task's page (`[web] public_url`):
- requests waiting for the office's decision (`[office] tell_requests`, on by default): an
  extension asked for (the deadline, the date asked for, the reason: 「请审批」) and a completion
  submitted (the summary: 「请审核」);
- receipts (`[office] tell_receipts`, off by default: thirty-odd tasks reported monthly would
  be noise for some offices): a claim (签收) and a progress report (the percent, the text).

Each names the unit and the liaison who acted (or the leading official) and the files they
attached. A step the office took itself (recorded on a unit's behalf) or the system took is not
told: the office knows it. The message key is the event's identity and the office's chat, so
the step is queued once whichever run gets there first. The task is read as it stood when the
step was taken (its version), so a later decision cannot change what the message says.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import structlog
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import DomainEvent

from domain.calendar import WorkingCalendar
from domain.task import ReformTask
from domain.task_rules import co_unit_report
from domain.vocabulary import ACTION_LABELS, ROLE_LABELS
from duban.app.notice_parts import Notice, day_text, link_text, text
from duban.settings.config import Config

__all__ = [
    "RECEIPT_EVENTS",
    "REQUEST_EVENTS",
    "SUBMISSION_KIND",
    "TaskAt",
    "submission_events",
    "submission_notices",
]

log = structlog.get_logger(__name__)

SUBMISSION_KIND = "submission_notice"  # 签收、报送进展、申请延期、提交销号, told to the office
MAX_QUOTED = 300  # characters of a typed text the message quotes (the page has it all)

TaskAt = Callable[[UUID, int], Any]
"""The task as it stood at a version (`Repository.get(id, version=…)`)."""


@dataclass(frozen=True)
class Actor:
    """Who took the step, as the office names them: 「县发展和改革局（张伟）」."""

    unit: str | None  # a liaison's unit
    shown: str


def actor_of(actor: str) -> Actor | None:
    """The liaison or leading official who acted; None for the office and the system."""
    role, _, rest = str(actor).partition(":")
    if role == "liaison":
        unit, _, name = rest.rpartition("/")
        return Actor(unit, f"**{text(unit)}**（{text(name)}）" if name else f"**{text(unit)}**")
    if role == "official":
        return Actor(None, f"{ROLE_LABELS['official']}**{text(rest)}**")
    return None


def _quoted(value: object) -> str:
    """A typed text as the message quotes it: masked and escaped, cut at `MAX_QUOTED`."""
    raw = " ".join(str(value).split())
    if not raw:
        return "无"
    return text(raw if len(raw) <= MAX_QUOTED else raw[:MAX_QUOTED] + "…")


def _attachments(event: Any) -> str:
    """「附件：2个（推进会纪要.pdf、现场照片.png）」, the links 「佐证链接：1个」; "" for none."""
    names = [text(f.get("name", "附件")) for f in getattr(event, "files", None) or ()]
    links = list(getattr(event, "evidence", None) or ())
    parts = [f"附件：{len(names)}个（{'、'.join(names)}）"] if names else []
    parts += [f"佐证链接：{len(links)}个"] if links else []
    return "；".join(parts)


def _head(task: Any) -> str:
    return f"**{text(task.code)}** {text(task.title)}"


def _claimed(e: Any, task: Any, who: Actor) -> tuple[str, tuple[str, ...]]:
    due = day_text(task.deadline) if task.deadline else text(task.deadline_text or "持续推进")
    return "任务签收", (f"{who.shown}已签收：{_head(task)}", f"完成时限：{due}")


def _reported(e: Any, task: Any, who: Actor) -> tuple[str, tuple[str, ...]]:
    helper = who.unit is not None and co_unit_report(e.actor, task.lead_unit, task.co_units)
    what = "报送配合进展" if helper else "报送进展"
    return "进展报送", (
        f"{who.shown}{what}：{_head(task)}，完成进度 **{int(e.percent)}%**",
        f"进展情况：{_quoted(e.text)}",
        _attachments(e),
    )


def _extension(e: Any, task: Any, who: Actor) -> tuple[str, tuple[str, ...]]:
    return "延期申请", (
        f"{who.shown}申请延期：{_head(task)}",
        f"原完成时限：{day_text(task.deadline)}，申请延至：**{day_text(e.new_deadline)}**",
        f"理由：{_quoted(e.reason)}",
        _attachments(e),
        "请在工作台审批。",
    )


def _completion(e: Any, task: Any, who: Actor) -> tuple[str, tuple[str, ...]]:
    return "销号申请", (
        f"{who.shown}提交销号申请：{_head(task)}",
        f"完成情况：{_quoted(e.summary)}",
        _attachments(e),
        "请在工作台审核。",
    )


Told = Callable[[Any, Any, Actor], tuple[str, tuple[str, ...]]]

REQUEST_EVENTS: Mapping[type[DomainEvent], Told] = {
    ReformTask.ExtensionRequested: _extension,
    ReformTask.CompletionSubmitted: _completion,
}
"""Requests the office decides (`[office] tell_requests`)."""

RECEIPT_EVENTS: Mapping[type[DomainEvent], Told] = {
    ReformTask.Claimed: _claimed,
    ReformTask.ProgressReported: _reported,
}
"""Steps the office only takes note of (`[office] tell_receipts`)."""


def _told(config: Config) -> dict[type[DomainEvent], Told]:
    office = config.office
    return {
        **(REQUEST_EVENTS if office.tell_requests else {}),
        **(RECEIPT_EVENTS if office.tell_receipts else {}),
    }


def submission_events(config: Config) -> tuple[type[DomainEvent], ...]:
    """The event types the config has the office told of (none: nothing to read)."""
    return tuple(_told(config))


def submission_notices(
    events: Sequence[Any], task_at: TaskAt, config: Config, calendar: WorkingCalendar
) -> list[Notice]:
    """One message to the office's chat per unit step the config tells of."""
    told = _told(config)
    notices: list[Notice] = []
    for event in events:
        say, who = told.get(type(event)), actor_of(event.actor)
        if say is None or who is None:
            continue
        try:
            task = task_at(event.originator_id, event.originator_version)
        except AggregateNotFoundError:
            log.warning("submission_without_task", event=type(event).__qualname__)
            continue
        notices.append(_notice(event, task, say(event, task, who), config, calendar))
    return notices


def _notice(
    event: Any,
    task: Any,
    said: tuple[str, tuple[str, ...]],
    config: Config,
    calendar: WorkingCalendar,
) -> Notice:
    heading, lines = said
    channel = config.office.channel
    local = event.at.astimezone(calendar.tz)
    link = link_text(config.web.public_url, task.code)
    stamp = f"（{ACTION_LABELS[_ACTION[type(event)]]}时间：{local:%Y-%m-%d %H:%M}）"
    return Notice(
        key=f"notice|{event.originator_id}|{event.originator_version}|{channel}",
        channel=channel,
        kind=SUBMISSION_KIND,
        title=f"{heading}｜{text(task.code)}",
        body="\n\n".join([*(line for line in (*lines, link) if line), stamp]),
        mention_mobiles=(),
        task_codes=(task.code,),
    )


_ACTION: Mapping[type[DomainEvent], str] = {
    ReformTask.Claimed: "claim",
    ReformTask.ProgressReported: "report",
    ReformTask.ExtensionRequested: "request_extension",
    ReformTask.CompletionSubmitted: "submit",
}
