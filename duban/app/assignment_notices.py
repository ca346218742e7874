"""交办通知: the tasks just assigned, told to each unit chat once (PRODUCT.md rule 10).

The `ReformTask.Assigned` events of one assignment (an import stores them in one transaction,
all with the same `at` and actor; `task assign` stores one) become one message per unit chat,
listing the chat's new tasks as 牵头 (with the 签收 deadline: the assignment date plus
`claim_within_working_days` working days of the office calendar, default 3) or 配合 (a co-unit
reports from assignment on, it does not claim). A re-import that gives a task a new lead unit
or new co-units (`ReformTask.Revised`) is an assignment to those units: they are told the same
way, the units told before are not told again. The message key is derived from the chat and
the events it tells of, so the same assignment is never queued twice for a chat, whichever
process or run gets there first.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from domain.calendar import WorkingCalendar
from domain.ladder import claim_deadline
from duban.app.notice_parts import ASSIGNMENT_KIND, Notice, day_text, link_text, text
from duban.app.routing import Directory, Route
from duban.settings.config import Config

__all__ = [
    "Assignment",
    "assignment_notices",
    "assignment_of",
    "claim_days",
    "claim_deadline",
    "reassignment_of",
]


_UNIT_FIELDS = frozenset({"lead_unit", "co_units"})


def claim_days(config: Config) -> int:
    """`[ladder] claim_within_working_days` (default 3)."""
    return config.ladder.claim_within_working_days


@dataclass(frozen=True)
class Assignment:
    """A task as it is assigned, and the units newly told of it ((unit, is lead) pairs)."""

    event_id: str  # the event's aggregate and version: what the message key is made of
    actor: str
    at: dt.datetime
    code: str
    title: str
    lead_unit: str
    deadline: dt.date | None
    deadline_text: str
    units: tuple[tuple[str, bool], ...]


def _assignment(event: Any, task: Any, units: tuple[tuple[str, bool], ...]) -> Assignment:
    """The assignment `event` records, the task's facts read from `task` (the event itself,
    or the task as it stands after a revision)."""
    return Assignment(
        event_id=f"{event.originator_id}:{event.originator_version}",
        actor=event.actor,
        at=event.at,
        code=task.code,
        title=task.title,
        lead_unit=task.lead_unit,
        deadline=task.deadline,
        deadline_text=task.deadline_text,
        units=units,
    )


def assignment_of(event: Any) -> Assignment:
    """A `ReformTask.Assigned`: its lead unit and every co-unit."""
    units = ((event.lead_unit, True), *((u, False) for u in event.co_units))
    return _assignment(event, event, units)


def reassignment_of(event: Any, task_of: Callable[[UUID], Any]) -> Assignment | None:
    """A `ReformTask.Revised` that names a new lead unit or new co-units (the task as it stands
    now, loaded with `task_of` only then, gives the rest); None when no unit is new."""
    changes, previous = event.changes, event.previous
    if not _UNIT_FIELDS & set(changes):
        return None
    task = task_of(event.originator_id)
    lead_before = previous.get("lead_unit", task.lead_unit)
    before = {lead_before, *previous.get("co_units", task.co_units)}
    lead_now = changes.get("lead_unit", lead_before)
    units: list[tuple[str, bool]] = [(lead_now, True)] if "lead_unit" in changes else []
    units += [(u, False) for u in changes.get("co_units", ()) if u not in {*before, lead_now}]
    return _assignment(event, task, tuple(units)) if units else None


@dataclass(frozen=True)
class _Line:
    unit: str
    lead: bool
    task: Assignment


def assignment_notices(
    assignments: Sequence[Assignment], config: Config, calendar: WorkingCalendar
) -> list[Notice]:
    """One 交办通知 per unit chat per assignment (one import, one `task assign`)."""
    batches: dict[tuple[str, dt.datetime], list[Assignment]] = {}
    for assignment in assignments:
        batches.setdefault((assignment.actor, assignment.at), []).append(assignment)
    directory = Directory(config)
    days = claim_days(config)
    notices: list[Notice] = []
    for (_, at), batch in batches.items():
        per_chat: dict[str, list[_Line]] = {}
        routes: dict[str, dict[str, Route]] = {}
        for assignment in batch:
            for unit, lead in assignment.units:
                route = directory.unit_route(unit, mention=True)
                per_chat.setdefault(route.channel, []).append(_Line(unit, lead, assignment))
                routes.setdefault(route.channel, {}).setdefault(unit, route)
        deadline = claim_deadline(at, calendar, days)
        for channel, lines in sorted(per_chat.items()):
            notices.append(_notice(channel, lines, routes[channel], at, deadline, config, calendar))
    return notices


def _notice(
    channel: str,
    lines: list[_Line],
    routes: dict[str, Route],
    at: dt.datetime,
    deadline: dt.date,
    config: Config,
    calendar: WorkingCalendar,
) -> Notice:
    units = list(dict.fromkeys(line.unit for line in lines))
    local = at.astimezone(calendar.tz)
    office = text(config.office.name)
    title = f"交办通知｜{'、'.join(text(u) for u in units)}｜{local:%Y-%m-%d}"
    body = [
        f"{office}于{day_text(local.date())}交办以下改革任务，请牵头单位于"
        f"**{day_text(deadline)}**前在工作台签收，配合单位无需签收、可直接报送配合进展。"
    ]
    for unit in units:
        mine = [line for line in lines if line.unit == unit]
        for lead, label in ((True, "牵头"), (False, "配合")):
            chosen = [line.task for line in mine if line.lead is lead]
            if not chosen:
                continue
            names = routes[unit].names if lead else ()
            mentions = "".join(f" @{text(n)}" for n in names)
            body.append(f"\n#### {text(unit)}：{label}任务（{len(chosen)}项）{mentions}")
            body += [_item(e, lead, deadline, config.web.public_url) for e in chosen]
    leads = {line.unit for line in lines if line.lead}
    mobiles = tuple(dict.fromkeys(m for u in units if u in leads for m in routes[u].mobiles))
    codes = tuple(dict.fromkeys(line.task.code for line in lines))
    ids = "\n".join(sorted({line.task.event_id for line in lines}))
    digest = hashlib.sha256(ids.encode()).hexdigest()[:16]
    return Notice(
        key=f"notice|assign|{channel}|{digest}",
        channel=channel,
        kind=ASSIGNMENT_KIND,
        title=title,
        body="\n".join(body),
        mention_mobiles=mobiles,
        task_codes=codes,
    )


def _item(task: Assignment, lead: bool, deadline: dt.date, public_url: str | None) -> str:
    """One task's line; it ends with the link to the task's page where the office set one."""
    due = day_text(task.deadline) if task.deadline else text(task.deadline_text or "持续推进")
    head = f"- **{text(task.code)}** {text(task.title)}｜完成时限：{due}"
    if lead:
        line = f"{head}｜签收期限：{day_text(deadline)}"
    else:
        line = f"{head}｜牵头单位：{text(task.lead_unit)}"
    link = link_text(public_url, task.code)
    return f"{line}｜{link}" if link else line
