"""The reports' view: the ``report_*`` tables beside the events, and the reads of them.

The view is caught up incrementally like the board (`runner.catch_up`); the reports
(`projections.reports` and the modules beside it) and the assessment
(`projections.assessment_scores`) read it and never replay the event history:

* ``report_facts`` — one row per scoring or reporting fact (`projections.report_facts`), with
  the notification id of the event behind it. A fact holds no points: the scoring rules are
  applied when a score is asked for, so a changed rule changes the scores without touching
  any event.
* ``report_tasks`` — the board's facts of each task now (the same fold, `board.apply_event`),
  and ``report_task_months`` — the facts as they stood at the end of each month in which the
  task changed: the monthly and quarterly tables read the state at a month's end from there.
  The few fields the report rounds need (code, lead unit, assignment and closing day, the
  ``Assigned`` position) are plain columns beside the JSON, so that scoring a year reads each
  of those rows once and decodes nothing.
* ``report_plans`` — each plan under pre-review (前置初审): its code, unit and title.

Besides the task, plan and round events, the view folds the 批示 and 问责 registers'
(`projections.report_register`): their facts need no table of their own.

The monthly report rounds' outcomes are worked out from these reads by
`projections.report_outcomes`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import Tracking

from domain.task import ReformTask
from projections.board import TASK_TOPICS, Facts, apply_event
from projections.report_facts import (
    PLAN_TOPICS,
    ROUND_TOPICS,
    Fact,
    event_day,
    event_type,
    is_plan_event,
    is_round_event,
    month_of,
    plan_fact,
    round_fact,
    task_facts,
)
from projections.report_register import REGISTER_TOPICS, is_register_event, register_fact
from projections.report_tables import (
    INSERT_FACT,
    UPSERT_MONTH,
    UPSERT_PLAN,
    UPSERT_TASK,
    MonthRow,
    dumps,
    month_row,
    open_view,
)
from projections.runner import Item
from projections.viewstore import Step, ViewRecorder

__all__ = [
    "ReportStore",
    "ReportsProjection",
    "RoundInfo",
    "RoundTask",
    "open_reports",
]

# ---- the projection --------------------------------------------------------------------------


class _Batch:
    """What one batch changes: task facts, month-end snapshots, new facts, plans."""

    def __init__(self) -> None:
        self.tasks: set[str] = set()
        self.months: dict[tuple[str, str], MonthRow] = {}
        self.last_month: dict[str, str] = {}
        self.facts: list[Fact] = []
        self.plans: set[str] = set()

    def before(self, task_id: str, month: str, facts: Facts | None) -> None:
        """Keep the month-end snapshot of the month a task leaves inside this batch."""
        previous = self.last_month.get(task_id)
        if previous is not None and previous != month and facts is not None:
            self.months[(task_id, previous)] = month_row(facts)
        self.last_month[task_id] = month


class ReportsProjection:
    """The reports' view (see the module docstring): task, plan and round events."""

    name = "reports"
    decode = True
    topics: Sequence[str] = (*TASK_TOPICS, *PLAN_TOPICS, *ROUND_TOPICS, *REGISTER_TOPICS)

    def __init__(self, view: ViewRecorder) -> None:
        self._view = view
        self._facts: dict[str, Facts] = {}
        self._plans: dict[str, Facts] = {}
        self._position: int | None = None

    @property
    def view(self) -> ViewRecorder:
        return self._view

    def reset(self) -> None:
        self._facts, self._plans, self._position = {}, {}, None

    def begin(self, position: int) -> None:
        if position != self._position:
            self.reset()
            self._position = position

    def process(self, batch: Sequence[Item], tracking: Tracking) -> None:
        self._load(batch)
        changes = _Batch()
        for notification, event in batch:
            self._apply(notification.id, event, changes)
        try:
            self._view.write(self._steps(changes), tracking)
        except BaseException:
            self.reset()
            raise
        self._position = tracking.notification_id

    def _apply(self, position: int, event: Any, changes: _Batch) -> None:
        if is_plan_event(event):
            changes.facts.append(plan_fact(position, event, self._plans))
            changes.plans.add(str(event.originator_id))
        elif is_round_event(event):
            changes.facts.append(round_fact(position, event))
        elif is_register_event(event):
            changes.facts.append(register_fact(position, event))
        else:
            self._apply_task(position, event, changes)

    def _apply_task(self, position: int, event: Any, changes: _Batch) -> None:
        task_id = str(event.originator_id)
        day = event_day(event)
        changes.before(task_id, month_of(day), self._facts.get(task_id))
        if apply_event(self._facts, event) is None:
            return
        facts = self._facts[task_id]
        if isinstance(event, ReformTask.Assigned):
            facts["assigned_position"] = position
        changes.tasks.add(task_id)
        for kind, unit, detail in task_facts(facts, event):
            changes.facts.append(
                Fact(
                    position,
                    day.isoformat(),
                    kind,
                    unit,
                    facts["code"],
                    event_type(event),
                    detail,
                )
            )

    def _steps(self, changes: _Batch) -> list[Step]:
        for task_id in changes.tasks:
            changes.months[(task_id, changes.last_month[task_id])] = month_row(self._facts[task_id])
        tasks = [
            (t, self._facts[t]["code"], changes.months[(t, changes.last_month[t])][0])
            for t in changes.tasks
        ]
        months = [(t, m, *row) for (t, m), row in changes.months.items() if t in self._facts]
        facts = _numbered(changes.facts)
        plans = [(p, dumps(self._plans[p])) for p in changes.plans]
        return [
            (UPSERT_TASK, tasks),
            (UPSERT_MONTH, months),
            (INSERT_FACT, facts),
            (UPSERT_PLAN, plans),
        ]

    def _load(self, batch: Sequence[Item]) -> None:
        ids = {str(e.originator_id) for _, e in batch}
        self._load_rows("report_tasks", "task_id", ids - self._facts.keys(), self._facts)
        self._load_rows("report_plans", "plan_id", ids - self._plans.keys(), self._plans)

    def _load_rows(self, table: str, key: str, wanted: set[str], into: dict[str, Facts]) -> None:
        query = f"SELECT {key} AS k, facts FROM {{p}}{table} WHERE {key} IN ({{in}})"  # noqa: S608
        for row in self._view.select_in(query, wanted):
            into[row["k"]] = json.loads(row["facts"])


def _numbered(facts: Iterable[Fact]) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    counts: dict[int, int] = {}
    for f in facts:
        n = counts[f.position] = counts.get(f.position, -1) + 1
        rows.append(
            (f.position, n, f.day, f.kind, f.unit, f.task_code, f.event_type, dumps(f.detail))
        )
    return rows


# ---- reads -----------------------------------------------------------------------------------

_TASKS_AT = (
    "SELECT m.facts AS facts FROM {p}report_task_months m JOIN (SELECT task_id, MAX(month) "
    "AS month FROM {p}report_task_months WHERE month <= ? GROUP BY task_id) x "
    "ON m.task_id = x.task_id AND m.month = x.month"
)
_ROUND_COLUMNS = "m.task_id, m.month, m.code, m.lead_unit, m.assigned_day, m.closed_day, " + (
    "m.assigned_position"
)
# The rows of months first..last, and each task's last row before `first` (its state then).
_ROUND_TASKS = (
    f"SELECT {_ROUND_COLUMNS} FROM {{p}}report_task_months m "  # noqa: S608
    "WHERE m.month >= ? AND m.month <= ? "
    f"UNION ALL SELECT {_ROUND_COLUMNS} FROM {{p}}report_task_months m "
    "JOIN (SELECT task_id, MAX(month) AS month FROM {p}report_task_months WHERE month < ? "
    "GROUP BY task_id) x ON m.task_id = x.task_id AND m.month = x.month"
)


@dataclass(frozen=True)
class RoundTask:
    """What the report rounds need of a task as it stood at a month's end."""

    code: str
    lead_unit: str
    assigned_day: str
    closed_day: str | None
    assigned_position: int


@dataclass(frozen=True)
class RoundInfo:
    """A ``ReportRound`` as the view knows it up to some day."""

    round_id: str
    month: str
    opened_on: str
    due: str
    expected: Mapping[str, Sequence[str]]
    position: int  # the Opened event
    closed_day: str | None


@dataclass
class ReportStore:
    """Reads of the reports' view; catch `projection` up first (`runner.catch_up`)."""

    projection: ReportsProjection

    def tasks_at_month_end(self, month: str) -> list[Facts]:
        """Every task's facts as they stood at the end of `month` (YYYY-MM), in code order."""
        rows = self.projection.view.select(_TASKS_AT, [month])
        return sorted((json.loads(r["facts"]) for r in rows), key=lambda f: f["code"])

    def round_tasks(self, first: str, last: str) -> dict[str, list[RoundTask]]:
        """Month → every task as it stood at that month's end, for the months `first`..`last`
        (YYYY-MM), in code order: one query, each row read once, nothing decoded."""
        months = _months(first, last)
        rows = self.projection.view.select(_ROUND_TASKS, [first, last, first])
        per_task: dict[str, list[tuple[str, RoundTask]]] = {}
        for r in rows:
            task = RoundTask(
                r["code"],
                r["lead_unit"],
                r["assigned_day"],
                r["closed_day"],
                int(r["assigned_position"]),
            )
            per_task.setdefault(r["task_id"], []).append((r["month"], task))
        result: dict[str, list[RoundTask]] = {m: [] for m in months}
        for snapshots in per_task.values():
            snapshots.sort(key=lambda s: s[0])
            i, current = 0, None
            for month in months:
                while i < len(snapshots) and snapshots[i][0] <= month:
                    current = snapshots[i][1]
                    i += 1
                if current is not None:
                    result[month].append(current)
        for tasks in result.values():
            tasks.sort(key=lambda t: t.code)
        return result

    def facts(self, start: dt.date, end: dt.date, kinds: Sequence[str] | None = None) -> list[Fact]:
        """The facts of days `start`..`end` (inclusive), in event order."""
        where = "day >= ? AND day <= ?"
        params: list[Any] = [start.isoformat(), end.isoformat()]
        if kinds is not None:
            where += f" AND kind IN ({', '.join('?' * len(kinds))})"
            params += list(kinds)
        query = (
            "SELECT position, day, kind, unit, task_code, event_type, detail "  # noqa: S608
            f"FROM {{p}}report_facts WHERE {where} ORDER BY position, n"
        )
        return [_fact(r) for r in self.projection.view.select(query, params)]

    def first_reports(self, start: dt.date, end: dt.date) -> dict[tuple[str, str], tuple[str, int]]:
        """(task code, month) → (day of the first progress report, a report's position)."""
        query = (
            "SELECT task_code, substr(day, 1, 7) AS month, MIN(day) AS first_day, "
            "MIN(position) AS position FROM {p}report_facts WHERE kind = 'progress' "
            "AND day >= ? AND day <= ? GROUP BY task_code, substr(day, 1, 7)"
        )
        rows = self.projection.view.select(query, [start.isoformat(), end.isoformat()])
        return {(r["task_code"], r["month"]): (r["first_day"], int(r["position"])) for r in rows}

    def rounds(self, until: dt.date) -> dict[str, RoundInfo]:
        """Month → the ReportRound opened for it up to `until` (closed by then or not)."""
        found = self.facts(dt.date.min, until, ["round_opened", "round_closed"])
        closed = {str(f.detail["round"]): f.day for f in found if f.kind == "round_closed"}
        rounds: dict[str, RoundInfo] = {}
        for f in found:
            if f.kind == "round_opened":
                rid, month = str(f.detail["round"]), str(f.detail["month"])
                rounds[month] = RoundInfo(
                    rid,
                    month,
                    str(f.detail.get("opened_on", f.day)),
                    str(f.detail["due"]),
                    f.detail.get("expected", {}),
                    f.position,
                    closed.get(rid),
                )
        return rounds


def _months(first: str, last: str) -> list[str]:
    months, day = [], dt.date.fromisoformat(f"{first}-01")
    while month_of(day) <= last:
        months.append(month_of(day))
        day = (day + dt.timedelta(days=32)).replace(day=1)
    return months


def _fact(row: Mapping[str, Any]) -> Fact:
    return Fact(
        int(row["position"]),
        row["day"],
        row["kind"],
        row["unit"],
        row["task_code"],
        row["event_type"],
        json.loads(row["detail"]),
    )


def open_reports(datastore: object) -> ReportStore:
    """The reports' view in the store behind `datastore` (an application's
    `recorder.datastore`), its tables created if new, dropped and made anew (to be rebuilt
    by the next catch-up) if another version of this module wrote them."""
    return ReportStore(ReportsProjection(open_view(datastore)))
