"""The rules of the ladder (see the package doc): which reminder of a task is due now, and
from which date something will be due, from the dates, the calendar and what already fired."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import NamedTuple

from domain.calendar import WorkingCalendar
from domain.ladder.keys import ReminderKey, key_prefix
from domain.ladder.model import Ladder, LadderTarget, Rung, TaskLadderInput, ladder_targets

__all__ = ["DueReminder", "due_reminders", "next_fire_date"]


@dataclass(frozen=True)
class DueReminder:
    """A reminder that is due now: the scheduler issues it and records ``key`` as fired."""

    key: ReminderKey
    rung: Rung
    target: LadderTarget
    fire_date: dt.date

    @property
    def seq(self) -> int:
        """0 for the rung itself, k for its k-th re-urge."""
        return self.key.seq

    @property
    def is_repeat(self) -> bool:
        """Whether this is a re-urge rather than the rung's first firing."""
        return self.key.seq > 0

    @property
    def label(self) -> str:
        """Chinese label for the message: the rung's own, or 再次催办 for a re-urge.

        Re-urges are not numbered: one absorbed by a rung on the same day would leave a gap
        that readers take for a lost message.
        """
        if self.key.seq == 0:
            return self.rung.label
        return f"再次{self.rung.label}"


class _Position(NamedTuple):
    """Order of candidates within one target: later date first, then rung over re-urge."""

    ordinal: int
    is_rung: bool
    severity: int
    seq: int


class _Candidate(NamedTuple):
    rung: Rung
    seq: int
    fire_date: dt.date

    @property
    def position(self) -> _Position:
        return _Position(self.fire_date.toordinal(), self.seq == 0, self.rung.severity, self.seq)


def _rung_candidates(
    target: LadderTarget, ladder: Ladder, calendar: WorkingCalendar
) -> list[_Candidate]:
    """Every rung of ``target`` with its fire date (offset 0 rounds a non-working due forward)."""
    return [
        _Candidate(r, 0, calendar.add_working_days(target.due, r.offset))
        for r in ladder.rungs_for(target)
    ]


def _repeat_candidate(
    target: LadderTarget, ladder: Ladder, calendar: WorkingCalendar, seq: int
) -> _Candidate:
    """The ``seq``-th re-urge: ``repeat_every * seq`` working days after the urge rung."""
    rung = ladder.rung(ladder.repeat_rung)
    urge_day = calendar.add_working_days(target.due, rung.offset)
    fire_date = calendar.add_working_days(urge_day, ladder.repeat_every * seq)
    return _Candidate(rung, seq, fire_date)


def _repeats_done_by(
    target: LadderTarget, ladder: Ladder, calendar: WorkingCalendar, day: dt.date
) -> int:
    """How many re-urges of ``target`` have a fire date on or before ``day``."""
    rung = ladder.rung(ladder.repeat_rung)
    urge_day = calendar.add_working_days(target.due, rung.offset)
    if day <= urge_day:
        return 0
    return calendar.working_days_between(urge_day, day) // ladder.repeat_every


def _key(target: LadderTarget, candidate: _Candidate) -> ReminderKey:
    return ReminderKey(
        target.task_code, target.target, target.due, candidate.rung.name, candidate.seq
    )


_REPEAT_PROBE_RUN = 64
"""Fired re-urges are found by probing successive seqs; this many unfired in a row end it."""


def _key_prefix(target: LadderTarget, rung_name: str) -> str:
    return key_prefix(target.task_code, target.target, target.due, rung_name)


def _fired_rungs(
    target: LadderTarget, ladder: Ladder, calendar: WorkingCalendar, fired: Collection[str]
) -> list[_Candidate]:
    """The rungs (seq 0) of ``target`` whose keys already fired."""
    return [
        c
        for c in _rung_candidates(target, ladder, calendar)
        if _key_prefix(target, c.rung.name) + "0" in fired
    ]


def _highest_fired_repeat(
    target: LadderTarget,
    ladder: Ladder,
    calendar: WorkingCalendar,
    fired: Collection[str],
    start: int,
) -> _Candidate | None:
    """The fired re-urge with the highest seq >= ``start``, found by membership probes.

    Only membership is asked of ``fired``, so passing every key ever issued costs nothing
    extra. Fired seqs have gaps (re-urges absorbed by a rung, or skipped after downtime);
    the search ends after ``_REPEAT_PROBE_RUN`` unfired seqs in a row, about six months of
    re-urges, which only a clock that ran far ahead could exceed.
    """
    prefix = _key_prefix(target, ladder.repeat_rung)
    highest: int | None = None
    seq, misses = start, 0
    while misses < _REPEAT_PROBE_RUN:
        if prefix + str(seq) in fired:
            highest, misses = seq, 0
        else:
            misses += 1
        seq += 1
    return None if highest is None else _repeat_candidate(target, ladder, calendar, highest)


def _top_fired(
    target: LadderTarget,
    ladder: Ladder,
    calendar: WorkingCalendar,
    fired: Collection[str],
    repeats_from: int = 1,
) -> _Position | None:
    """The highest position fired for this (task, target, due), if any.

    Keys of rungs no longer configured, or no longer applying to the target, are ignored.
    Re-urges below ``repeats_from`` are not looked at (callers know they rank lower).
    """
    found = _fired_rungs(target, ladder, calendar, fired)
    if ladder.repeats_for(target):
        repeat = _highest_fired_repeat(target, ladder, calendar, fired, repeats_from)
        if repeat is not None:
            found.append(repeat)
    return max((c.position for c in found), default=None)


def _first_repeat_above(
    target: LadderTarget, ladder: Ladder, calendar: WorkingCalendar, candidate: _Candidate
) -> int:
    """The lowest re-urge seq ranked at or above ``candidate``."""
    if candidate.seq > 0:
        return candidate.seq
    if not ladder.repeats_for(target):
        return 1
    # re-urges on the candidate's own date rank below a rung
    return _repeats_done_by(target, ladder, calendar, candidate.fire_date) + 1


def _due_for_target(
    target: LadderTarget,
    ladder: Ladder,
    calendar: WorkingCalendar,
    today: dt.date,
    fired: Collection[str],
) -> DueReminder | None:
    """The one reminder of ``target`` to send on working day ``today``, if any."""
    candidates = [c for c in _rung_candidates(target, ladder, calendar) if c.fire_date <= today]
    if ladder.repeats_for(target):
        done = _repeats_done_by(target, ladder, calendar, today)
        if done >= 1:
            candidates.append(_repeat_candidate(target, ladder, calendar, done))
    if not candidates:
        return None
    best = max(candidates, key=lambda c: c.position)
    repeats_from = _first_repeat_above(target, ladder, calendar, best)
    top = _top_fired(target, ladder, calendar, fired, repeats_from)
    if top is not None and top >= best.position:
        return None
    return DueReminder(_key(target, best), best.rung, target, best.fire_date)


def due_reminders(
    task: TaskLadderInput,
    ladder: Ladder,
    calendar: WorkingCalendar,
    now: dt.datetime,
    fired: Collection[str],
) -> list[DueReminder]:
    """What to send about ``task`` at ``now``: at most one reminder per target.

    ``fired`` holds the ``as_str()`` of the keys already issued, the task's own or every
    key ever issued: it is only asked about membership, so make it a set. Nothing is due
    outside working hours, or while the task is submitted or closed. The result is
    ordered most urgent first.
    """
    working = calendar.is_working_time(now)  # also rejects a naive ``now``
    if task.state != "open" or not working:
        return []
    today = now.astimezone(calendar.tz).date()
    found = [_due_for_target(t, ladder, calendar, today, fired) for t in ladder_targets(task)]
    due = [r for r in found if r is not None]
    return sorted(due, key=lambda r: (-r.rung.severity, r.fire_date, r.target.target))


def _next_for_target(
    target: LadderTarget, ladder: Ladder, calendar: WorkingCalendar, fired: Collection[str]
) -> dt.date | None:
    """Fire date of the lowest-positioned candidate above everything already fired."""
    top = _top_fired(target, ladder, calendar, fired)
    pending = [
        c for c in _rung_candidates(target, ladder, calendar) if top is None or c.position > top
    ]
    if ladder.repeats_for(target):
        last = None if top is None else dt.date.fromordinal(top.ordinal)
        first = 1 if last is None else max(_repeats_done_by(target, ladder, calendar, last), 1)
        for seq in (first, first + 1):
            repeat = _repeat_candidate(target, ladder, calendar, seq)
            if top is None or repeat.position > top:
                pending.append(repeat)
                break
    return min((c.fire_date for c in pending), default=None)


def next_fire_date(
    task: TaskLadderInput,
    ladder: Ladder,
    calendar: WorkingCalendar,
    fired: Collection[str],
) -> dt.date | None:
    """The earliest date on which something about ``task`` is (or becomes) due.

    A date in the past means something is due already (e.g. it fell outside working hours
    or during downtime): a sweep can skip every task whose date is after today. ``None``
    means nothing will ever be due: the task is paused, closed, has no dates, or its
    ladder is exhausted (only possible without re-urges). Messages go out from
    ``calendar.start_of_work(date)`` on that date.
    """
    if task.state != "open":
        return None
    dates = [_next_for_target(t, ladder, calendar, fired) for t in ladder_targets(task)]
    return min((d for d in dates if d is not None), default=None)
