"""The ladder's definition: rungs, their validation, the default ladder of PRODUCT.md rule 3,
and what a task is laddered against (its deadline and milestones)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal, get_args

from domain.calendar import WorkingCalendar
from domain.ladder.keys import KEY_SEPARATOR
from domain.rungs import RUNG_NAMES, RungName, rung_label, rung_severity

__all__ = [
    "AUDIENCES",
    "CLAIM",
    "DEADLINE",
    "DEFAULT_CLAIM_RUNGS",
    "DEFAULT_LADDER",
    "MILESTONE_PREFIX",
    "Audience",
    "Ladder",
    "LadderError",
    "LadderTarget",
    "TaskLadderInput",
    "TaskState",
    "claim_deadline",
    "ladder_targets",
]

Audience = Literal["lead_unit", "co_units", "official", "office", "leaders"]
AUDIENCES: frozenset[Audience] = frozenset(get_args(Audience))

TaskState = Literal["open", "submitted", "closed"]
_TASK_STATES: frozenset[str] = frozenset(get_args(TaskState))

DEADLINE = "deadline"
MILESTONE_PREFIX = "milestone:"
CLAIM = "claim"
"""The target of the 签收 rungs: the date by which an assigned task must be claimed."""


_NAMED_RUNGS: dict[str, RungName] = {name: name for name in RUNG_NAMES}


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
        if KEY_SEPARATOR in self.name:
            msg = f"催办梯度「{self.name}」：名称不能包含“{KEY_SEPARATOR}”"
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

    @property
    def counts_as(self) -> RungName:
        """The one of the five named rungs this rung counts as: itself, or for a configured
        rung outside them the one of its severity (1 = notice … 5 = bulletin, clamped), as
        the digest groups it and the documents number it."""
        named = _NAMED_RUNGS.get(self.name)
        if named is not None:
            return named
        return RUNG_NAMES[min(max(self.severity, 1), len(RUNG_NAMES)) - 1]


@dataclass(frozen=True)
class Ladder:
    """The configured rungs, sorted by offset, plus the repeat, gap, milestone and 签收 rules.

    Validation names the offending rung: names must be unique, offsets strictly increasing
    and severities strictly increasing with them (so "higher" means the same thing in time
    and in urgency), ``repeat_every >= 0``, ``min_gap >= 1``; the claim rungs likewise.

    ``repeat_every``: once a deadline's top rung (通报) went out, it is repeated every that
    many working days after the previous one was delivered (0: never). ``repeat_rung`` is
    kept for old configurations and must, when given, name a rung: the top rung is what is
    repeated. ``min_gap``: a rung after the deadline goes out only that many working days
    after the rung below it was delivered to the lead unit's chat. ``claim_rungs`` are
    laddered against the 签收 deadline of an unclaimed task (``claim_within`` working days
    after assignment).
    """

    rungs: tuple[Rung, ...]
    repeat_every: int = 3
    repeat_rung: str = ""
    milestone_max_offset: int = 1
    min_gap: int = 1
    claim_rungs: tuple[Rung, ...] = ()
    claim_within: int = 3
    _by_name: dict[str, Rung] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.rungs, key=lambda r: r.offset))
        object.__setattr__(self, "rungs", ordered)
        _check_rungs(ordered)
        claim = tuple(sorted(self.claim_rungs, key=lambda r: r.offset))
        object.__setattr__(self, "claim_rungs", claim)
        _check_rungs(claim)
        object.__setattr__(self, "_by_name", {r.name: r for r in (*claim, *ordered)})
        if len(self._by_name) != len(ordered) + len(claim):
            clash = sorted({r.name for r in ordered} & {r.name for r in claim})[0]
            raise LadderError(f"签收梯度「{clash}」与催办梯度重名", clash)
        if self.repeat_every < 0:
            top = self.repeat_rung or (ordered[-1].name if ordered else "")
            msg = f"重复「{top}」的间隔 repeat_every 不能为负数（当前 {self.repeat_every}）"
            raise LadderError(msg, top or None)
        if self.repeat_rung and self.repeat_rung not in self._by_name:
            msg = f"重复催办所用的梯度「{self.repeat_rung}」不存在"
            raise LadderError(msg, self.repeat_rung)
        if self.min_gap < 1:
            msg = f"逐级升级的间隔 min_gap_working_days 至少为 1 个工作日（当前 {self.min_gap}）"
            raise LadderError(msg)
        if self.claim_within < 0:
            msg = f"签收时限 claim_within_working_days 不能为负数（当前 {self.claim_within}）"
            raise LadderError(msg)

    def rung(self, name: str) -> Rung:
        """The rung called ``name`` (of either ladder); ``LadderError`` if there is none."""
        try:
            return self._by_name[name]
        except KeyError:
            msg = f"催办梯度「{name}」不存在"
            raise LadderError(msg, name) from None

    def rungs_for(self, target: LadderTarget) -> tuple[Rung, ...]:
        """The rungs for ``target``: all for a deadline, the early ones for a milestone,
        the claim rungs for a 签收 deadline."""
        if target.is_claim:
            return self.claim_rungs
        if target.is_milestone:
            return tuple(r for r in self.rungs if r.offset <= self.milestone_max_offset)
        return self.rungs

    def repeats_for(self, target: LadderTarget) -> bool:
        """Whether ``target``'s top rung repeats: deadlines only, if ``repeat_every > 0``."""
        return self.repeat_every > 0 and target.target == DEADLINE


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


def _claim(name: str, offset: int, audience: set[Audience], severity: int) -> Rung:
    return Rung(name, offset, frozenset(audience), True, False, severity, rung_label(name))


DEFAULT_CLAIM_RUNGS: tuple[Rung, ...] = (
    _claim("claim_reminder", -1, {"lead_unit"}, 1),
    _claim("claim_due", 0, {"lead_unit"}, 2),
    _claim("claim_overdue", 1, {"lead_unit", "office"}, 3),
)
"""签收: the day before and on the claim deadline to the lead unit, then to the office."""

DEFAULT_LADDER = Ladder(
    rungs=(
        _default("notice", -5, {"lead_unit"}, mention=False),
        _default("reminder", -1, {"lead_unit"}, mention=True),
        _default("urge", 1, {"lead_unit", "co_units", "office"}, mention=True),
        _default("supervise", 5, {"lead_unit", "co_units", "office", "official"}, mention=True),
        _default(
            "bulletin", 10, {"lead_unit", "co_units", "office", "leaders"},
            mention=True, marks_assessment=True,
        ),
    ),
    repeat_every=3,
    claim_rungs=DEFAULT_CLAIM_RUNGS,
)  # fmt: skip
"""PRODUCT.md rules 3 and 4. Co-units join from 催办 on; every rung reaches the lead unit's
chat (the next one waits for its delivery there), the 通报 too, besides the office and the
leaders."""


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

    @property
    def is_claim(self) -> bool:
        """Whether this is the 签收 deadline of an unclaimed task."""
        return self.target == CLAIM


@dataclass(frozen=True)
class TaskLadderInput:
    """What the ladder needs to know about a task, taken from its projection.

    ``deadline`` is ``None`` for ongoing tasks (持续推进); ``milestones`` are (name, due)
    pairs, closed ones left out; ``state`` is "open", "submitted" (completion awaiting
    review: paused) or "closed" (completed or cancelled: stopped); ``claim_due`` is the
    签收 deadline while the task is unclaimed (``None`` once claimed). ``told_on`` is when
    the 交办 notice reached the lead unit's chat, ``told_pending`` whether one still waits
    to: the first rung after a due date follows the 交办 notice like any rung below it.
    """

    task_code: str
    deadline: dt.date | None
    milestones: tuple[tuple[str, dt.date], ...] = ()
    state: TaskState = "open"
    claim_due: dt.date | None = None
    told_on: dt.date | None = None
    told_pending: bool = False

    def __post_init__(self) -> None:
        if self.state not in _TASK_STATES:
            msg = f"未知任务状态 {self.state!r}（应为 open、submitted 或 closed）"
            raise ValueError(msg)


def claim_deadline(assigned_at: dt.datetime, calendar: WorkingCalendar, within: int) -> dt.date:
    """The 签收 deadline of a task assigned at ``assigned_at``: ``within`` working days after
    its date in the office's zone (what the 交办 notice says and the claim rungs ladder)."""
    return calendar.add_working_days(assigned_at.astimezone(calendar.tz).date(), within)


def ladder_targets(task: TaskLadderInput) -> tuple[LadderTarget, ...]:
    """The deadline and the milestones before it; milestones on or after it are dropped.

    A milestone listed twice with the same name and date is one target: it would otherwise
    yield the same reminder key twice in one sweep.
    """
    targets: dict[LadderTarget, None] = {}
    if task.claim_due is not None:
        targets[LadderTarget(task.task_code, CLAIM, task.claim_due)] = None
    if task.deadline is not None:
        targets[LadderTarget(task.task_code, DEADLINE, task.deadline)] = None
    for name, due in task.milestones:
        if task.deadline is not None and due >= task.deadline:
            continue
        targets[LadderTarget(task.task_code, MILESTONE_PREFIX + name, due)] = None
    return tuple(targets)
