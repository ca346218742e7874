"""The rules of the ladder (see the package doc): which reminder of a task is due now, and
from which date something will be due, from the dates, the calendar, what already fired and
when each fired reminder was delivered to the lead unit's chat."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from domain.calendar import WorkingCalendar
from domain.ladder.keys import ReminderKey, key_prefix
from domain.ladder.model import Ladder, LadderTarget, Rung, TaskLadderInput, ladder_targets

__all__ = ["NO_DELIVERIES", "DueReminder", "due_reminders", "next_fire_date"]

NO_DELIVERIES: Mapping[str, dt.date] = MappingProxyType({})


@dataclass(frozen=True)
class DueReminder:
    """A reminder that is due now: the scheduler issues it and records ``key`` as fired."""

    key: ReminderKey
    rung: Rung
    target: LadderTarget
    fire_date: dt.date

    @property
    def seq(self) -> int:
        """0 for the rung itself, k for its k-th repeat."""
        return self.key.seq

    @property
    def is_repeat(self) -> bool:
        """Whether this is a repeat rather than the rung's first firing."""
        return self.key.seq > 0

    @property
    def label(self) -> str:
        """Chinese label for the message: the rung's own, or 再次… for a repeat (which only
        ever follows the rung itself, so the first message about a task is never 再次…)."""
        if self.key.seq == 0:
            return self.rung.label
        return f"再次{self.rung.label}"


@dataclass(frozen=True)
class _Next:
    """The one reminder that comes next for a target, and the first date it may go out."""

    rung: Rung
    seq: int
    not_before: dt.date


def _prefix(target: LadderTarget, rung: Rung) -> str:
    """The text every key of ``rung`` for ``target`` starts with: append the seq for a key."""
    return key_prefix(target.task_code, target.target, target.due, rung.name)


def _key(target: LadderTarget, rung: Rung, seq: int = 0) -> str:
    return _prefix(target, rung) + str(seq)


_REPEAT_PROBE_RUN = 64
"""Fired repeats are found by probing successive seqs; this many unfired in a row end it."""


def _last_repeat(target: LadderTarget, top: Rung, fired: Collection[str]) -> int:
    """The highest fired seq of the top rung (0: only the rung itself), by membership probes.

    Repeats fire in order without gaps, but old stores hold re-urges absorbed or skipped;
    the search ends after ``_REPEAT_PROBE_RUN`` unfired seqs in a row.
    """
    prefix = _prefix(target, top)
    highest, seq, misses = 0, 1, 0
    while misses < _REPEAT_PROBE_RUN:
        if prefix + str(seq) in fired:
            highest, misses = seq, 0
        else:
            misses += 1
        seq += 1
    return highest


def _after_delivery(
    key: str, gap: int, calendar: WorkingCalendar, delivered: Mapping[str, dt.date]
) -> dt.date | None:
    """``gap`` working days after ``key`` reached the lead unit's chat; None until it has."""
    day = delivered.get(key)
    return None if day is None else calendar.add_working_days(day, gap)


def _next(
    task: TaskLadderInput,
    target: LadderTarget,
    ladder: Ladder,
    calendar: WorkingCalendar,
    fired: Collection[str],
    delivered: Mapping[str, dt.date],
    today: dt.date | None,
) -> _Next | None:
    """What comes next for ``target`` (``today``: None asks for the earliest possibility).

    Rungs up to the due date (预告, 提醒) are courtesy: the highest one whose date has come
    goes out and stale ones are skipped, never once the first rung after the due date is
    due. Rungs after it are earned one at a time: each waits until the rung fired before it
    was delivered ``min_gap`` working days earlier; a target never told starts at the first
    of them, which follows the task's 交办 notice (if one was sent) like a rung below it.
    Past the top rung, the top rung repeats ``repeat_every`` working days after the
    previous one was delivered. None: waiting on a delivery, or nothing is left.
    """
    rungs = ladder.rungs_for(target)
    dates = [calendar.add_working_days(target.due, r.offset) for r in rungs]
    top = max((i for i, r in enumerate(rungs) if _key(target, r) in fired), default=-1)
    if top >= 0 and rungs[top].offset > 0:  # climbing: the next rung, else the top repeats
        if top + 1 < len(rungs):
            return _earned(task, target, ladder, calendar, delivered, top, top + 1, dates)
        return _repeat(target, ladder, calendar, fired, delivered, rungs[top])
    first_late = next((i for i, r in enumerate(rungs) if r.offset > 0), None)
    early = [i for i, r in enumerate(rungs) if r.offset <= 0 and i > top]
    late_due = first_late is not None and today is not None and dates[first_late] <= today
    if early and not late_due:
        come = [i for i in early if today is not None and dates[i] <= today]
        chosen = come[-1] if come else early[0]
        return _Next(rungs[chosen], 0, dates[chosen])
    if first_late is None:
        return None
    return _earned(task, target, ladder, calendar, delivered, top, first_late, dates)


def _earned(
    task: TaskLadderInput,
    target: LadderTarget,
    ladder: Ladder,
    calendar: WorkingCalendar,
    delivered: Mapping[str, dt.date],
    below: int,
    step: int,
    dates: list[dt.date],
) -> _Next | None:
    """Rung ``step`` after the due date: from its date, and ``min_gap`` working days after
    rung ``below`` (the last fired; -1 for none: the 交办 notice, if any) reached the lead
    unit's chat."""
    rungs = ladder.rungs_for(target)
    if below < 0:
        if task.told_pending:
            return None
        if task.told_on is None:
            return _Next(rungs[step], 0, dates[step])
        told = calendar.add_working_days(task.told_on, ladder.min_gap)
        return _Next(rungs[step], 0, max(dates[step], told))
    ready = _after_delivery(_key(target, rungs[below]), ladder.min_gap, calendar, delivered)
    return None if ready is None else _Next(rungs[step], 0, max(dates[step], ready))


def _repeat(
    target: LadderTarget,
    ladder: Ladder,
    calendar: WorkingCalendar,
    fired: Collection[str],
    delivered: Mapping[str, dt.date],
    top: Rung,
) -> _Next | None:
    """The top rung again, ``repeat_every`` working days after the last one was delivered."""
    if not ladder.repeats_for(target):
        return None
    seq = _last_repeat(target, top, fired)
    gap = max(ladder.repeat_every, ladder.min_gap)
    ready = _after_delivery(_key(target, top, seq), gap, calendar, delivered)
    return None if ready is None else _Next(top, seq + 1, ready)


def due_reminders(
    task: TaskLadderInput,
    ladder: Ladder,
    calendar: WorkingCalendar,
    now: dt.datetime,
    fired: Collection[str],
    delivered: Mapping[str, dt.date] = NO_DELIVERIES,
) -> list[DueReminder]:
    """What to send about ``task`` at ``now``: at most one reminder per target.

    ``fired`` holds the ``as_str()`` of the keys already issued (only asked about
    membership, so make it a set); ``delivered`` maps a fired key to the (local) date its
    message reached the task's lead-unit chat. Nothing is due outside working hours, or
    while the task is submitted or closed. The result is ordered most urgent first.
    """
    working = calendar.is_working_time(now)  # also rejects a naive ``now``
    if task.state != "open" or not working:
        return []
    today = now.astimezone(calendar.tz).date()
    due: list[DueReminder] = []
    for target in ladder_targets(task):
        step = _next(task, target, ladder, calendar, fired, delivered, today)
        if step is None or step.not_before > today:
            continue
        key = ReminderKey(target.task_code, target.target, target.due, step.rung.name, step.seq)
        if key.as_str() not in fired:
            due.append(DueReminder(key, step.rung, target, step.not_before))
    return sorted(due, key=lambda r: (-r.rung.severity, r.fire_date, r.target.target))


def next_fire_date(
    task: TaskLadderInput,
    ladder: Ladder,
    calendar: WorkingCalendar,
    fired: Collection[str],
    delivered: Mapping[str, dt.date] = NO_DELIVERIES,
) -> dt.date | None:
    """The earliest date on which something about ``task`` is (or becomes) due.

    A date in the past means something is due already (e.g. it fell outside working hours
    or during downtime): a sweep can skip every task whose date is after today. ``None``
    means nothing is due until a delivery is recorded (the next rung waits on it) or ever:
    the task is paused, closed, has no dates, or its ladder is exhausted. Messages go out
    from ``calendar.start_of_work(date)`` on that date.
    """
    if task.state != "open":
        return None
    dates = []
    for target in ladder_targets(task):
        step = _next(task, target, ladder, calendar, fired, delivered, None)
        if step is not None:
            dates.append(step.not_before)
    return min(dates, default=None)
