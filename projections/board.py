"""任务看板: the task board read model, with its red / yellow / green lights.

The view stores *facts* per task (what the events say: status, deadlines, last report,
escalations, …) and computes the light when the board is asked, with the caller's `today`:
a light changes with the calendar even when no event happens, so storing it would need a
daily full recompute, while computing it from stored facts costs a few date comparisons.

Light rules (`light()`; thresholds in `LightRules`, all configurable):

* **closed** (已关闭) — the task is completed (已销号) or cancelled (已撤销).
* **red** (红灯) — overdue: the effective deadline (after granted extensions) is before
  today; or escalated to 督办 (supervise) or 通报 (bulletin) since the deadline last moved
  (a granted extension or a revised deadline restarts the ladder, and so clears this).
* **yellow** (黄灯) — the deadline is within `due_within_working_days` working days (default
  5, the ladder's 到期预告), counted on the office's working-day calendar (调休 included);
  or no progress report for more than `report_gap_days` days (default 30, counted from the
  assignment when nothing was ever reported); or an extension request awaits a decision;
  or the completion was returned (退回) and not yet resubmitted.
* **green** (绿灯) — otherwise, including 持续推进 tasks (no deadline) that report monthly.

Everything here but `BoardProjection` and `Board` is a pure function over plain data, shared
by the incremental view, the full rebuild and the board as of a past date (`asof.py`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from eventsourcing.persistence import Tracking

from domain.calendar import WorkingCalendar
from domain.rungs import RUNG_LABELS, rung_severity
from domain.task import STATUS_LABELS, TaskStatus
from projections.runner import Item
from projections.viewstore import Step, ViewRecorder, view_recorder

__all__ = [
    "BOARD_COLUMNS",
    "DEFAULT_RULES",
    "LIGHT_LABELS",
    "RUNG_LABELS",
    "TASK_TOPICS",
    "Board",
    "BoardProjection",
    "Facts",
    "Light",
    "LightRules",
    "apply_event",
    "board_row",
    "jsonable",
    "light",
    "open_board",
]

Facts = dict[str, Any]  # JSON-native: dates and datetimes as ISO strings

TASK_EVENTS = (
    "Assigned", "Revised", "Claimed", "ProgressReported", "ExtensionRequested",
    "ExtensionGranted", "ExtensionDenied", "CompletionSubmitted", "CompletionAccepted",
    "CompletionReturned", "Cancelled", "EscalationRecorded", "Recognised",
)  # fmt: skip
TASK_TOPICS = tuple(f"domain.task:ReformTask.{name}" for name in TASK_EVENTS)

LIGHT_LABELS = {"green": "绿灯", "yellow": "黄灯", "red": "红灯", "closed": "已关闭"}

# The board's columns with their Chinese headers (table, CSV and XLSX output).
BOARD_COLUMNS = [
    ("code", "编号"),
    ("title", "改革任务"),
    ("area", "领域"),
    ("lead_unit", "牵头单位"),
    ("co_units", "配合单位"),
    ("official", "领衔领导"),
    ("group", "专责小组"),
    ("status_label", "状态"),
    ("light_label", "灯"),
    ("deadline", "完成时限"),
    ("assigned_deadline", "原定时限"),
    ("next_milestone_text", "下一节点"),
    ("last_report_date", "最近报送"),
    ("percent", "进度%"),
    ("escalation_label", "督办等级"),
    ("recognitions_text", "试点/典型"),
    ("light_reasons_text", "提示"),
]


def jsonable(value: Any) -> Any:
    """Event values as JSON-native data (dates and datetimes as ISO strings)."""
    if isinstance(value, dt.date):  # datetime is a date too
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


# ---- the fold: events → facts --------------------------------------------------------------


def _assigned(facts: Facts, e: Any) -> None:
    facts.update(
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
    facts["percent"] = e.percent
    facts["last_report_at"] = e.at.isoformat()
    facts["reports"] += 1


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


_APPLY: dict[str, Callable[[Facts, Any], None]] = {
    "ReformTask.Assigned": _assigned,
    "ReformTask.Revised": _revised,
    "ReformTask.Claimed": _claimed,
    "ReformTask.ProgressReported": _progress,
    "ReformTask.ExtensionRequested": _extension_requested,
    "ReformTask.ExtensionGranted": _extension_granted,
    "ReformTask.ExtensionDenied": _extension_denied,
    "ReformTask.CompletionSubmitted": _submitted,
    "ReformTask.CompletionAccepted": _accepted,
    "ReformTask.CompletionReturned": _returned,
    "ReformTask.Cancelled": _cancelled,
    "ReformTask.EscalationRecorded": _escalated,
    "ReformTask.Recognised": _recognised,
}


def apply_event(board: dict[str, Facts], event: Any) -> str | None:
    """Fold one domain event into `board` (task id → facts); return the task id it changed,
    or None for events the board does not show (and for tasks it never saw assigned)."""
    handler = _APPLY.get(type(event).__qualname__)
    if handler is None:
        return None
    task_id = str(event.originator_id)
    facts = board.get(task_id)
    if facts is not None:
        handler(facts, event)
        return task_id
    if handler is _assigned:
        board[task_id] = facts = {"task_id": task_id}
        handler(facts, event)
        return task_id
    return None


# ---- lights and rows: facts + today → what the board shows -----------------------------------


@dataclass(frozen=True)
class LightRules:
    """The thresholds of the light rules (see the module docstring)."""

    due_within_working_days: int = 5
    report_gap_days: int = 30
    red_rungs: frozenset[str] = field(default_factory=lambda: frozenset({"supervise", "bulletin"}))


DEFAULT_RULES = LightRules()


class Light(NamedTuple):
    color: str  # green | yellow | red | closed
    reasons: list[str]


def _date(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def _local_date(text: str | None, calendar: WorkingCalendar) -> dt.date | None:
    if not text:
        return None
    moment = dt.datetime.fromisoformat(text)
    return moment.astimezone(calendar.tz).date() if moment.tzinfo else moment.date()


def light(
    facts: Facts,
    today: dt.date,
    calendar: WorkingCalendar,
    rules: LightRules = DEFAULT_RULES,
) -> Light:
    """The task's light today, with the reasons in Chinese (a pure function)."""
    if facts["status"] in TaskStatus.CLOSED:
        return Light("closed", [])
    red = _red_reasons(facts, today, calendar, rules)
    if red:
        return Light("red", red)
    yellow = _yellow_reasons(facts, today, calendar, rules)
    return Light("yellow", yellow) if yellow else Light("green", [])


def _red_reasons(
    facts: Facts, today: dt.date, calendar: WorkingCalendar, rules: LightRules
) -> list[str]:
    reasons = []
    deadline = _date(facts["deadline"])
    if deadline is not None and deadline < today:
        late = max(calendar.working_days_between(deadline, today), 1)
        reasons.append(f"已逾期{late}个工作日")
    rung = facts["active_escalation"]
    if rung in rules.red_rungs:
        reasons.append(f"已{RUNG_LABELS.get(rung, rung)}")
    return reasons


def _yellow_reasons(
    facts: Facts, today: dt.date, calendar: WorkingCalendar, rules: LightRules
) -> list[str]:
    reasons = []
    deadline = _date(facts["deadline"])
    if deadline is not None:
        left = calendar.working_days_between(today, deadline)
        if left <= rules.due_within_working_days:
            reasons.append(f"{left}个工作日内到期" if left else "今日到期")
    last = _local_date(facts["last_report_at"] or facts["assigned_at"], calendar)
    if last is not None and (today - last).days > rules.report_gap_days:
        reasons.append(f"超过{rules.report_gap_days}天未报送进展")
    if facts["pending_extension"]:
        reasons.append(f"延期申请（至{facts['pending_extension']}）待审批")
    if facts["completion_returned"]:
        reasons.append("办结申请被退回")
    return reasons


def next_milestone(facts: Facts, today: dt.date) -> dict[str, str] | None:
    """The first milestone (节点) due today or later, while the task is open."""
    if facts["status"] in TaskStatus.CLOSED:
        return None
    upcoming = [m for m in facts["milestones"] if m["due"] >= today.isoformat()]
    if not upcoming:
        return None
    first = min(upcoming, key=lambda m: m["due"])
    return {"name": first["name"], "due": first["due"]}


def board_row(
    facts: Facts,
    today: dt.date,
    calendar: WorkingCalendar,
    rules: LightRules = DEFAULT_RULES,
) -> dict[str, Any]:
    """One board row (the documented JSON shape, see projections/__init__.py)."""
    color, reasons = light(facts, today, calendar, rules)
    milestone = next_milestone(facts, today)
    rung = facts["escalation"]
    return {
        "code": facts["code"],
        "title": facts["title"],
        "area": facts["area"],
        "status": facts["status"],
        "status_label": STATUS_LABELS[facts["status"]],
        "light": color,
        "light_label": LIGHT_LABELS[color],
        "light_reasons": reasons,
        "deadline": facts["deadline"],
        "deadline_text": facts["deadline_text"],
        "assigned_deadline": facts["assigned_deadline"],
        "extensions": facts["extensions"],
        "pending_extension": facts["pending_extension"],
        "next_milestone": milestone,
        "last_report_date": _iso(_local_date(facts["last_report_at"], calendar)),
        "percent": facts["percent"],
        "reports": facts["reports"],
        "escalation": rung,
        "escalation_label": RUNG_LABELS.get(rung, rung) if rung else None,
        "lead_unit": facts["lead_unit"],
        "co_units": list(facts["co_units"]),
        "official": facts["official"],
        "group": facts["group"],
        "recognitions": [dict(r) for r in facts["recognitions"]],
    }


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


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

_UPSERT = (
    "INSERT INTO {p}board_tasks (task_id, seq, code, lead_unit, grp, official, facts) "
    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (task_id) DO UPDATE SET code = excluded.code, "
    "lead_unit = excluded.lead_unit, grp = excluded.grp, official = excluded.official, "
    "facts = excluded.facts"
)
_UNITS_CLEAR = "DELETE FROM {p}board_units WHERE task_id = ?"
_UNITS_ADD = "INSERT INTO {p}board_units (unit, task_id) VALUES (?, ?)"
_LOAD_CHUNK = 500
_UNIT_FIELDS = frozenset({"lead_unit", "co_units"})


def _dumps(facts: Facts) -> str:
    return json.dumps(facts, ensure_ascii=False, separators=(",", ":"))


class BoardProjection:
    """The board view: one row of facts per task, plus (unit, task) pairs for the unit view.

    Batches are folded in memory over the facts of the tasks they touch (loaded in one
    query, then kept while this process is the one advancing the view) and written back as
    one upsert per changed task, with the tracking position, in one transaction.
    """

    name = "board"
    decode = True
    topics: Sequence[str] = TASK_TOPICS

    def __init__(self, view: ViewRecorder) -> None:
        self._view = view
        self._facts: dict[str, Facts] = {}
        self._position: int | None = None
        self._complete = False  # whether `_facts` holds every task of the view

    @property
    def view(self) -> ViewRecorder:
        return self._view

    def reset(self) -> None:
        self._facts = {}
        self._position = None
        self._complete = False

    def begin(self, position: int) -> None:
        """Drop the in-memory facts unless they are exactly those of `position`. From an empty
        view (a rebuild) every task is born in memory, so nothing needs loading."""
        if position != self._position:
            self.reset()
            self._position = position
            self._complete = position == 0

    def process(self, batch: Sequence[Item], tracking: Tracking) -> None:
        if not self._complete:
            self._load({str(e.originator_id) for _, e in batch} - self._facts.keys())
        new: dict[str, int] = {}
        changed: set[str] = set()
        units: set[str] = set()
        for notification, event in batch:
            task_id = apply_event(self._facts, event)
            if task_id is None:
                continue
            changed.add(task_id)
            kind = type(event).__qualname__
            if kind == "ReformTask.Assigned":
                new[task_id] = notification.id
                units.add(task_id)
            elif kind == "ReformTask.Revised" and not _UNIT_FIELDS.isdisjoint(event.changes):
                units.add(task_id)
        try:
            self._view.write(self._steps(changed, new, units), tracking)
        except BaseException:
            self.reset()  # the facts in memory now include what was not written
            raise
        self._position = tracking.notification_id

    def _steps(self, changed: set[str], new: dict[str, int], units: set[str]) -> list[Step]:
        """One upsert per changed task; the unit pairs of tasks whose units changed."""
        return [
            (_UPSERT, [self._row(task_id, new.get(task_id, 0)) for task_id in changed]),
            (_UNITS_CLEAR, [(task_id,) for task_id in units if task_id not in new]),
            (_UNITS_ADD, [pair for task_id in units for pair in self._unit_pairs(task_id)]),
        ]

    def _row(self, task_id: str, seq: int) -> tuple[Any, ...]:
        f = self._facts[task_id]
        return (task_id, seq, f["code"], f["lead_unit"], f["group"], f["official"], _dumps(f))

    def _unit_pairs(self, task_id: str) -> list[tuple[str, str]]:
        f = self._facts[task_id]
        return [(unit, task_id) for unit in dict.fromkeys([f["lead_unit"], *f["co_units"]])]

    def _load(self, task_ids: set[str]) -> None:
        wanted = sorted(task_ids)
        for i in range(0, len(wanted), _LOAD_CHUNK):
            chunk = wanted[i : i + _LOAD_CHUNK]
            marks = ", ".join("?" * len(chunk))
            for row in self._view.select(
                f"SELECT task_id, facts FROM {{p}}board_tasks WHERE task_id IN ({marks})",  # noqa: S608
                chunk,
            ):
                self._facts[row["task_id"]] = json.loads(row["facts"])

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
    return Board(BoardProjection(view), calendar or WorkingCalendar(), rules)
