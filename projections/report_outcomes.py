"""月度报送: every task's outcome in a month's report round, read from the reports' view.

The round rule is `domain.report_round`'s, the one the rounds themselves
(`duban.app.monthly_rounds`) follow: the round is dated the month's first working day and due
`due_working_days` working days after it (`round_due_date`); a report in the month by the due
date is on time, later in the month late (`report_timing`). Outcomes are counted:

* when a ``ReportRound`` was opened for the month, from the round alone: its ``ReportLate``
  and ``ReportMissing`` events are the late and missing outcomes (linked to those events);
  every other task it expected is on time when reported by the due date (linked to the
  report), otherwise "pending" while the round is open; once it is closed, such a task owed
  nothing (it was completed or cancelled: the round judged it so) and is not listed;
* otherwise derived from the timing of the progress reports: a task assigned by the due date
  and not closed by then owes one report: by the due date on time, later in the month late,
  none in the month missing once the month's last day is included. A derived "missing"
  point links to the task's ``Assigned`` event, the obligation behind it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from domain.calendar import WorkingCalendar
from domain.report_round import ReportRound, month_bounds, report_timing, round_due_date
from domain.task import ReformTask
from projections.assessment import ReportStore, RoundInfo, RoundTask
from projections.report_facts import Fact

__all__ = ["SCORED_OUTCOMES", "round_outcomes", "scored_round_outcomes"]

SCORED_OUTCOMES = ("report_late", "report_missing")
_REPORTED = ReformTask.ProgressReported.__qualname__
_ASSIGNED = ReformTask.Assigned.__qualname__
_OPENED = ReportRound.Opened.__qualname__


@dataclass
class _RoundInputs:
    """What the outcomes of some months' rounds are computed from, each read once."""

    rounds: dict[str, RoundInfo]
    tasks: dict[str, list[RoundTask]]
    first: dict[tuple[str, str], tuple[str, int]]  # (code, month) → first report's day, position
    recorded: dict[str, list[Fact]]  # round id → its ReportLate / ReportMissing facts

    @classmethod
    def read(cls, store: ReportStore, first: str, last: str, as_of: dt.date) -> _RoundInputs:
        start, end = month_bounds(first)[0], min(month_bounds(last)[1], as_of)
        recorded: dict[str, list[Fact]] = {}
        for f in store.facts(start, as_of, list(SCORED_OUTCOMES)):
            recorded.setdefault(str(f.detail["round"]), []).append(f)
        return cls(
            store.rounds(as_of),
            store.round_tasks(first, last),
            store.first_reports(start, end),
            recorded,
        )

    def timing(self, code: str, month: str, due: dt.date) -> tuple[str | None, tuple[str, int]]:
        """How the task's first report of `month` counts for the round due on `due`: "on_time",
        "late" or None (no report in the month), with that report's day and position."""
        report = self.first.get((code, month))
        if report is None:
            return None, ("", 0)
        return report_timing(month, due, dt.date.fromisoformat(report[0])), report


def round_outcomes(
    store: ReportStore,
    month: str,
    as_of: dt.date,
    calendar: WorkingCalendar,
    due_working_days: int,
) -> list[Fact]:
    """Every task's outcome in `month`'s round with the facts of days up to `as_of` (which may
    be after the month: a round is closed after it): kind on_time | report_late |
    report_missing | pending, unit = the lead unit, linked to the event behind it."""
    if as_of < month_bounds(month)[0]:
        return []
    inputs = _RoundInputs.read(store, month, month, as_of)
    return _outcomes(inputs, month, as_of, calendar, due_working_days)


def scored_round_outcomes(
    store: ReportStore,
    first: str,
    last: str,
    as_of: dt.date,
    calendar: WorkingCalendar,
    due_working_days: int,
) -> list[Fact]:
    """The late and missing reports (the outcomes that score) of the rounds of the months
    `first`..`last` (YYYY-MM), judged with the facts of days up to `as_of`."""
    inputs = _RoundInputs.read(store, first, last, as_of)
    return [
        f
        for month in inputs.tasks
        for f in _outcomes(inputs, month, as_of, calendar, due_working_days)
        if f.kind in SCORED_OUTCOMES
    ]


def _outcomes(
    inputs: _RoundInputs,
    month: str,
    as_of: dt.date,
    calendar: WorkingCalendar,
    due_working_days: int,
) -> list[Fact]:
    info = inputs.rounds.get(month)
    if info is not None:
        return _recorded_outcomes(inputs, info, as_of)
    due = round_due_date(month, calendar, due_working_days)
    return [
        _derived_outcome(inputs, task, month, due, as_of)
        for task in inputs.tasks.get(month, [])
        if _owes_report(task, due)
    ]


def _owes_report(task: RoundTask, due: dt.date) -> bool:
    """Assigned by the due date and not closed by then (ISO days compare as dates)."""
    return task.assigned_day <= due.isoformat() and (
        task.closed_day is None or task.closed_day > due.isoformat()
    )


def _recorded_outcomes(inputs: _RoundInputs, info: RoundInfo, as_of: dt.date) -> list[Fact]:
    """The round's own ReportLate / ReportMissing facts; each other expected task on time
    when reported by the due date, else pending while the round is open (see the module doc)."""
    judged = inputs.recorded.get(info.round_id, [])
    named = {(f.unit, f.task_code) for f in judged}
    closed = info.closed_day is not None and info.closed_day <= as_of.isoformat()
    tasks = {t.code: t for t in inputs.tasks.get(info.month, [])}
    due, end = dt.date.fromisoformat(info.due), month_bounds(info.month)[1]
    detail = {"month": info.month, "due": info.due, "round": info.round_id}
    outcomes = list(judged)
    for unit, codes in info.expected.items():
        for code in codes:
            if (unit, code) in named:
                continue
            timing, (day, position) = inputs.timing(code, info.month, due)
            if timing == "on_time":
                outcomes.append(Fact(position, day, "on_time", unit, code, _REPORTED, detail))
                continue
            if closed or _closed_by(tasks.get(code), as_of):
                continue  # completed or cancelled without a report: owes nothing more
            day = min(as_of, end).isoformat()
            outcomes.append(Fact(info.position, day, "pending", unit, code, _OPENED, detail))
    return sorted(outcomes, key=lambda f: (f.task_code, f.unit))


def _closed_by(task: RoundTask | None, day: dt.date) -> bool:
    return task is not None and task.closed_day is not None and task.closed_day <= day.isoformat()


def _derived_outcome(
    inputs: _RoundInputs, task: RoundTask, month: str, due: dt.date, as_of: dt.date
) -> Fact:
    def outcome(kind: str, day: str, position: int, event_type: str) -> Fact:
        detail = {"month": month, "due": due.isoformat(), "derived": True}
        return Fact(position, day, kind, task.lead_unit, task.code, event_type, detail)

    timing, (day, position) = inputs.timing(task.code, month, due)
    if timing == "on_time":
        return outcome("on_time", day, position, _REPORTED)
    if timing == "late":
        return outcome("report_late", day, position, _REPORTED)
    end = month_bounds(month)[1]
    if as_of >= end:  # an as-of day includes the whole of that day
        return outcome("report_missing", end.isoformat(), task.assigned_position, _ASSIGNED)
    return outcome("pending", as_of.isoformat(), task.assigned_position, _ASSIGNED)
