"""任务看板: the task board read model, with its red / yellow / green lights.

The view stores *facts* per task (what the events say: status, deadlines, last report,
escalations, …) and computes the light when the board is asked, with the caller's `today`:
a light changes with the calendar even when no event happens, so storing it would need a
daily full recompute, while computing it from stored facts costs a few date comparisons.
The light rules and the row shape are in `projections.lights`.

The fold (`apply_event`) is shared by the incremental view, the full rebuild, the board as
of a past date (`asof.py`) and the assessment facts.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.domain import DomainEvent

from domain.calendar import WorkingCalendar
from domain.rungs import rung_severity
from domain.task import ReformTask, TaskStatus, sets_percent
from domain.task_rules import co_unit_of, co_unit_report
from projections.facts import Facts, FactsProjection, Fold, Handler, dumps, jsonable
from projections.lights import (
    BOARD_COLUMNS,
    DEFAULT_RULES,
    LIGHT_LABELS,
    LightRules,
    board_row,
    light,
    overdue_working_days,
)
from projections.runner import Item
from projections.viewstore import Step, ViewRecorder, ensure_view_version, view_recorder

__all__ = [
    "BOARD_COLUMNS",
    "DEFAULT_RULES",
    "LIGHT_LABELS",
    "TASK_TOPICS",
    "Board",
    "BoardProjection",
    "Facts",
    "LightRules",
    "apply_event",
    "board_row",
    "higher_rung",
    "jsonable",
    "light",
    "open_board",
    "overdue_working_days",
    "rows_of",
]  # the light and row rules are re-exported from `projections.lights`, facts from `.facts`

# ---- the fold: events → facts --------------------------------------------------------------


def _assigned(facts: Facts, e: Any) -> None:
    facts.update(
        task_id=str(e.originator_id),
        code=e.code,
        title=e.title,
        area=e.area,
        lead_unit=e.lead_unit,
        co_units=list(e.co_units),
        official=e.official,
        group=e.group,
        deadline=jsonable(e.deadline),
        assigned_deadline=jsonable(e.deadline),
        deadline_text=e.deadline_text,
        milestones=jsonable(e.milestones),
        assigned_at=jsonable(e.at),
        status=TaskStatus.ASSIGNED,
        claimed_by=None,
        percent=0,
        reports=0,
        last_report_at=None,
        pending_extension=None,
        extensions=0,
        completion_returned=False,
        escalation=None,
        active_escalation=None,
        recognitions=[],
        closed_at=None,
        completed_on_time=None,
        closed_milestones=[],
        co_unit_reports=[],
    )


def _revised(facts: Facts, e: Any) -> None:
    for name, value in e.changes.items():
        facts[name] = jsonable(value)
        if name == "deadline":
            facts["assigned_deadline"] = facts["deadline"]
            facts["active_escalation"] = None


def _claimed(facts: Facts, e: Any) -> None:
    facts.update(status=TaskStatus.CLAIMED, claimed_by=e.actor)


def _progress(facts: Facts, e: Any) -> None:
    # The commonest event by far: plain assignments keep rebuilds close to the decode floor.
    if sets_percent(e.actor, facts["lead_unit"]):  # a co-unit's report is its contribution
        facts["percent"] = e.percent
    elif co_unit_report(e.actor, facts["lead_unit"], facts["co_units"]):
        _keep_co_unit_report(facts, e)
    facts["last_report_at"] = e.at.isoformat()
    facts["reports"] += 1


def _keep_co_unit_report(facts: Facts, e: Any) -> None:
    """Each co-unit's latest report (who, when, text, the percent it gave for its own part):
    one entry per co-unit, never more, in the order the co-units first reported (as
    `ReformTask.co_unit_reports`)."""
    unit = co_unit_of(e.actor)
    percent = getattr(e, "percent", None)
    latest = {
        "unit": unit,
        "by": e.actor,
        "at": e.at.isoformat(),
        "text": e.text,
        "percent": percent,
    }
    kept = list(facts.get("co_unit_reports", []))
    for i, report in enumerate(kept):
        if report["unit"] == unit:
            kept[i] = latest
            break
    else:
        kept.append(latest)
    facts["co_unit_reports"] = kept


def _milestone_closed(facts: Facts, e: Any) -> None:
    facts["closed_milestones"] = [*facts.get("closed_milestones", []), e.name]


def _extension_requested(facts: Facts, e: Any) -> None:
    facts["pending_extension"] = jsonable(e.new_deadline)


def _extension_granted(facts: Facts, e: Any) -> None:
    facts.update(
        deadline=jsonable(e.new_deadline),
        pending_extension=None,
        extensions=facts["extensions"] + 1,
        active_escalation=None,
    )


def _extension_denied(facts: Facts, e: Any) -> None:
    facts["pending_extension"] = None


def _submitted(facts: Facts, e: Any) -> None:
    facts.update(status=TaskStatus.SUBMITTED, completion_returned=False)


def _accepted(facts: Facts, e: Any) -> None:
    facts.update(
        status=TaskStatus.COMPLETED,
        closed_at=jsonable(e.at),
        percent=100,
        completed_on_time=e.on_time,
    )


def _returned(facts: Facts, e: Any) -> None:
    facts.update(status=TaskStatus.CLAIMED, completion_returned=True)


def _cancelled(facts: Facts, e: Any) -> None:
    facts.update(status=TaskStatus.CANCELLED, closed_at=jsonable(e.at))


def higher_rung(current: str | None, rung: str) -> str:
    if current is None or rung_severity(rung) >= rung_severity(current):
        return rung
    return current


def _escalated(facts: Facts, e: Any) -> None:
    facts["escalation"] = higher_rung(facts["escalation"], e.rung)
    facts["active_escalation"] = higher_rung(facts["active_escalation"], e.rung)


def _recognised(facts: Facts, e: Any) -> None:
    facts["recognitions"].append({"kind": e.kind, "level": e.level, "title": e.title})


_HANDLERS: dict[type[DomainEvent], Handler] = {
    ReformTask.Assigned: _assigned,
    ReformTask.Revised: _revised,
    ReformTask.Claimed: _claimed,
    ReformTask.ProgressReported: _progress,
    ReformTask.ExtensionRequested: _extension_requested,
    ReformTask.ExtensionGranted: _extension_granted,
    ReformTask.ExtensionDenied: _extension_denied,
    ReformTask.CompletionSubmitted: _submitted,
    ReformTask.CompletionAccepted: _accepted,
    ReformTask.CompletionReturned: _returned,
    ReformTask.Cancelled: _cancelled,
    ReformTask.EscalationRecorded: _escalated,
    ReformTask.Recognised: _recognised,
    ReformTask.MilestoneClosed: _milestone_closed,
}
BOARD_FOLD = Fold(_HANDLERS, born=ReformTask.Assigned)
TASK_TOPICS = BOARD_FOLD.topics  # the stored topics of the task events the board folds


def apply_event(board: dict[str, Facts], event: Any) -> str | None:
    """Fold one domain event into `board` (task id → facts); return the task id it changed,
    or None for events the board does not show (and for tasks it never saw assigned)."""
    return BOARD_FOLD.apply(board, event)


def rows_of(
    facts: Iterable[Facts],
    today: dt.date,
    calendar: WorkingCalendar,
    rules: LightRules = DEFAULT_RULES,
    *,
    unit: str | None = None,
    group: str | None = None,
    official: str | None = None,
) -> list[dict[str, Any]]:
    """Board rows of in-memory facts, filtered like `Board.rows` (used by the as-of board)."""
    chosen = [
        f
        for f in facts
        if (unit is None or unit == f["lead_unit"] or unit in f["co_units"])
        and (group is None or group == f["group"])
        and (official is None or official == f["official"])
    ]
    return [board_row(f, today, calendar, rules) for f in chosen]


# ---- the stored view -----------------------------------------------------------------------

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS {p}board_tasks (task_id TEXT PRIMARY KEY, seq BIGINT NOT NULL, "
    "code TEXT NOT NULL, lead_unit TEXT NOT NULL, grp TEXT, official TEXT, facts TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS {p}board_tasks_seq ON {p}board_tasks (seq)",
    "CREATE TABLE IF NOT EXISTS {p}board_units "
    "(unit TEXT NOT NULL, task_id TEXT NOT NULL, PRIMARY KEY (unit, task_id))",
)
TABLES = ("board_tasks", "board_units")
# The shape of the stored facts: a view another version wrote is dropped and rebuilt from the
# events when opened (`_ensure_format`). 2: a co-unit's report keeps the percent it gave.
FACTS_FORMAT = "2"

_UPSERT = (
    "INSERT INTO {p}board_tasks (task_id, seq, code, lead_unit, grp, official, facts) "
    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (task_id) DO UPDATE SET code = excluded.code, "
    "lead_unit = excluded.lead_unit, grp = excluded.grp, official = excluded.official, "
    "facts = excluded.facts"
)
_UNITS_CLEAR = "DELETE FROM {p}board_units WHERE task_id = ?"
_UNITS_ADD = "INSERT INTO {p}board_units (unit, task_id) VALUES (?, ?)"
_UNIT_FIELDS = frozenset({"lead_unit", "co_units"})


class BoardProjection(FactsProjection):
    """The board view: one row of facts per task, plus (unit, task) pairs for the unit view.
    Each batch is written as one upsert per changed task (see `FactsProjection`)."""

    name = "board"
    fold = BOARD_FOLD
    table = "board_tasks"

    def _steps(self, batch: Sequence[Item]) -> list[Step]:
        """One upsert per changed task; the unit pairs of tasks whose units changed."""
        new: dict[str, int] = {}  # task id → the position of its assignment (the row order)
        changed: set[str] = set()
        units: set[str] = set()
        for notification, event in batch:
            task_id = self.fold.apply(self._facts, event)
            if task_id is None:
                continue
            changed.add(task_id)
            kind = type(event)
            if kind is ReformTask.Assigned:
                new[task_id] = notification.id
                units.add(task_id)
            elif kind is ReformTask.Revised and not _UNIT_FIELDS.isdisjoint(event.changes):
                units.add(task_id)
        return [
            (_UPSERT, [self._row(task_id, new.get(task_id, 0)) for task_id in changed]),
            (_UNITS_CLEAR, [(task_id,) for task_id in units if task_id not in new]),
            (_UNITS_ADD, [pair for task_id in units for pair in self._unit_pairs(task_id)]),
        ]

    def _row(self, task_id: str, seq: int) -> tuple[Any, ...]:
        f = self._facts[task_id]
        return (task_id, seq, f["code"], f["lead_unit"], f["group"], f["official"], dumps(f))

    def _unit_pairs(self, task_id: str) -> list[tuple[str, str]]:
        f = self._facts[task_id]
        return [(unit, task_id) for unit in dict.fromkeys([f["lead_unit"], *f["co_units"]])]

    # ---- reads ---------------------------------------------------------------------------

    def facts(
        self, *, unit: str | None = None, group: str | None = None, official: str | None = None
    ) -> list[Facts]:
        """The stored facts in assignment order, filtered by unit (lead or co-unit), group or
        official."""
        where, params = [], []
        if unit is not None:
            where.append("task_id IN (SELECT task_id FROM {p}board_units WHERE unit = ?)")
            params.append(unit)
        if group is not None:
            where.append("grp = ?")
            params.append(group)
        if official is not None:
            where.append("official = ?")
            params.append(official)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        # Only our own fixed fragments are joined; every value is a bound parameter.
        query = f"SELECT facts FROM {{p}}board_tasks{clause} ORDER BY seq"  # noqa: S608
        rows = self._view.select(query, params)
        return [json.loads(row["facts"]) for row in rows]


@dataclass
class Board:
    """The board as the office reads it: stored facts, lights computed for `today`."""

    projection: BoardProjection
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)
    rules: LightRules = DEFAULT_RULES

    def rows(
        self,
        today: dt.date,
        *,
        unit: str | None = None,
        group: str | None = None,
        official: str | None = None,
    ) -> list[dict[str, Any]]:
        facts = self.projection.facts(unit=unit, group=group, official=official)
        return [board_row(f, today, self.calendar, self.rules) for f in facts]


def open_board(
    datastore: object,
    calendar: WorkingCalendar | None = None,
    rules: LightRules = DEFAULT_RULES,
) -> Board:
    """The board view in the store behind `datastore` (an application's
    `recorder.datastore`), its tables created if new. Catch it up with `runner.catch_up`."""
    view = view_recorder(datastore, "board", SCHEMA, TABLES)
    _ensure_format(view)
    return Board(BoardProjection(view), calendar or WorkingCalendar(), rules)


def _ensure_format(view: ViewRecorder) -> None:
    """Drop and recreate the view when another `FACTS_FORMAT` wrote it (see viewstore)."""
    ensure_view_version(view, "board_meta", "facts", FACTS_FORMAT, TABLES, SCHEMA)
