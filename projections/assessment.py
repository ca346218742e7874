"""年督考 and the reports' read model: scoring facts per unit, task facts per month.

The view (``report_*`` tables, beside the events) is caught up incrementally like the board
(`runner.catch_up`); reports read it and never replay the event history:

* ``report_facts`` — one row per scoring or reporting fact, with the notification id of the
  event behind it: completions (on time / late, for the lead and each co-unit), progress
  reports, escalations, recognitions, cancellations, extensions, report-round outcomes and
  the plan pre-review (前置初审) steps. A fact holds no points: the assessment rules of the
  config are applied when a score is asked for, so a changed rule changes the scores
  without touching any event.
* ``report_tasks`` — the board's facts of each task now (the same fold, `board.apply_event`),
  and ``report_task_months`` — the facts as they stood at the end of each month in which the
  task changed: the monthly and quarterly tables read the state at a month's end from there.
  The few fields the report rounds need (code, lead unit, assignment and closing day, the
  ``Assigned`` position) are plain columns beside the JSON, so that scoring a year reads each
  of those rows once and decodes nothing.

Monthly report rounds (月度报送轮次) are counted by `round_outcomes`, with the round rule of
`domain.report_round` (dated the month's first working day, due `due_working_days` working
days after it; a report in the month by the due date is on time, later in the month late):

* when a ``ReportRound`` was opened for the month, from the round alone: its ``ReportLate``
  and ``ReportMissing`` events are the late and missing outcomes (linked to those events);
  every other task it expected is on time when reported by the due date (linked to the
  report), otherwise "pending" while the round is open; once it is closed, such a task owed
  nothing (it was completed or cancelled: `duban.app.report_rounds` judged it so) and is not listed;
* otherwise derived from the timing of the progress reports: a task assigned by the due date
  and not closed by then owes one report: by the due date on time, later in the month late,
  none in the month missing once the month's last day is included. A derived "missing"
  point links to the task's ``Assigned`` event, the obligation behind it.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import Tracking

from domain.calendar import WorkingCalendar
from domain.report_round import month_bounds, round_due_date
from duban.settings.config import Assessment as AssessmentRules
from projections.board import TASK_TOPICS, Facts, apply_event
from projections.runner import Item
from projections.viewstore import Step, ViewRecorder, view_recorder

__all__ = [
    "KIND_LABELS",
    "PLAN_TOPICS",
    "ROUND_TOPICS",
    "Fact",
    "PointLine",
    "ReportStore",
    "ReportsProjection",
    "RoundInfo",
    "RoundTask",
    "UnitScore",
    "assess",
    "month_end",
    "month_of",
    "open_reports",
    "round_due_date",
    "round_outcomes",
    "year_facts",
]

PLAN_EVENTS = ("Submitted", "OpinionAdded", "Approved", "Returned", "Resubmitted")
PLAN_TOPICS = tuple(f"domain.plan_review:PlanReview.{name}" for name in PLAN_EVENTS)
ROUND_EVENTS = ("Opened", "ReportLate", "ReportMissing", "Closed")
ROUND_TOPICS = tuple(f"domain.report_round:ReportRound.{name}" for name in ROUND_EVENTS)

# Fact kind → the field of `config.Assessment` that weighs it (kinds not here score nothing).
RULE_OF_KIND = {
    "lead_on_time": "lead_on_time",
    "co_on_time": "co_on_time",
    "lead_late": "lead_late",
    "co_late": "co_late",
    "report_late": "report_late",
    "report_missing": "report_missing",
    "escalation_supervise": "supervise",
    "escalation_bulletin": "bulletin",
    "recognition_national": "recognition_national",
    "recognition_provincial": "recognition_provincial",
    "recognition_municipal": "recognition_municipal",
    "recognition_county": "recognition_county",
}
KIND_LABELS = {
    "lead_on_time": "牵头任务按期完成",
    "co_on_time": "配合任务按期完成",
    "lead_late": "牵头任务逾期完成",
    "co_late": "配合任务逾期完成",
    "report_late": "月度报送迟报",
    "report_missing": "月度报送漏报",
    "escalation_supervise": "督办",
    "escalation_bulletin": "通报",
    "recognition_national": "国家级试点/典型",
    "recognition_provincial": "省级试点/典型",
    "recognition_municipal": "市级试点/典型",
    "recognition_county": "县级试点/典型",
}


def month_of(day: dt.date | str) -> str:
    return (day.isoformat() if isinstance(day, dt.date) else day)[:7]


def _day(event: Any) -> dt.date:
    """The office day of an event, as recorded (the same reading as the as-of board)."""
    moment: dt.datetime = event.at
    return moment.date()


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


# ---- the fold: events → facts ----------------------------------------------------------------

FactMaker = Callable[[Facts, Any], list[tuple[str, str, dict[str, Any]]]]


def _lead(kind: str, detail: Callable[[Any], dict[str, Any]]) -> FactMaker:
    return lambda facts, e: [(kind, facts["lead_unit"], detail(e))]


def _completion(facts: Facts, e: Any) -> list[tuple[str, str, dict[str, Any]]]:
    when = "on_time" if e.on_time else "late"
    detail = {"deadline": facts["deadline"]}
    rows = [(f"lead_{when}", facts["lead_unit"], detail)]
    rows += [(f"co_{when}", unit, detail) for unit in dict.fromkeys(facts["co_units"])]
    return rows


def _escalation(facts: Facts, e: Any) -> list[tuple[str, str, dict[str, Any]]]:
    return [(f"escalation_{e.rung}", facts["lead_unit"], {"rung": e.rung, "due": str(e.due)})]


def _recognition(facts: Facts, e: Any) -> list[tuple[str, str, dict[str, Any]]]:
    detail = {"kind": e.kind, "level": e.level, "title": e.title}
    return [(f"recognition_{e.level}", facts["lead_unit"], detail)]


_TASK_FACTS: dict[str, FactMaker] = {
    "ReformTask.ProgressReported": _lead("progress", lambda e: {"percent": e.percent}),
    "ReformTask.ExtensionGranted": _lead(
        "extension_granted", lambda e: {"to": str(e.new_deadline)}
    ),
    "ReformTask.CompletionAccepted": _completion,
    "ReformTask.Cancelled": _lead("cancelled", lambda e: {"reason": e.reason}),
    "ReformTask.EscalationRecorded": _escalation,
    "ReformTask.Recognised": _recognition,
}
_PLAN_KINDS = {
    "PlanReview.Submitted": "plan_submitted",
    "PlanReview.OpinionAdded": "plan_in_review",
    "PlanReview.Approved": "plan_approved",
    "PlanReview.Returned": "plan_returned",
    "PlanReview.Resubmitted": "plan_submitted",
}
SCORED_OUTCOMES = ("report_late", "report_missing")
_ROUND_KINDS = {
    "ReportRound.Opened": "round_opened",
    "ReportRound.ReportLate": "report_late",
    "ReportRound.ReportMissing": "report_missing",
    "ReportRound.Closed": "round_closed",
}


def _plan_fact(position: int, e: Any, plans: dict[str, Facts]) -> Fact:
    kind = _PLAN_KINDS[type(e).__qualname__]
    plan = plans.setdefault(str(e.originator_id), {})
    if kind == "plan_submitted" and hasattr(e, "plan_code"):
        plan.update(plan_code=e.plan_code, unit=e.unit, task_code=e.task_code or "")
    plan["title"] = getattr(e, "title", plan.get("title", ""))
    detail = {"plan": str(e.originator_id), "title": plan.get("title", "")}
    return Fact(
        position,
        _day(e).isoformat(),
        kind,
        plan.get("unit", ""),
        plan.get("plan_code", ""),
        type(e).__qualname__,
        detail,
    )


def _round_fact(position: int, e: Any) -> Fact:
    kind = _ROUND_KINDS[type(e).__qualname__]
    detail: dict[str, Any] = {"round": str(e.originator_id)}
    if kind == "round_opened":
        opened_on = getattr(e, "opened_on", None)
        detail.update(
            month=e.month,
            due=str(e.due_date),
            opened_on=str(opened_on) if opened_on else _day(e).isoformat(),
            expected={unit: list(codes) for unit, codes in e.expected.items()},
        )
    if kind in ("round_opened", "round_closed"):
        return Fact(position, _day(e).isoformat(), kind, "", "", type(e).__qualname__, detail)
    return Fact(
        position, _day(e).isoformat(), kind, e.unit, e.task_code, type(e).__qualname__, detail
    )


# ---- the stored view -------------------------------------------------------------------------

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS {p}report_tasks "
    "(task_id TEXT PRIMARY KEY, code TEXT NOT NULL, facts TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS {p}report_task_months (task_id TEXT NOT NULL, "
    "month TEXT NOT NULL, facts TEXT NOT NULL, code TEXT NOT NULL, lead_unit TEXT NOT NULL, "
    "assigned_day TEXT NOT NULL, closed_day TEXT, assigned_position BIGINT NOT NULL, "
    "PRIMARY KEY (task_id, month))",
    "CREATE TABLE IF NOT EXISTS {p}report_facts (position BIGINT NOT NULL, n INTEGER NOT NULL, "
    "day TEXT NOT NULL, kind TEXT NOT NULL, unit TEXT NOT NULL, task_code TEXT NOT NULL, "
    "event_type TEXT NOT NULL, detail TEXT NOT NULL, PRIMARY KEY (position, n))",
    "CREATE INDEX IF NOT EXISTS {p}report_facts_kind_day ON {p}report_facts (kind, day)",
    "CREATE TABLE IF NOT EXISTS {p}report_plans (plan_id TEXT PRIMARY KEY, facts TEXT NOT NULL)",
)
TABLES = ("report_tasks", "report_task_months", "report_facts", "report_plans")
# The version of the tables above: a view written by another version is dropped and rebuilt
# from the events when opened (`open_reports`). Kept in ``report_meta``, which a rebuild
# leaves alone.
SCHEMA_VERSION = "2"
_META = "CREATE TABLE IF NOT EXISTS {p}report_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)"
_SET_META = (
    "INSERT INTO {p}report_meta (name, value) VALUES (?, ?) "
    "ON CONFLICT (name) DO UPDATE SET value = excluded.value"
)

_UPSERT_TASK = (
    "INSERT INTO {p}report_tasks (task_id, code, facts) VALUES (?, ?, ?) "
    "ON CONFLICT (task_id) DO UPDATE SET code = excluded.code, facts = excluded.facts"
)
_UPSERT_MONTH = (
    "INSERT INTO {p}report_task_months (task_id, month, facts, code, lead_unit, assigned_day, "
    "closed_day, assigned_position) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (task_id, month) DO UPDATE SET facts = excluded.facts, code = excluded.code, "
    "lead_unit = excluded.lead_unit, assigned_day = excluded.assigned_day, "
    "closed_day = excluded.closed_day, assigned_position = excluded.assigned_position"
)
_INSERT_FACT = (
    "INSERT INTO {p}report_facts (position, n, day, kind, unit, task_code, event_type, detail) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_UPSERT_PLAN = (
    "INSERT INTO {p}report_plans (plan_id, facts) VALUES (?, ?) "
    "ON CONFLICT (plan_id) DO UPDATE SET facts = excluded.facts"
)
_LOAD_CHUNK = 500


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# A month-end snapshot: the facts as JSON and the plain columns the report rounds read.
MonthRow = tuple[str, str, str, str, str | None, int]


def _month_row(facts: Facts) -> MonthRow:
    closed = facts["closed_at"]
    return (
        _dumps(facts),
        facts["code"],
        facts["lead_unit"],
        facts["assigned_at"][:10],
        closed[:10] if closed else None,
        int(facts.get("assigned_position", 0)),
    )


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
            self.months[(task_id, previous)] = _month_row(facts)
        self.last_month[task_id] = month


class ReportsProjection:
    """The reports' view (see the module docstring); one method per kind of event source."""

    name = "reports"
    decode = True
    topics: Sequence[str] = (*TASK_TOPICS, *PLAN_TOPICS, *ROUND_TOPICS)

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
        kind = type(event).__qualname__
        if kind.startswith("PlanReview."):
            changes.facts.append(_plan_fact(position, event, self._plans))
            changes.plans.add(str(event.originator_id))
        elif kind.startswith("ReportRound."):
            changes.facts.append(_round_fact(position, event))
        else:
            self._apply_task(position, event, changes)

    def _apply_task(self, position: int, event: Any, changes: _Batch) -> None:
        task_id = str(event.originator_id)
        day = _day(event)
        changes.before(task_id, month_of(day), self._facts.get(task_id))
        if apply_event(self._facts, event) is None:
            return
        facts = self._facts[task_id]
        if type(event).__qualname__ == "ReformTask.Assigned":
            facts["assigned_position"] = position
        changes.tasks.add(task_id)
        maker = _TASK_FACTS.get(type(event).__qualname__)
        if maker is not None:
            for kind, unit, detail in maker(facts, event):
                changes.facts.append(
                    Fact(
                        position,
                        day.isoformat(),
                        kind,
                        unit,
                        facts["code"],
                        type(event).__qualname__,
                        detail,
                    )
                )

    def _steps(self, changes: _Batch) -> list[Step]:
        for task_id in changes.tasks:
            changes.months[(task_id, changes.last_month[task_id])] = _month_row(
                self._facts[task_id]
            )
        tasks = [
            (t, self._facts[t]["code"], changes.months[(t, changes.last_month[t])][0])
            for t in changes.tasks
        ]
        months = [(t, m, *row) for (t, m), row in changes.months.items() if t in self._facts]
        facts = _numbered(changes.facts)
        plans = [(p, _dumps(self._plans[p])) for p in changes.plans]
        return [
            (_UPSERT_TASK, tasks),
            (_UPSERT_MONTH, months),
            (_INSERT_FACT, facts),
            (_UPSERT_PLAN, plans),
        ]

    def _load(self, batch: Sequence[Item]) -> None:
        ids = {str(e.originator_id) for _, e in batch}
        self._load_rows("report_tasks", "task_id", ids - self._facts.keys(), self._facts)
        self._load_rows("report_plans", "plan_id", ids - self._plans.keys(), self._plans)

    def _load_rows(self, table: str, key: str, wanted: set[str], into: dict[str, Facts]) -> None:
        ordered = sorted(wanted)
        for i in range(0, len(ordered), _LOAD_CHUNK):
            chunk = ordered[i : i + _LOAD_CHUNK]
            marks = ", ".join("?" * len(chunk))
            query = f"SELECT {key} AS k, facts FROM {{p}}{table} WHERE {key} IN ({marks})"  # noqa: S608
            for row in self._view.select(query, chunk):
                into[row["k"]] = json.loads(row["facts"])


def _numbered(facts: Iterable[Fact]) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    counts: dict[int, int] = {}
    for f in facts:
        n = counts[f.position] = counts.get(f.position, -1) + 1
        rows.append(
            (f.position, n, f.day, f.kind, f.unit, f.task_code, f.event_type, _dumps(f.detail))
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

    def rounds_opened(self, until: dt.date) -> dict[str, str]:
        """Month → id of the ReportRound opened for it up to `until` (its events then count)."""
        return {month: info.round_id for month, info in self.rounds(until).items()}


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
    view = view_recorder(datastore, "reports", SCHEMA, TABLES)
    _ensure_version(view)
    return ReportStore(ReportsProjection(view))


def _ensure_version(view: ViewRecorder) -> None:
    view.write([(_META, [()])], None)
    rows = view.select("SELECT value FROM {p}report_meta WHERE name = 'schema'")
    if rows and rows[0]["value"] == SCHEMA_VERSION:
        return
    tracking = (
        f"CREATE TABLE IF NOT EXISTS {view.tracking_table} "
        "(application_name TEXT PRIMARY KEY, notification_id BIGINT NOT NULL)"
    )
    steps: list[Step] = [(f"DROP TABLE IF EXISTS {{p}}{table}", [()]) for table in TABLES]
    steps.append((f"DROP TABLE IF EXISTS {view.tracking_table}", [()]))
    steps += [(statement, [()]) for statement in SCHEMA]
    steps += [(tracking, [()]), (_SET_META, [("schema", SCHEMA_VERSION)])]
    view.write(steps, None)  # one transaction: the old view or the new empty one, never half


# ---- monthly report rounds -------------------------------------------------------------------


def month_end(month: str) -> dt.date:
    return month_bounds(month)[1]


@dataclass
class _RoundInputs:
    """What the outcomes of some months' rounds are computed from, each read once."""

    rounds: dict[str, RoundInfo]
    tasks: dict[str, list[RoundTask]]
    first: dict[tuple[str, str], tuple[str, int]]
    recorded: dict[str, list[Fact]]  # round id → its ReportLate / ReportMissing facts

    @classmethod
    def read(cls, store: ReportStore, first: str, last: str, as_of: dt.date) -> _RoundInputs:
        start, end = month_bounds(first)[0], min(month_end(last), as_of)
        recorded: dict[str, list[Fact]] = {}
        for f in store.facts(start, as_of, ["report_late", "report_missing"]):
            recorded.setdefault(str(f.detail["round"]), []).append(f)
        return cls(
            store.rounds(as_of),
            store.round_tasks(first, last),
            store.first_reports(start, end),
            recorded,
        )


def _owes_report(task: RoundTask, due: dt.date) -> bool:
    return task.assigned_day <= due.isoformat() and (
        task.closed_day is None or task.closed_day > due.isoformat()
    )


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


def _outcomes(
    inputs: _RoundInputs,
    month: str,
    as_of: dt.date,
    calendar: WorkingCalendar,
    due_working_days: int,
    scored_only: bool = False,
) -> list[Fact]:
    """The outcomes of `month`'s round; with `scored_only`, only late and missing reports."""
    info = inputs.rounds.get(month)
    if info is not None:
        outcomes = _recorded_outcomes(inputs, info, as_of)
        return [f for f in outcomes if f.kind in SCORED_OUTCOMES] if scored_only else outcomes
    due = round_due_date(month, calendar, due_working_days)
    end, due_day = month_end(month), due.isoformat()
    derived = []
    for task in inputs.tasks.get(month, []):
        if not _owes_report(task, due):
            continue
        first = inputs.first.get((task.code, month))
        on_time = first is not None and first[0] <= due_day
        pending = first is None and as_of < end
        if scored_only and (on_time or pending):
            continue  # scores nothing
        derived.append(_derived_outcome(task, month, due, end, as_of, first))
    return derived


def _recorded_outcomes(inputs: _RoundInputs, info: RoundInfo, as_of: dt.date) -> list[Fact]:
    """The round's own ReportLate / ReportMissing facts; each other expected task on time
    when reported by the due date, else pending while the round is open (see the module doc)."""
    judged = inputs.recorded.get(info.round_id, [])
    named = {(f.unit, f.task_code) for f in judged}
    closed = info.closed_day is not None and info.closed_day <= as_of.isoformat()
    tasks = {t.code: t for t in inputs.tasks.get(info.month, [])}
    detail = {"month": info.month, "due": info.due, "round": info.round_id}
    outcomes = list(judged)
    for unit, codes in info.expected.items():
        for code in codes:
            if (unit, code) in named:
                continue
            report = inputs.first.get((code, info.month))
            if report is not None and report[0] <= info.due:
                outcomes.append(
                    Fact(
                        report[1],
                        report[0],
                        "on_time",
                        unit,
                        code,
                        "ReformTask.ProgressReported",
                        detail,
                    )
                )
                continue
            if closed or _closed_by(tasks.get(code), as_of):
                continue  # completed or cancelled without a report: owes nothing more
            outcomes.append(
                Fact(
                    info.position,
                    min(as_of, month_end(info.month)).isoformat(),
                    "pending",
                    unit,
                    code,
                    "ReportRound.Opened",
                    detail,
                )
            )
    return sorted(outcomes, key=lambda f: (f.task_code, f.unit))


def _closed_by(task: RoundTask | None, day: dt.date) -> bool:
    return task is not None and task.closed_day is not None and task.closed_day <= day.isoformat()


def _derived_outcome(
    task: RoundTask,
    month: str,
    due: dt.date,
    end: dt.date,
    as_of: dt.date,
    first: tuple[str, int] | None,
) -> Fact:
    def outcome(kind: str, day: str, position: int, event_type: str) -> Fact:
        detail = {"month": month, "due": due.isoformat(), "derived": True}
        return Fact(position, day, kind, task.lead_unit, task.code, event_type, detail)

    if first is not None and first[0] <= due.isoformat():
        return outcome("on_time", first[0], first[1], "ReformTask.ProgressReported")
    if first is not None:
        return outcome("report_late", first[0], first[1], "ReformTask.ProgressReported")
    if as_of >= end:  # an as-of day includes the whole of that day
        return outcome(
            "report_missing", end.isoformat(), task.assigned_position, "ReformTask.Assigned"
        )
    return outcome("pending", as_of.isoformat(), task.assigned_position, "ReformTask.Assigned")


# ---- 年督考: rules applied to facts ------------------------------------------------------------


@dataclass(frozen=True)
class PointLine:
    """One scored fact: the points and the event behind them."""

    unit: str
    kind: str
    label: str
    points: float
    notification_id: int
    event_type: str
    task_code: str
    day: str


@dataclass(frozen=True)
class UnitScore:
    unit: str
    base: float
    score: float
    rank: int
    lines: tuple[PointLine, ...]

    @property
    def gained(self) -> float:
        return math.fsum(p.points for p in self.lines if p.points > 0)

    @property
    def lost(self) -> float:
        return math.fsum(p.points for p in self.lines if p.points < 0)


def _points(rules: AssessmentRules, kind: str) -> float:
    field = RULE_OF_KIND.get(kind)
    return float(getattr(rules, field)) if field else 0.0


def _line(rules: AssessmentRules, fact: Fact) -> PointLine:
    return PointLine(
        unit=fact.unit,
        kind=fact.kind,
        label=KIND_LABELS.get(fact.kind, fact.kind),
        points=_points(rules, fact.kind),
        notification_id=fact.position,
        event_type=fact.event_type,
        task_code=fact.task_code,
        day=fact.day,
    )


def year_facts(
    store: ReportStore,
    year: int,
    as_of: dt.date,
    calendar: WorkingCalendar,
    due_working_days: int,
) -> list[Fact]:
    """Every fact that can score in `year` up to `as_of`, report-round outcomes included (a
    round is judged with the facts up to `as_of`, which may be after the year: December's
    round closes in January)."""
    start, end = dt.date(year, 1, 1), min(dt.date(year, 12, 31), as_of)
    kinds = [k for k in RULE_OF_KIND if not k.startswith("report_")]
    facts = store.facts(start, end, kinds)
    if end < start:
        return facts
    inputs = _RoundInputs.read(store, f"{year}-01", month_of(end), as_of)
    for month in inputs.tasks:
        facts += _outcomes(inputs, month, as_of, calendar, due_working_days, scored_only=True)
    return facts


def assess(
    facts: Iterable[Fact], rules: AssessmentRules, units: Iterable[str] = ()
) -> list[UnitScore]:
    """Scores per unit (base + every scored fact), ranked; ties share a rank."""
    lines: dict[str, list[PointLine]] = {u: [] for u in units if u}
    for fact in facts:
        line = _line(rules, fact)
        if line.points and fact.unit:
            lines.setdefault(fact.unit, []).append(line)
    scored = [
        (unit, round(rules.base + math.fsum(p.points for p in ls), 4), ls)
        for unit, ls in lines.items()
    ]
    scored.sort(key=lambda s: (-s[1], s[0]))
    return [
        UnitScore(unit, rules.base, score, _rank(scored, i), tuple(ls))
        for i, (unit, score, ls) in enumerate(scored)
    ]


def _rank(scored: Sequence[tuple[str, float, Any]], index: int) -> int:
    first = index
    while first > 0 and scored[first - 1][1] == scored[index][1]:
        first -= 1
    return first + 1
