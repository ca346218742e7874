"""The due index: per task, what the ladder needs, and the next date anything can be due.

A sweep must not read every task to find the few that are due: its cost would grow with the
list, and the county list only grows. This view keeps, per task, the ladder's inputs (deadline,
milestones, open / submitted / closed), who is told (lead unit, co-units, official), the
reminder keys already issued for it (from `Reminder.Issued`) and `next_check`, the
`ladder.next_fire_date(...)` of those facts. A sweep then selects `next_check <= today`
through an index on that column and reads nothing else.

`next_check` depends on the ladder and the calendar, which come from the config. The view
stores a fingerprint of both and is rebuilt from the events when it no longer matches (an
admin changed the ladder, working hours or calendar overrides, or a newer calendar package
covers another year): the index is a cache of the events, never a source of truth.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from eventsourcing.application import Application
from eventsourcing.domain import DomainEvent
from eventsourcing.persistence import IntegrityError

from domain.calendar import WorkingCalendar
from domain.ladder import Ladder, TaskLadderInput, TaskState, next_fire_date
from domain.reminder import Reminder
from domain.task import ReformTask, TaskStatus, task_id
from projections import runner
from projections.facts import Facts, FactsProjection, Fold, Handler, dumps
from projections.runner import Item
from projections.viewstore import Step, ViewRecorder, view_recorder

__all__ = ["DueIndex", "DueProjection", "DueTask", "ladder_fingerprint", "open_due_index"]

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS {p}due_tasks (task_id TEXT PRIMARY KEY, code TEXT NOT NULL, "
    "next_check TEXT, facts TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS {p}due_tasks_next ON {p}due_tasks (next_check)",
    "CREATE TABLE IF NOT EXISTS {p}due_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
)
TABLES = ("due_tasks", "due_meta")

_UPSERT = (
    "INSERT INTO {p}due_tasks (task_id, code, next_check, facts) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (task_id) DO UPDATE SET code = excluded.code, "
    "next_check = excluded.next_check, facts = excluded.facts"
)

_STATES: dict[str, TaskState] = {
    TaskStatus.ASSIGNED: "open",
    TaskStatus.CLAIMED: "open",
    TaskStatus.SUBMITTED: "submitted",
    TaskStatus.COMPLETED: "closed",
    TaskStatus.CANCELLED: "closed",
}


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def _milestones(value: Any) -> list[list[str]]:
    return [[str(m["name"]), _iso(m["due"])] for m in value or [] if m.get("due") is not None]


# ---- the fold: events → facts ----------------------------------------------------------------


def _assigned(facts: Facts, e: Any) -> None:
    facts.update(
        code=e.code,
        title=e.title,
        lead_unit=e.lead_unit,
        co_units=list(e.co_units),
        official=e.official,
        deadline=_iso(e.deadline),
        milestones=_milestones(e.milestones),
        status=TaskStatus.ASSIGNED,
        last_report_at=None,
        fired=[],
    )


_REVISED_AS_IS = ("title", "lead_unit", "official")


def _revised(facts: Facts, e: Any) -> None:
    changes = e.changes
    for name in _REVISED_AS_IS:
        if name in changes:
            facts[name] = changes[name]
    if "co_units" in changes:
        facts["co_units"] = list(changes["co_units"])
    if "deadline" in changes:
        facts["deadline"] = _iso(changes["deadline"])
    if "milestones" in changes:
        facts["milestones"] = _milestones(changes["milestones"])


def _status(status: str) -> Handler:
    def apply(facts: Facts, _e: Any) -> None:
        facts["status"] = status

    return apply


def _progress(facts: Facts, e: Any) -> None:
    facts["last_report_at"] = _iso(e.at)


def _extended(facts: Facts, e: Any) -> None:
    facts["deadline"] = _iso(e.new_deadline)


def _issued(facts: Facts, e: Any) -> None:
    if e.key not in facts["fired"]:
        facts["fired"].append(e.key)


def _task_key(event: Any) -> str:
    """The task an event is about: its originator, or for a reminder the task it names."""
    kind = type(event)
    if kind is Reminder.Issued:
        return str(task_id(event.task_code))
    return str(event.originator_id)


_HANDLERS: dict[type[DomainEvent], Handler] = {
    ReformTask.Assigned: _assigned,
    ReformTask.Revised: _revised,
    ReformTask.ProgressReported: _progress,
    ReformTask.ExtensionGranted: _extended,
    ReformTask.CompletionSubmitted: _status(TaskStatus.SUBMITTED),
    ReformTask.CompletionAccepted: _status(TaskStatus.COMPLETED),
    ReformTask.CompletionReturned: _status(TaskStatus.CLAIMED),
    ReformTask.Cancelled: _status(TaskStatus.CANCELLED),
    Reminder.Issued: _issued,
}
DUE_FOLD = Fold(_HANDLERS, born=ReformTask.Assigned, key=_task_key)


# ---- the read side ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DueTask:
    """One task the sweep must look at, as plain data."""

    code: str
    title: str
    lead_unit: str
    co_units: tuple[str, ...]
    official: str | None
    last_report: dt.date | None
    ladder_input: TaskLadderInput
    fired: frozenset[str]


def ladder_input(facts: Facts) -> TaskLadderInput:
    deadline = facts["deadline"]
    return TaskLadderInput(
        task_code=facts["code"],
        deadline=dt.date.fromisoformat(deadline) if deadline else None,
        milestones=tuple((name, dt.date.fromisoformat(due)) for name, due in facts["milestones"]),
        state=_STATES[facts["status"]],
    )


def _due_task(facts: Facts, tz: Any) -> DueTask:
    last = facts["last_report_at"]
    return DueTask(
        code=facts["code"],
        title=facts["title"],
        lead_unit=facts["lead_unit"],
        co_units=tuple(facts["co_units"]),
        official=facts["official"],
        last_report=dt.datetime.fromisoformat(last).astimezone(tz).date() if last else None,
        ladder_input=ladder_input(facts),
        fired=frozenset(facts["fired"]),
    )


class DueProjection(FactsProjection):
    """The view's writer: folds a batch over the touched tasks and upserts them with
    their new `next_check`, and the tracking position, in one transaction."""

    name = "due"
    fold = DUE_FOLD
    table = "due_tasks"

    def __init__(self, view: ViewRecorder, ladder: Ladder, calendar: WorkingCalendar) -> None:
        super().__init__(view)
        self._ladder = ladder
        self._calendar = calendar

    def next_check(self, facts: Facts) -> str | None:
        """The date from which the sweep must look at this task again (ISO, sortable)."""
        day = next_fire_date(
            ladder_input(facts), self._ladder, self._calendar, frozenset(facts["fired"])
        )
        return None if day is None else day.isoformat()

    def _steps(self, batch: Sequence[Item]) -> list[Step]:
        keys = {self.fold.apply(self._facts, event) for _, event in batch}
        changed = sorted(key for key in keys if key is not None)
        return [(_UPSERT, [self._row(key) for key in changed])]

    def _row(self, key: str) -> tuple[Any, ...]:
        f = self._facts[key]
        return (key, f["code"], self.next_check(f), dumps(f))


@dataclass
class DueIndex:
    """The index as the sweep uses it: catch up, then ask what is due by a date."""

    projection: DueProjection
    calendar: WorkingCalendar

    def catch_up(self, app: Application[Any]) -> int:
        return runner.catch_up(app, self.projection)

    def due(self, today: dt.date) -> list[DueTask]:
        """Tasks whose next check is on or before `today`, in code order."""
        rows = self.projection.view.select(
            "SELECT facts FROM {p}due_tasks WHERE next_check IS NOT NULL AND next_check <= ? "
            "ORDER BY code",
            [today.isoformat()],
        )
        return [_due_task(json.loads(row["facts"]), self.calendar.tz) for row in rows]

    def tasks(self) -> list[DueTask]:
        """Every task in the index, in code order (monthly rounds: a full read is fine)."""
        rows = self.projection.view.select("SELECT facts FROM {p}due_tasks ORDER BY code")
        return [_due_task(json.loads(row["facts"]), self.calendar.tz) for row in rows]


def _package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "?"


def ladder_fingerprint(ladder: Ladder, calendar: WorkingCalendar, overrides: str) -> str:
    """What `next_check` depends on besides the events: the ladder, working hours, zone,
    the admin's calendar overrides (`overrides`, as the caller describes them) and the
    version of the official holiday data."""
    rungs = [
        (r.name, r.offset, sorted(r.audience), r.mention, r.marks_assessment, r.severity, r.label)
        for r in ladder.rungs
    ]  # sorted audiences: a frozenset's repr follows the process's string hash seed
    text = repr(
        (
            rungs,
            ladder.repeat_every,
            ladder.repeat_rung,
            ladder.milestone_max_offset,
            calendar.work_start,
            calendar.work_end,
            str(calendar.tz),
            overrides,
            _package_version("chinesecalendar"),
        )
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _stored_fingerprint(view: ViewRecorder) -> str | None:
    rows = view.select("SELECT value FROM {p}due_meta WHERE name = 'fingerprint'")
    return str(rows[0]["value"]) if rows else None


_LOCK_KEY = 0x6475_6520  # "due ": serializes resets of this view across PostgreSQL nodes
_STALE = "NOT EXISTS (SELECT 1 FROM {p}due_meta WHERE name = 'fingerprint' AND value = ?)"


def _reset_steps(view: ViewRecorder, fingerprint: str) -> list[Step]:
    """Empty the view and its position unless the stored fingerprint is `fingerprint`,
    then store it: conditional statements in one transaction, so that two nodes starting
    together reset it once, and a node never empties a view another has just rebuilt."""
    steps: list[Step] = []
    if view.dialect == "postgres":
        steps.append(("SELECT pg_advisory_xact_lock(?)", [(_LOCK_KEY,)]))
    steps += [
        (f"DELETE FROM {{p}}due_tasks WHERE {_STALE}", [(fingerprint,)]),  # noqa: S608
        (f"DELETE FROM {view.tracking_table} WHERE {_STALE}", [(fingerprint,)]),  # noqa: S608
        (
            "INSERT INTO {p}due_meta (name, value) VALUES ('fingerprint', ?) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            [(fingerprint,)],
        ),
    ]
    return steps


def _view(datastore: object) -> ViewRecorder:
    """The view recorder, its tables created; a first creation racing with another node's
    loses on the catalog (PostgreSQL) and simply finds the tables on the next try."""
    for attempt in range(5):
        try:
            return view_recorder(datastore, "due", SCHEMA, TABLES)
        except IntegrityError:
            if attempt == 4:
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


def open_due_index(
    app: Application[Any], ladder: Ladder, calendar: WorkingCalendar, overrides: str = ""
) -> DueIndex:
    """The due index beside `app`'s events, emptied if its fingerprint is stale (the next
    catch-up then rebuilds it from the events). Catch it up before asking it anything."""
    view = _view(app.recorder.datastore)  # type: ignore[attr-defined]
    fingerprint = ladder_fingerprint(ladder, calendar, overrides)
    if _stored_fingerprint(view) != fingerprint:
        view.write(_reset_steps(view, fingerprint), None)
    return DueIndex(DueProjection(view, ladder, calendar), calendar)
