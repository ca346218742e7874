"""领导批示: a leading official's (or the office's) instruction on a task, and its answer.

The task's leading official (领衔领导) or the reform office records an instruction on a task:
its text and, optionally, the date by which the lead unit must answer it (答复时限). The lead
unit's liaison answers it once. An instruction is numbered within its task (the task's first
instruction is ``2024-01/1``); that number is its id, so recording the same number twice
collides and stores nothing.

`Instruction.Issued` carries `task_code`, `unit` (the task's lead unit when it was issued),
`text`, `answer_by`, `actor` and `at` (and `number`); `Instruction.Answered` carries `text`,
`actor` and `at`. Both record `via`, the web session or API token the person acted through
(`domain.roles.Identity.via`; None from the command line and in events stored before it).
The rules that need no store (`overdue`, `answered_in_time`, `parse_ref`) are pure functions
beside the aggregate.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from typing import ClassVar
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate, DomainEvent, event

from domain.dates import chinese_date
from domain.errors import DomainError, TaskNotFound
from domain.ids import natural_id

__all__ = [
    "Instruction",
    "InstructionAlreadyAnswered",
    "InstructionError",
    "InstructionNotFound",
    "InstructionRefInvalid",
    "answered_in_time",
    "instruction_id",
    "instruction_ref",
    "overdue",
    "parse_ref",
    "urge_seq",
]


class InstructionError(DomainError):
    """An instruction command its state does not allow."""

    code = "instruction_error"


class InstructionAlreadyAnswered(InstructionError):
    code = "instruction_already_answered"


class InstructionRefInvalid(InstructionError):
    code = "instruction_ref_invalid"


class InstructionNotFound(TaskNotFound):
    """No instruction has that number (answered as "not found", like a task)."""

    code = "instruction_not_found"


def instruction_id(task_code: str, number: int) -> UUID:
    return natural_id("instruction", task_code, str(number))


def instruction_ref(task_code: str, number: int) -> str:
    """The instruction's number as people write it: ``任务编号/序号``."""
    return f"{task_code}/{number}"


_REF = re.compile(r"^(?P<code>.+)/(?P<number>[1-9][0-9]{0,5})$")


def parse_ref(ref: str) -> tuple[str, int]:
    """``2024-01/3`` → ("2024-01", 3); anything else is refused with a Chinese message."""
    match = _REF.match(ref.strip())
    if match is None:
        raise InstructionRefInvalid(f"批示编号“{ref}”无法识别，应为“任务编号/序号”，如 2024-01/1")
    return match["code"].strip(), int(match["number"])


def overdue(answer_by: dt.date | None, answered: bool, today: dt.date) -> bool:
    """Past its answer date (the day after it) and not answered."""
    return answer_by is not None and not answered and today > answer_by


def answered_in_time(
    answer_by: dt.date | None, answered_at: dt.datetime | None, tz: dt.tzinfo | None = None
) -> bool:
    """Answered on or before its answer date (an instruction without one is never late)."""
    if answer_by is None:
        return True
    if answered_at is None:
        return False
    day = answered_at.astimezone(tz).date() if tz is not None else answered_at.date()
    return day <= answer_by


def urge_seq(
    answer_by: dt.date | None,
    urged: Sequence[tuple[int, dt.date]],
    today: dt.date,
    repeat_every: int,
    working_days_between: Callable[[dt.date, dt.date], int],
) -> int | None:
    """The number (0 first) of the urge due `today` for an unanswered instruction, or None.

    `urged` is (seq, day) of every urge already queued. The first urge is due on any day after
    the answer date; each next one `repeat_every` working days after the latest (never again
    when `repeat_every` is 0), so a sweep run twice, or after downtime, urges at most once."""
    if answer_by is None or today <= answer_by:
        return None
    if not urged:
        return 0
    if repeat_every <= 0:
        return None
    seq, day = max(urged)
    if working_days_between(day, today) < repeat_every:
        return None
    return seq + 1


class Instruction(Aggregate):
    """One 批示 on one task: issued, then answered once by the lead unit."""

    # The event classes the @event decorators below create (typed for dispatch and scans).
    Issued: ClassVar[type[DomainEvent]]
    Answered: ClassVar[type[DomainEvent]]

    @staticmethod
    def create_id(task_code: str, number: int = 0) -> UUID:
        # Numbered instructions (the application numbers them) have a natural id; an
        # unnumbered one (tests, other writers) gets a random id.
        return instruction_id(task_code, number) if number else uuid4()

    @event("Issued")
    def __init__(
        self,
        task_code: str,
        unit: str,
        text: str,
        answer_by: dt.date | None,
        actor: str,
        at: dt.datetime,
        number: int = 0,
        via: str | None = None,
    ) -> None:
        self.task_code = task_code
        self.unit = unit
        self.text = text
        self.answer_by = answer_by
        self.issued_by = actor
        self.issued_at = at
        self.number = number
        self.answer_text: str | None = None
        self.answered_by: str | None = None
        self.answered_at: dt.datetime | None = None

    @property
    def ref(self) -> str:
        return instruction_ref(self.task_code, self.number)

    @property
    def answered(self) -> bool:
        return self.answered_at is not None

    def overdue_on(self, today: dt.date) -> bool:
        return overdue(self.answer_by, self.answered, today)

    def answer(self, text: str, actor: str, at: dt.datetime, via: str | None = None) -> None:
        if self.answered:
            raise InstructionAlreadyAnswered(f"批示 {self.ref} 已于{_day(self.answered_at)}答复")
        if not text.strip():
            raise InstructionError("答复内容不能为空")
        self._answered(text=text, actor=actor, at=at, via=via)

    @event("Answered")
    def _answered(self, text: str, actor: str, at: dt.datetime, via: str | None = None) -> None:
        self.answer_text = text
        self.answered_by = actor
        self.answered_at = at


def _day(at: dt.datetime | None) -> str:
    return chinese_date(at)
