"""The facts the reports and the assessment are made of: which events yield which facts.

A `Fact` is one row of the reports' view (``report_facts``, `projections.assessment`): a
completion on time or late (for the lead unit and each co-unit), a progress report, an
escalation, a recognition, a cancellation, an extension, a report-round step or a plan
pre-review (前置初审) step, with the notification id of the event behind it. Facts hold no
points: `projections.assessment_scores` weighs them when a score is asked for.

The fold dispatches on the aggregates' event classes (`ReformTask.CompletionAccepted`, …);
the view subscribes to their topics (`eventsourcing.utils.get_topic`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from eventsourcing.domain import DomainEvent
from eventsourcing.utils import get_topic

from domain.dates import chinese_date
from domain.plan_review import PlanReview
from domain.report_round import ReportRound
from domain.task import ReformTask
from projections.board import Facts

__all__ = [
    "PLAN_TOPICS",
    "ROUND_TOPICS",
    "Fact",
    "event_day",
    "event_type",
    "is_plan_event",
    "is_round_event",
    "month_of",
    "plan_fact",
    "reporting_co_unit",
    "round_fact",
    "task_facts",
    "written_day",
]


def written_day(day: dt.date | str) -> str:
    """「2024年9月30日」: a day in a note a person reads (facts keep the ISO day beside it)."""
    return chinese_date(day if isinstance(day, dt.date) else dt.date.fromisoformat(day[:10]))


def month_of(day: dt.date | str) -> str:
    return (day.isoformat() if isinstance(day, dt.date) else day)[:7]


def event_day(event: Any) -> dt.date:
    """The office day of an event, as recorded (the same reading as the as-of board)."""
    moment: dt.datetime = event.at
    return moment.date()


def event_type(event: Any) -> str:
    """How a fact names the event behind it: ``ReformTask.ProgressReported``."""
    return type(event).__qualname__


@dataclass(frozen=True)
class Fact:
    """One row of ``report_facts``."""

    position: int  # notification id of the event behind it
    day: str
    kind: str
    unit: str
    task_code: str
    event_type: str
    detail: Mapping[str, Any]


# ---- task events -----------------------------------------------------------------------------

# (kind, unit, detail) for each fact an event yields, given the task's facts after it.
TaskFacts = list[tuple[str, str, dict[str, Any]]]
FactMaker = Callable[[Facts, Any], TaskFacts]


def _lead(kind: str, detail: Callable[[Any], dict[str, Any]]) -> FactMaker:
    return lambda facts, e: [(kind, facts["lead_unit"], detail(e))]


def _completion(facts: Facts, e: Any) -> TaskFacts:
    when = "on_time" if e.on_time else "late"
    detail = {"deadline": facts["deadline"]}
    rows = [(f"lead_{when}", facts["lead_unit"], detail)]
    rows += [(f"co_{when}", unit, detail) for unit in dict.fromkeys(facts["co_units"])]
    return rows


def _escalation(facts: Facts, e: Any) -> TaskFacts:
    return [(f"escalation_{e.rung}", facts["lead_unit"], {"rung": e.rung, "due": str(e.due)})]


def _recognition(facts: Facts, e: Any) -> TaskFacts:
    detail = {"kind": e.kind, "level": e.level, "title": e.title}
    return [(f"recognition_{e.level}", facts["lead_unit"], detail)]


def reporting_co_unit(facts: Facts, actor: str) -> str | None:
    """The co-unit whose liaison `actor` is, if it is one of the task's co-units (and not its
    lead unit); None for the lead unit, the office or an official."""
    role, _, rest = actor.partition(":")
    unit = rest.partition("/")[0]
    if role != "liaison" or unit == facts["lead_unit"] or unit not in facts["co_units"]:
        return None
    return unit


def _progress(facts: Facts, e: Any) -> TaskFacts:
    """A progress report: the lead unit's ("progress", what the monthly rounds count; its text
    is the 台账's 进展情况), or a co-unit's contribution ("co_progress", unit = that co-unit:
    what earns its credit)."""
    co_unit = reporting_co_unit(facts, e.actor)
    if co_unit is not None:
        return [("co_progress", co_unit, {"percent": e.percent})]
    return [("progress", facts["lead_unit"], {"percent": e.percent, "text": e.text})]


def _extension(facts: Facts, e: Any) -> TaskFacts:
    previous = getattr(e, "previous_deadline", None)
    detail = {"to": str(e.new_deadline), "from": str(previous) if previous else None}
    return [("extension_granted", facts["lead_unit"], detail)]


_TASK_FACTS: dict[type[DomainEvent], FactMaker] = {
    ReformTask.ProgressReported: _progress,
    ReformTask.ExtensionGranted: _extension,
    ReformTask.CompletionAccepted: _completion,
    ReformTask.Cancelled: _lead("cancelled", lambda e: {"reason": e.reason}),
    ReformTask.EscalationRecorded: _escalation,
    ReformTask.Recognised: _recognition,
}


def task_facts(facts: Facts, event: Any) -> TaskFacts:
    """The facts a task's event yields (most yield none), from the task's facts after it."""
    maker = _TASK_FACTS.get(type(event))
    return [] if maker is None else maker(facts, event)


# ---- plan pre-review and report rounds -------------------------------------------------------

_PLAN_KINDS: dict[type[DomainEvent], str] = {
    PlanReview.Submitted: "plan_submitted",
    PlanReview.OpinionAdded: "plan_in_review",
    PlanReview.Approved: "plan_approved",
    PlanReview.Returned: "plan_returned",
    PlanReview.Resubmitted: "plan_submitted",  # a returned plan's next version
}
_ROUND_KINDS: dict[type[DomainEvent], str] = {
    ReportRound.Opened: "round_opened",
    ReportRound.ReportLate: "report_late",
    ReportRound.ReportMissing: "report_missing",
    ReportRound.Closed: "round_closed",
}
PLAN_TOPICS = tuple(get_topic(cls) for cls in _PLAN_KINDS)
ROUND_TOPICS = tuple(get_topic(cls) for cls in _ROUND_KINDS)


def is_plan_event(event: Any) -> bool:
    return type(event) in _PLAN_KINDS


def is_round_event(event: Any) -> bool:
    return type(event) in _ROUND_KINDS


def plan_fact(position: int, e: Any, plans: dict[str, Facts]) -> Fact:
    """The fact of a plan pre-review step; `plans` keeps each plan's code, unit and title."""
    kind = _PLAN_KINDS[type(e)]
    plan = plans.setdefault(str(e.originator_id), {})
    if kind == "plan_submitted" and "plan_code" in e.__dict__:  # not a resubmission
        plan.update(plan_code=e.plan_code, unit=e.unit, task_code=e.task_code or "")
    plan["title"] = getattr(e, "title", plan.get("title", ""))
    detail = {"plan": str(e.originator_id), "title": plan.get("title", "")}
    return Fact(
        position,
        event_day(e).isoformat(),
        kind,
        plan.get("unit", ""),
        plan.get("plan_code", ""),
        event_type(e),
        detail,
    )


def round_fact(position: int, e: Any) -> Fact:
    """The fact of a report round's step: opened (with what it expects), a late or missing
    report (naming its unit and task), closed."""
    kind = _ROUND_KINDS[type(e)]
    day = event_day(e).isoformat()
    detail: dict[str, Any] = {"round": str(e.originator_id)}
    if kind == "round_opened":
        opened_on = getattr(e, "opened_on", None)
        detail.update(
            month=e.month,
            due=str(e.due_date),
            opened_on=str(opened_on) if opened_on else day,
            expected={unit: list(codes) for unit, codes in e.expected.items()},
        )
    if kind in ("round_opened", "round_closed"):
        return Fact(position, day, kind, "", "", event_type(e), detail)
    return Fact(position, day, kind, e.unit, e.task_code, event_type(e), detail)
