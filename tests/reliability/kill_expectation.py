"""The reminder keys the kill loop's quarter must end each step with, computed by hand.

An oracle of its own, sharing nothing with the code under test but the script of the quarter
(the task list and what people do when): the working days come from `chinese_calendar`
directly and the fair ladder (PRODUCT.md rules 3 and 4, issue 12) is written out here as
plain date arithmetic per target. Neither the project's calendar, nor its ladder, nor its due
index, nor its `sweep()` is used.

The rule, as this oracle applies it at each sweep of date `t` (working days are counted with
`add_workdays`, `due ± n` below means n working days after / before the date):

* Targets of an open task: its deadline, each milestone before the deadline and, while the
  task is unclaimed, its 签收 deadline (`assigned + 3`). Submitted tasks are paused, accepted
  or cancelled ones stop; a granted extension is a new deadline, so a new target whose ladder
  starts from nothing.
* Courtesy rungs (offset <= 0: 预告 due-5, 提醒 due-1; 签收提醒 claim-1, 今日签收到期 claim+0):
  until the first late rung's date has come, the highest courtesy rung not yet passed whose
  date has come goes out (those skipped during gaps between sweeps never do).
* The first late rung (催办 due+1, or 逾期未签收 claim+1) goes out from its date, and from one
  working day after the unit last heard of the task: the courtesy rung of this target it got,
  else the 交办 notice. While the 交办 notice waits undelivered, nothing late goes out.
* Climbing: each further rung (督办 due+5, 通报 due+10) goes out from its date and one working
  day after the rung below it reached the lead unit's chat. Milestones stop at 催办, the 签收
  ladder at 逾期未签收. Past 通报, a deadline's 通报 repeats (seq 1, 2, …) 3 working days after
  the previous one was delivered.
* One reminder per target per sweep; a key never fires twice.

What the loop guarantees and the oracle relies on: the tasks are imported before the first
sweep (at the loop's opening), so their 交办 notices are queued then and delivered in the
first step, right after its sweep; and every step ends with everything it queued delivered
at that step's moment (the loop settles delivery before it moves on). So "delivered" is "the
date of the sweep that issued it", and the 交办 notice's date is the first step's.

A worked case (bounded loop: every third working day at 09:00, i.e. 10-08, 10-11, 10-15,
10-18, 10-23, 10-28, 10-31, 11-05 …; 2024-10-12, a Saturday, is a working day): 2024-01, due
10-14 (Monday). 预告 is due-5 = 10-08: the first sweep sends it (courtesy rungs do not wait
for the 交办 notice). 提醒 is due-1 = 10-12, not come at 10-11 and passed by 10-15, where
催办's date (due+1 = 10-15) has come and the unit heard 预告 on 10-08 (+1 = 10-09): 催办 on
10-15. 督办's date is due+5 = 10-21, and 催办 was delivered 10-15 (+1 = 10-16): 督办 on 10-23.
通报's date is due+10 = 10-28, 督办 delivered 10-23 (+1 = 10-24): 通报 on 10-28. Then 再次通报
every 3 working days after the last was delivered: 10-31 is 10-28 + 3, so each later step
(3 working days apart) sends the next repeat. Under the old ladder the same task went 催办
and then re-urged; it never reached 督办 or 通报.

2024-03's milestone is due 10-07 (a holiday), so its 催办 date is due+1 = 10-08, the first
sweep's day; but then the 交办 notice still waits undelivered, so nothing late goes out. It is
delivered on 10-08 (+1 = 10-09): 催办 on 10-11. 2024-05 is never claimed: imported on 10-08,
its 签收 deadline is 10-08+3 = 10-11. 签收提醒 (claim-1 = 10-10) falls between two sweeps and
is skipped, 今日签收到期 goes out on 10-11, and 逾期未签收 (claim+1 = 10-12, and 10-11 + 1 =
10-12) on 10-15, the ladder's end for the claim.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import chinese_calendar

from tests.reliability.support_kill import Action, task_rows

# (rung, offset in working days from the date the target is about); mildest first.
Rungs = tuple[tuple[str, int], ...]
DEADLINE_RUNGS: Rungs = (
    ("notice", -5),
    ("reminder", -1),
    ("urge", 1),
    ("supervise", 5),
    ("bulletin", 10),
)
MILESTONE_RUNGS: Rungs = DEADLINE_RUNGS[:3]  # milestones: 预告, 提醒, 催办; no repeats
CLAIM_RUNGS: Rungs = (("claim_reminder", -1), ("claim_due", 0), ("claim_overdue", 1))
CLAIM_WITHIN = 3  # the 签收 deadline: 3 working days after assignment
MIN_GAP = 1  # a late rung waits 1 working day after the unit heard the one below it
REPEAT_EVERY = 3  # 再次通报: 3 working days after the previous 通报 was delivered
WORK_START, WORK_END = dt.time(9), dt.time(18)


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
class _Climb:
    """How far one target (task, target, due date) got: its last rung and repeat, and the
    date the last one reached the lead unit's chat."""

    top: int = -1  # index into its rungs of the last fired; -1: none yet
    seq: int = 0  # repeats of the top rung fired
    heard: dt.date | None = None


@dataclass
class _Task:
    code: str
    deadline: dt.date
    milestones: tuple[tuple[str, dt.date], ...]
    claim_by: dt.date | None  # the 签收 deadline while unclaimed
    state: str = "open"  # open | submitted | closed


@dataclass
class _Quarter:
    told_on: dt.date | None = None  # the 交办 notices' delivery: the first step's date
    climbs: dict[tuple[str, str, dt.date], _Climb] = field(default_factory=dict)


def _next(
    rungs: Rungs, due: dt.date, climb: _Climb, told_on: dt.date | None
) -> tuple[int, int, dt.date] | None:
    """(rung index, seq, the first date it may go out) of what comes next, or None."""
    dates = [add_workdays(due, offset) for _, offset in rungs]
    late = next(i for i, (_, offset) in enumerate(rungs) if offset > 0)
    if climb.top >= late:  # climbing: the rung above, one working day after the last
        assert climb.heard is not None
        if climb.top + 1 < len(rungs):
            step = climb.top + 1
            return step, 0, max(dates[step], add_workdays(climb.heard, MIN_GAP))
        if rungs is DEADLINE_RUNGS:  # past 通报: 再次通报
            return climb.top, climb.seq + 1, add_workdays(climb.heard, REPEAT_EVERY)
        return None
    heard = climb.heard if climb.top >= 0 else told_on
    if heard is None:  # never told (the 交办 notice still waits): nothing late yet
        return None
    return late, 0, max(dates[late], add_workdays(heard, MIN_GAP))


def _courtesy(rungs: Rungs, due: dt.date, climb: _Climb, today: dt.date) -> int | None:
    """The courtesy rung to send today, if the first late rung's date has not come."""
    dates = [add_workdays(due, offset) for _, offset in rungs]
    late = next(i for i, (_, offset) in enumerate(rungs) if offset > 0)
    if climb.top >= late or dates[late] <= today:
        return None
    come = [i for i in range(climb.top + 1, late) if dates[i] <= today]
    return come[-1] if come else None


def _sweep_target(
    quarter: _Quarter,
    code: str,
    target: str,
    due: dt.date,
    rungs: Rungs,
    today: dt.date,
) -> str | None:
    """The one key this target gets today, if any (recorded as delivered today)."""
    climb = quarter.climbs.setdefault((code, target, due), _Climb())
    chosen = _courtesy(rungs, due, climb, today)
    if chosen is not None:
        climb.top, climb.seq = chosen, 0
    else:
        step = _next(rungs, due, climb, quarter.told_on)
        if step is None or step[2] > today:
            return None
        climb.top, climb.seq = step[0], step[1]
    climb.heard = today
    return f"{code}|{target}|{due.isoformat()}|{rungs[climb.top][0]}|{climb.seq}"


def _targets(task: _Task) -> list[tuple[str, dt.date, Rungs]]:
    found: list[tuple[str, dt.date, Rungs]] = [("deadline", task.deadline, DEADLINE_RUNGS)]
    found += [
        (f"milestone:{name}", due, MILESTONE_RUNGS)
        for name, due in task.milestones
        if due < task.deadline
    ]
    if task.claim_by is not None:
        found.append(("claim", task.claim_by, CLAIM_RUNGS))
    return found


def expected_keys(
    actions: list[Action], moments: list[dt.datetime], imported: dt.datetime
) -> list[frozenset[str]]:
    """The keys issued by the end of each moment's sweep (the actions of a day come first).
    The tasks are imported at `imported`, before the first moment."""
    assert imported < moments[0]
    claim_by = add_workdays(imported.date(), CLAIM_WITHIN)
    tasks = {
        row.code: _Task(
            row.code, row.deadline, tuple((m.name, m.due) for m in row.milestones), claim_by
        )
        for row in task_rows()
        if row.deadline is not None
    }
    requested: dict[str, dt.date] = {}
    quarter = _Quarter()
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
                if task.state != "open":
                    continue
                for target, due, rungs in _targets(task):
                    key = _sweep_target(quarter, task.code, target, due, rungs, today)
                    if key is not None:
                        assert key not in issued, key
                        issued.add(key)
            # The step delivers what it queued, the 交办 notices of the import among them.
            quarter.told_on = quarter.told_on or today
        after.append(frozenset(issued))
    return after


def _apply(tasks: dict[str, _Task], requested: dict[str, dt.date], action: Action) -> None:
    task = tasks[action.code]
    match action.kind:
        case "claim":
            task.claim_by = None
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
