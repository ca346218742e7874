"""催办梯度: the reminder ladder, as pure rules over dates, a calendar and what already fired.

A task's deadline (and each of its milestones) is a *target*. Every rung of the ladder sits
a number of working days (``offset``) from the target's due date: negative before it,
positive after it, zero on it. ``calendar.add_working_days(due, offset)`` is the rung's
*fire date*; the rung is due from the start of working hours on that date.

Rules (PRODUCT.md rules 3 and 4):

* Each reminder is identified by a ``ReminderKey`` (task, target, due date, rung, seq). Its
  string form is stable and is what the scheduler hashes for idempotency; a granted
  extension changes ``due`` and so restarts the ladder against the new date.
* Reminders go out only inside working hours: outside them nothing is due.
* Candidates of one target are ordered by *position* = (fire date, rung before re-urge on
  the same date, severity, seq). A sweep returns, per target, only the highest-positioned
  due candidate, and only if nothing at that position or higher has already fired. So
  after downtime only the highest due rung goes out (stale ones are skipped for good),
  a rung never fires twice, and the ladder never steps back down.
* Re-urge: once the task is overdue, the ``repeat_rung`` ("urge") is re-sent every
  ``repeat_every`` working days after its own fire date, as seq 1, 2, ... They continue
  after supervise and bulletin (an overdue task keeps being urged) but never step back in
  time: a re-urge falling on the same date as a ladder rung is absorbed by the rung.
* Milestones (节点) get only the rungs with ``offset <= milestone_max_offset`` (default 1:
  notice, reminder, urge) and no re-urges: once a milestone is missed, the deadline's own
  ladder carries the escalation. A milestone due on or after the current deadline is
  ignored, because the deadline's ladder already covers that date.
* A task whose completion awaits review ("submitted") is paused; a closed one (completed or
  cancelled) stops. Neither gets anything.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Literal, NamedTuple, get_args

from domain.calendar import WorkingCalendar
from domain.rungs import rung_label, rung_severity

__all__ = [
    "AUDIENCES",
    "DEADLINE",
    "DEFAULT_LADDER",
    "MILESTONE_PREFIX",
    "Audience",
    "DueReminder",
    "Ladder",
    "LadderError",
    "LadderTarget",
    "ReminderKey",
    "Rung",
    "TaskLadderInput",
    "TaskState",
    "due_reminders",
    "ladder_targets",
    "next_fire_date",
]

Audience = Literal["lead_unit", "co_units", "official", "office", "leaders"]
AUDIENCES: frozenset[Audience] = frozenset(get_args(Audience))

TaskState = Literal["open", "submitted", "closed"]
_TASK_STATES: frozenset[str] = frozenset(get_args(TaskState))

DEADLINE = "deadline"
MILESTONE_PREFIX = "milestone:"

_SEP = "|"
_ESC = "\\"


class LadderError(ValueError):
    """An invalid ladder configuration; ``rung`` names the offending rung when there is one."""

    def __init__(self, message: str, rung: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.rung = rung


# -- rungs and ladders ------------------------------------------------------------------


@dataclass(frozen=True)
class Rung:
    """One step of the ladder.

    ``offset`` is in working days relative to the due date (negative before). ``severity``
    orders rungs by urgency (higher is more urgent) and must grow with ``offset``.
    ``mention`` asks the notifier to @-mention the unit's liaisons; ``marks_assessment``
    marks the reminder for the annual assessment (年督考).
    """

    name: str
    offset: int
    audience: frozenset[Audience]
    mention: bool
    marks_assessment: bool
    severity: int
    label: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "audience", frozenset(self.audience))
        shown = self.name or "(空)"
        if not self.name.strip() or self.name != self.name.strip():
            msg = f"催办梯度「{shown}」：名称不能为空或首尾带空格"
            raise LadderError(msg, self.name)
        if _SEP in self.name:
            msg = f"催办梯度「{self.name}」：名称不能包含“{_SEP}”"
            raise LadderError(msg, self.name)
        if not self.audience:
            msg = f"催办梯度「{self.name}」：至少要有一个接收对象"
            raise LadderError(msg, self.name)
        unknown = sorted(str(a) for a in self.audience - AUDIENCES)
        if unknown:
            allowed = "、".join(sorted(AUDIENCES))
            msg = f"催办梯度「{self.name}」：未知接收对象 {'、'.join(unknown)}（可选：{allowed}）"
            raise LadderError(msg, self.name)
        if not self.label.strip():
            msg = f"催办梯度「{self.name}」：缺少中文名称（label）"
            raise LadderError(msg, self.name)


@dataclass(frozen=True)
class Ladder:
    """The configured rungs, sorted by offset, plus the re-urge and milestone rules.

    Validation names the offending rung: names must be unique, offsets strictly increasing
    and severities strictly increasing with them (so "higher" means the same thing in time
    and in urgency), ``repeat_every >= 0`` and, when re-urging, the ``repeat_rung`` exists.
    """

    rungs: tuple[Rung, ...]
    repeat_every: int = 3
    repeat_rung: str = "urge"
    milestone_max_offset: int = 1
    _by_name: dict[str, Rung] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.rungs, key=lambda r: r.offset))
        object.__setattr__(self, "rungs", ordered)
        _check_rungs(ordered)
        object.__setattr__(self, "_by_name", {r.name: r for r in ordered})
        if self.repeat_every < 0:
            msg = (
                f"重复催办「{self.repeat_rung}」的间隔 repeat_every 不能为负数"
                f"（当前 {self.repeat_every}）"
            )
            raise LadderError(msg, self.repeat_rung)
        if self.repeat_every > 0 and self.repeat_rung not in self._by_name:
            msg = f"重复催办所用的梯度「{self.repeat_rung}」不存在"
            raise LadderError(msg, self.repeat_rung)

    def rung(self, name: str) -> Rung:
        """The rung called ``name``; ``LadderError`` if there is none."""
        try:
            return self._by_name[name]
        except KeyError:
            msg = f"催办梯度「{name}」不存在"
            raise LadderError(msg, name) from None

    def rungs_for(self, target: LadderTarget) -> tuple[Rung, ...]:
        """The rungs for ``target``: all for a deadline, the early ones for a milestone."""
        if target.is_milestone:
            return tuple(r for r in self.rungs if r.offset <= self.milestone_max_offset)
        return self.rungs

    def repeats_for(self, target: LadderTarget) -> bool:
        """Whether ``target`` is re-urged: deadlines only, and only if ``repeat_every > 0``."""
        return self.repeat_every > 0 and not target.is_milestone


def _check_rungs(ordered: tuple[Rung, ...]) -> None:
    """Raise ``LadderError`` for duplicate names or non-increasing offsets / severities."""
    seen: set[str] = set()
    for previous, rung in zip((None, *ordered), ordered, strict=False):
        if rung.name in seen:
            msg = f"催办梯度「{rung.name}」重复定义"
            raise LadderError(msg, rung.name)
        seen.add(rung.name)
        if previous is None:
            continue
        if rung.offset == previous.offset:
            msg = (
                f"催办梯度「{rung.name}」的偏移量 {rung.offset} 与「{previous.name}」相同："
                "偏移量必须严格递增"
            )
            raise LadderError(msg, rung.name)
        if rung.severity <= previous.severity:
            msg = (
                f"催办梯度「{rung.name}」的紧急程度 {rung.severity} 不高于更早的"
                f"「{previous.name}」（{previous.severity}）：紧急程度必须随偏移量严格递增"
            )
            raise LadderError(msg, rung.name)


def _default(
    name: str,
    offset: int,
    audience: set[Audience],
    *,
    mention: bool,
    marks_assessment: bool = False,
) -> Rung:
    """One of the five named rungs, its severity and label from `domain.rungs`."""
    return Rung(
        name, offset, frozenset(audience), mention, marks_assessment,
        rung_severity(name), rung_label(name),
    )  # fmt: skip


DEFAULT_LADDER = Ladder(
    rungs=(
        _default("notice", -5, {"lead_unit"}, mention=False),
        _default("reminder", -1, {"lead_unit"}, mention=True),
        _default("urge", 1, {"lead_unit", "office"}, mention=True),
        _default("supervise", 5, {"lead_unit", "office", "official"}, mention=True),
        _default("bulletin", 10, {"office", "leaders"}, mention=False, marks_assessment=True),
    ),
    repeat_every=3,
)
"""PRODUCT.md rule 3. Escalations after the deadline keep @-mentioning the liaisons in the
lead unit's chat; the bulletin goes to the office and the leaders, where liaisons are not."""


# -- what is laddered -------------------------------------------------------------------


@dataclass(frozen=True)
class LadderTarget:
    """One date a task is laddered against: its deadline or one milestone ("milestone:<name>")."""

    task_code: str
    target: str
    due: dt.date

    @property
    def is_milestone(self) -> bool:
        """Whether this is a milestone (节点) rather than the deadline."""
        return self.target.startswith(MILESTONE_PREFIX)


@dataclass(frozen=True)
class TaskLadderInput:
    """What the ladder needs to know about a task, taken from its projection.

    ``deadline`` is ``None`` for ongoing tasks (持续推进); ``milestones`` are (name, due)
    pairs; ``state`` is "open", "submitted" (completion awaiting review: paused) or
    "closed" (completed or cancelled: stopped).
    """

    task_code: str
    deadline: dt.date | None
    milestones: tuple[tuple[str, dt.date], ...] = ()
    state: TaskState = "open"

    def __post_init__(self) -> None:
        if self.state not in _TASK_STATES:
            msg = f"未知任务状态 {self.state!r}（应为 open、submitted 或 closed）"
            raise ValueError(msg)


def ladder_targets(task: TaskLadderInput) -> tuple[LadderTarget, ...]:
    """The deadline and the milestones before it; milestones on or after it are dropped.

    A milestone listed twice with the same name and date is one target: it would otherwise
    yield the same reminder key twice in one sweep.
    """
    targets: dict[LadderTarget, None] = {}
    if task.deadline is not None:
        targets[LadderTarget(task.task_code, DEADLINE, task.deadline)] = None
    for name, due in task.milestones:
        if task.deadline is not None and due >= task.deadline:
            continue
        targets[LadderTarget(task.task_code, MILESTONE_PREFIX + name, due)] = None
    return tuple(targets)


# -- keys ---------------------------------------------------------------------------------


def _escape(part: str) -> str:
    """Escape the separator so that ``as_str`` stays injective whatever the names contain."""
    return part.replace(_ESC, _ESC + _ESC).replace(_SEP, _ESC + _SEP)


def _split(text: str) -> list[str]:
    """Split on unescaped separators and unescape each part (inverse of ``_escape``)."""
    parts: list[str] = []
    current: list[str] = []
    chars = iter(text)
    for char in chars:
        if char == _ESC:
            current.append(next(chars, ""))
        elif char == _SEP:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


@dataclass(frozen=True)
class ReminderKey:
    """Identity of one reminder: rule 4's (task, the date it is about, rung), plus re-urge seq."""

    task_code: str
    target: str
    due: dt.date
    rung: str
    seq: int = 0

    def as_str(self) -> str:
        """Stable text form, e.g. ``2024-07|deadline|2024-06-30|urge|0``, for uuid5 ids.

        A "|" or "\\" inside a component is escaped with "\\", so distinct keys never
        share a string.
        """
        parts = (self.task_code, self.target, self.due.isoformat(), self.rung, str(self.seq))
        return _SEP.join(_escape(p) for p in parts)

    @classmethod
    def parse(cls, text: str) -> ReminderKey:
        """Inverse of ``as_str``; ``ValueError`` for text that is not a reminder key."""
        parts = _split(text)
        if len(parts) != 5:
            msg = f"不是催办提醒标识：{text!r}"
            raise ValueError(msg)
        task_code, target, due, rung, seq = parts
        return cls(task_code, target, dt.date.fromisoformat(due), rung, int(seq))


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


# -- the rules ----------------------------------------------------------------------------


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
    """``as_str()`` of the target's keys for ``rung_name`` up to the seq, for cheap probes."""
    parts = (target.task_code, target.target, target.due.isoformat(), rung_name)
    return "".join(_escape(p) + _SEP for p in parts)


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
