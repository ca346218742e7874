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
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.application import Application
from eventsourcing.domain import DomainEvent
from eventsourcing.persistence import IntegrityError

from domain.calendar import WorkingCalendar
from domain.ladder import Ladder, TaskLadderInput, TaskState, claim_deadline, next_fire_date
from domain.reminder import Reminder
from domain.task import ReformTask, TaskStatus, task_id
from projections import runner
from projections.due_deliveries import (
    DELIVERY_EVENTS,
    DeliveryFold,
    LeadChannel,
    delivered_dates,
    told,
)
from projections.due_fingerprint import ladder_fingerprint, reset_if_stale
from projections.facts import Facts, FactsProjection, Fold, Handler, dumps, topics_of
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
        assigned_at=_iso(e.at),
        last_report_at=None,
        fired=[],
        closed_milestones=[],
        pending={},
        delivered={},
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


def _milestone_closed(facts: Facts, e: Any) -> None:
    closed = facts.setdefault("closed_milestones", [])
    if e.name not in closed:
        closed.append(e.name)


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
    ReformTask.Claimed: _status(TaskStatus.CLAIMED),
    ReformTask.ProgressReported: _progress,
    ReformTask.MilestoneClosed: _milestone_closed,
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
    delivered: Mapping[str, dt.date] = field(default_factory=dict)
    """Fired key → the date its message reached the lead unit's chat."""


def _claim_due(facts: Facts, calendar: WorkingCalendar | None, within: int) -> dt.date | None:
    """The 签收 deadline of an unclaimed task: `within` working days after assignment."""
    assigned = facts.get("assigned_at")
    if calendar is None or facts["status"] != TaskStatus.ASSIGNED or not assigned:
        return None
    return claim_deadline(dt.datetime.fromisoformat(assigned), calendar, within)


def ladder_input(
    facts: Facts, calendar: WorkingCalendar | None = None, claim_within: int = 3
) -> TaskLadderInput:
    """The ladder's view of a task; with a calendar, an unclaimed one's 签收 deadline too."""
    deadline = facts["deadline"]
    closed = set(facts.get("closed_milestones") or ())
    told_on, told_pending = told(facts)
    return TaskLadderInput(
        task_code=facts["code"],
        deadline=dt.date.fromisoformat(deadline) if deadline else None,
        milestones=tuple(
            (name, dt.date.fromisoformat(due))
            for name, due in facts["milestones"]
            if name not in closed
        ),
        state=_STATES[facts["status"]],
        claim_due=_claim_due(facts, calendar, claim_within),
        told_on=told_on,
        told_pending=told_pending,
    )


def _due_task(facts: Facts, calendar: WorkingCalendar, claim_within: int) -> DueTask:
    tz = calendar.tz
    last = facts["last_report_at"]
    return DueTask(
        code=facts["code"],
        title=facts["title"],
        lead_unit=facts["lead_unit"],
        co_units=tuple(facts["co_units"]),
        official=facts["official"],
        last_report=dt.datetime.fromisoformat(last).astimezone(tz).date() if last else None,
        ladder_input=ladder_input(facts, calendar, claim_within),
        fired=frozenset(facts["fired"]),
        delivered=delivered_dates(facts),
    )


def _no_channel(unit: str) -> str:
    """Without a directory, no chat is known to be a unit's: only audiences without the lead
    unit count their deliveries (tests and tools that open the index without a config)."""
    return ""


class DueProjection(FactsProjection):
    """The view's writer: folds a batch over the touched tasks and upserts them with
    their new `next_check`, and the tracking position, in one transaction."""

    name = "due"
    fold = DUE_FOLD
    table = "due_tasks"

    def __init__(
        self,
        view: ViewRecorder,
        ladder: Ladder,
        calendar: WorkingCalendar,
        lead_channel: LeadChannel | None = None,
    ) -> None:
        super().__init__(view)
        self._ladder = ladder
        self._calendar = calendar
        self._deliveries = DeliveryFold(ladder, lead_channel or _no_channel, calendar.tz)
        self.topics = (*self.fold.topics, *topics_of(DELIVERY_EVENTS))

    @property
    def claim_within(self) -> int:
        return self._ladder.claim_within

    def next_check(self, facts: Facts) -> str | None:
        """The date from which the sweep must look at this task again (ISO, sortable)."""
        day = next_fire_date(
            ladder_input(facts, self._calendar, self._ladder.claim_within),
            self._ladder,
            self._calendar,
            frozenset(facts["fired"]),
            delivered_dates(facts),
        )
        return None if day is None else day.isoformat()

    def _steps(self, batch: Sequence[Item]) -> list[Step]:
        if not self._complete:  # the tasks an outbox event names (the base loads originators)
            wanted = {k for _, event in batch for k in self._deliveries.task_keys(event)}
            self._load(wanted - self._facts.keys())
        changed: set[str] = set()
        for _, event in batch:
            key = self.fold.apply(self._facts, event)
            if key is not None:
                changed.add(key)
            changed.update(self._deliveries.apply(self._facts, event))
        return [(_UPSERT, [self._row(key) for key in sorted(changed)])]

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
        return [self._task(row) for row in rows]

    def _task(self, row: Any) -> DueTask:
        facts = json.loads(row["facts"])
        return _due_task(facts, self.calendar, self.projection.claim_within)

    def tasks(self) -> list[DueTask]:
        """Every task in the index, in code order (monthly rounds: a full read is fine)."""
        rows = self.projection.view.select("SELECT facts FROM {p}due_tasks ORDER BY code")
        return [self._task(row) for row in rows]


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
    app: Application[Any],
    ladder: Ladder,
    calendar: WorkingCalendar,
    overrides: str = "",
    lead_channels: tuple[Mapping[str, str], str] = ({}, ""),
) -> DueIndex:
    """The due index beside `app`'s events, emptied if its fingerprint is stale (the next
    catch-up then rebuilds it from the events). Catch it up before asking it anything.

    `lead_channels` is (unit → its chat, the chat of a unit the config does not know): a
    reminder counts as delivered to the lead unit when it reached that chat."""
    chats, fallback = lead_channels
    view = _view(app.recorder.datastore)  # type: ignore[attr-defined]
    described = overrides + repr((sorted(chats.items()), fallback))
    reset_if_stale(view, ladder_fingerprint(ladder, calendar, described))
    lookup = dict(chats)

    def lead_channel(unit: str) -> str:
        return lookup.get(unit, fallback)

    return DueIndex(DueProjection(view, ladder, calendar, lead_channel), calendar)
