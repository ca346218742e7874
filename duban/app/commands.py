"""Validated inputs: every command is a pydantic model checked before it reaches the domain.

Commands carry plain data only; the ledger turns them into aggregate method calls. The task
commands, with the ledger call and the success text of each, are described in
`duban.app.task_commands`.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)
from pydantic_core import PydanticCustomError

from domain.dates import in_range, out_of_range_message

TaskCode = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=40, pattern=r"^[0-9A-Za-z\-_.]+$"
    ),
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


def _day_in_range(value: dt.date) -> dt.date:
    """Every date a command carries lies in the product's range (`domain.dates`)."""
    if not in_range(value):
        raise PydanticCustomError("date_out_of_range", out_of_range_message(value))
    return value


Day = Annotated[dt.date, AfterValidator(_day_in_range)]

_URL = re.compile(r"^https?://\S+$")


class _Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: object) -> object:
        """Text every store can hold: PostgreSQL text refuses NUL, so nobody may send it."""
        texts = value if isinstance(value, tuple) else (value,)
        if any(isinstance(t, str) and "\x00" in t for t in texts):
            raise ValueError("文本不能包含空字符")
        return value


class FileChoice(_Command):
    """An uploaded evidence file a command attaches: its digest (from the upload's answer) and
    the name to show. Size and type come from the store, never from the caller."""

    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]


Files = Annotated[tuple[FileChoice, ...], Field(max_length=20)]


class Milestone(_Command):
    """节点: an intermediate deadline inside a task."""

    name: Name
    due: Day


class AssignTask(_Command):
    """交办: one row of the 改革要点 list as the office assigns it."""

    code: TaskCode
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    lead_unit: Name
    co_units: tuple[Name, ...] = ()
    official: Name | None = None
    group: Name | None = None
    area: Name | None = None
    deadline: Day | None = None
    deadline_text: str = ""
    milestones: tuple[Milestone, ...] = ()
    notes: Text = ""

    @field_validator("co_units")
    @classmethod
    def _co_units_unique(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        seen: list[str] = []
        for unit in value:
            if unit not in seen:
                seen.append(unit)
        return tuple(seen)


class Claim(_Command):
    """签收: nothing to fill in; who claims is the acting identity."""


class ReportProgress(_Command):
    """进展报送."""

    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
    percent: int = Field(ge=0, le=100)
    evidence: tuple[str, ...] = ()
    milestone: Name | None = None  # the 阶段节点 this report says is reached (the lead unit)
    files: Files = ()  # uploaded evidence files (`duban.app.evidence`)

    @field_validator("evidence")
    @classmethod
    def _links(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for link in value:
            if not _URL.match(link):
                raise ValueError("佐证材料须是网页链接（网址），暂不支持其他形式的地址")
        return value


class RequestExtension(_Command):
    """延期申请."""

    new_deadline: Day
    reason: Reason
    files: Files = ()


class DecideExtension(_Command):
    """Grant (optionally with a different date than asked) or deny an extension."""

    reason: Reason
    new_deadline: Day | None = None


class SubmitCompletion(_Command):
    """办结 submitted by the lead unit."""

    summary: Reason
    evidence: tuple[str, ...] = ()
    files: Files = ()


class Decision(_Command):
    """A decision that needs a reason: accept, return, cancel."""

    reason: Reason


class Recognise(_Command):
    """改革试点 / 改革典型 recognised at some level."""

    kind: Literal["pilot", "exemplar"]
    level: Literal["national", "provincial", "municipal", "county"]
    title: Name


class CloseMilestone(_Command):
    """The office records that a 阶段节点 is reached."""

    name: Name
    reason: Reason
