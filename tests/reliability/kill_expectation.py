"""The reminder keys the kill loop's quarter must end each step with, computed by hand.

An oracle of its own, sharing nothing with the code under test but the script of the quarter
(the task list and what people do when): the working days come from `chinese_calendar`
directly, the ladder is PRODUCT.md rule 3 written out here, and the catch-up rule (after
downtime only the highest due rung goes out, a rung never fires twice, the ladder never
steps back down) is applied per target with plain arithmetic. Neither the project's
calendar, nor its ladder, nor its `sweep()` is used.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import chinese_calendar

from tests.reliability.support_kill import Action, task_rows

# PRODUCT.md rule 3: (rung, working days from the due date, severity), mildest first.
RUNGS = (
    ("notice", -5, 1),
    ("reminder", -1, 2),
    ("urge", 1, 3),
    ("supervise", 5, 4),
    ("bulletin", 10, 5),
)
MILESTONE_MAX_OFFSET = 1  # milestones get notice, reminder and urge only, and no re-urges
REPEAT_EVERY = 3  # an overdue deadline's urge is sent again every 3 working days
WORK_START, WORK_END = dt.time(9), dt.time(18)

Position = tuple[int, bool, int, int]  # (fire date ordinal, a rung (not a re-urge), severity, seq)


def is_workday(day: dt.date) -> bool:
    return bool(chinese_calendar.is_workday(day))


def add_workdays(day: dt.date, n: int) -> dt.date:
    """The n-th working day strictly after (n > 0) or before (n < 0) `day`; n = 0 rounds a
    non-working day forward to the next working day."""
    if n == 0:
        return day if is_workday(day) else add_workdays(day, 1)
    step = dt.timedelta(days=1 if n > 0 else -1)
    left = abs(n)
    while left:
        day += step
        left -= is_workday(day)
    return day


@dataclass
class _Task:
    code: str
    deadline: dt.date
    milestones: tuple[tuple[str, dt.date], ...]
    state: str = "open"  # open | submitted | closed


def _candidates(target: str, due: dt.date, today: dt.date) -> list[tuple[Position, str, int]]:
    """Every rung and re-urge of one target fired by `today`: (position, rung, seq)."""
    milestone = target != "deadline"
    found: list[tuple[Position, str, int]] = []
    for name, offset, severity in RUNGS:
        if milestone and offset > MILESTONE_MAX_OFFSET:
            continue
        fire = add_workdays(due, offset)
        if fire <= today:
            found.append(((fire.toordinal(), True, severity, 0), name, 0))
    if not milestone:
        urge_day = add_workdays(due, 1)
        seq = 1
        while (fire := add_workdays(urge_day, REPEAT_EVERY * seq)) <= today:
            found.append(((fire.toordinal(), False, 3, seq), "urge", seq))
            seq += 1
    return found


def expected_keys(actions: list[Action], moments: list[dt.datetime]) -> list[frozenset[str]]:
    """The keys issued by the end of each moment's sweep (the actions of a day come first)."""
    tasks = {
        row.code: _Task(row.code, row.deadline, tuple((m.name, m.due) for m in row.milestones))
        for row in task_rows()
        if row.deadline is not None
    }
    requested: dict[str, dt.date] = {}
    top: dict[tuple[str, str, dt.date], Position] = {}  # the highest fired, per target
    issued: set[str] = set()
    after: list[frozenset[str]] = []
    done = 0
    for moment in moments:
        while done < len(actions) and actions[done].day <= moment.date():
            _apply(tasks, requested, actions[done])
            done += 1
        today, clock = moment.date(), moment.time()
        if is_workday(today) and WORK_START <= clock < WORK_END:
            for task in tasks.values():
                if task.state == "open":
                    issued |= _sweep_task(task, today, top)
        after.append(frozenset(issued))
    return after


def _sweep_task(
    task: _Task, today: dt.date, top: dict[tuple[str, str, dt.date], Position]
) -> set[str]:
    targets = [("deadline", task.deadline)] + [
        (f"milestone:{name}", due) for name, due in task.milestones if due < task.deadline
    ]
    keys = set()
    for target, due in targets:
        found = _candidates(target, due, today)
        if not found:
            continue
        position, rung, seq = max(found)
        identity = (task.code, target, due)
        if identity in top and top[identity] >= position:
            continue
        top[identity] = position
        keys.add(f"{task.code}|{target}|{due.isoformat()}|{rung}|{seq}")
    return keys


def _apply(tasks: dict[str, _Task], requested: dict[str, dt.date], action: Action) -> None:
    task = tasks[action.code]
    match action.kind:
        case "extend":
            assert action.new_deadline is not None
            requested[action.code] = action.new_deadline
        case "grant":
            task.deadline = requested.pop(action.code)
        case "submit":
            task.state = "submitted"
        case "return":
            task.state = "open"
        case "accept" | "cancel":
            task.state = "closed"
