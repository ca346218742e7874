"""追责问责: a measure the office takes against a unit for a task (约谈, 通报批评, 问责).

`AccountabilityMeasure.Recorded` carries `task_code`, `unit`, `kind` (the code: "interview"
约谈 | "criticism" 通报批评 | "accountability" 问责), `reason`, `document_no` (文号), `actor`,
`at` and, optionally, `on` (the measure's own date when it differs from the day it was
recorded). The id is the task, the unit and the document number: recording the same measure
twice collides and stores nothing. `parse_kind` accepts the code or the Chinese name.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate, DomainEvent, event

from domain.errors import DomainError
from domain.ids import natural_id

__all__ = [
    "KINDS",
    "KIND_LABELS",
    "AccountabilityError",
    "AccountabilityMeasure",
    "measure_id",
    "parse_kind",
]

KIND_LABELS: dict[str, str] = {
    "interview": "约谈",
    "criticism": "通报批评",
    "accountability": "问责",
}
KINDS = tuple(KIND_LABELS)
_BY_LABEL = {label: code for code, label in KIND_LABELS.items()}


class AccountabilityError(DomainError):
    code = "accountability_error"


def parse_kind(text: str) -> str:
    """The kind's code from its code or its Chinese name; anything else is refused."""
    value = text.strip()
    if value in KIND_LABELS:
        return value
    if value in _BY_LABEL:
        return _BY_LABEL[value]
    names = "、".join(KIND_LABELS.values())
    raise AccountabilityError(f"问责方式“{text}”无法识别，应为{names}之一")


def measure_id(task_code: str, unit: str, document_no: str) -> UUID:
    return natural_id("accountability", task_code, unit, document_no.strip())


class AccountabilityMeasure(Aggregate):
    """One 约谈 / 通报批评 / 问责 of one unit for one task, under one document number."""

    # The event classes the @event decorators below create (typed for dispatch and scans).
    Recorded: ClassVar[type[DomainEvent]]

    @staticmethod
    def create_id(task_code: str, unit: str, document_no: str) -> UUID:
        return measure_id(task_code, unit, document_no)

    @classmethod
    def record(
        cls,
        task_code: str,
        unit: str,
        kind: str,
        reason: str,
        document_no: str,
        actor: str,
        at: dt.datetime,
        on: dt.date | None = None,
    ) -> AccountabilityMeasure:
        """Checks the rule (the kind, a reason, a document number), then records the fact."""
        code = parse_kind(kind)
        if not reason.strip():
            raise AccountabilityError("问责事由不能为空")
        if not document_no.strip():
            raise AccountabilityError("文号不能为空")
        return cls(
            task_code=task_code,
            unit=unit,
            kind=code,
            reason=reason.strip(),
            document_no=document_no.strip(),
            actor=actor,
            at=at,
            on=on,
        )

    @event("Recorded")
    def __init__(
        self,
        task_code: str,
        unit: str,
        kind: str,
        reason: str,
        document_no: str,
        actor: str,
        at: dt.datetime,
        on: dt.date | None = None,
    ) -> None:
        self.task_code = task_code
        self.unit = unit
        self.kind = kind
        self.reason = reason
        self.document_no = document_no
        self.recorded_by = actor
        self.recorded_at = at
        self.on = on

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    @property
    def day(self) -> dt.date:
        """The measure's date: its own when given, else the day it was recorded."""
        return self.on if self.on is not None else self.at_date

    @property
    def at_date(self) -> dt.date:
        return self.recorded_at.date()
