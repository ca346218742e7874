"""督办单 and 通报 as facts: one `DocumentSequence` per kind and year numbers them.

A document's number is its position in its year's sequence: the `Numbered` events of one
aggregate, appended in the same save as the sweep's `Reminder` and `EscalationRecorded`
events. Two writers numbering at once both load version n and both try to write version n+1:
the store's optimistic concurrency lets one win, the loser's whole save fails (reminders,
escalations and messages with it) and it plans again from the new state. So no number is
given twice and none is skipped, and a number never exists without the escalation it records.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate, DomainEvent, event

from domain.document_number import KindName, format_number
from domain.errors import DomainError
from domain.ids import natural_id

__all__ = ["AlreadyNumbered", "DocumentSequence"]


class AlreadyNumbered(DomainError):
    code = "already_numbered"


class DocumentSequence(Aggregate):
    """The 督办单 (or 通报) of one year, in the order they were numbered."""

    # The event classes the @event decorators below create (typed for dispatch and scans).
    Opened: ClassVar[type[DomainEvent]]
    Numbered: ClassVar[type[DomainEvent]]

    @staticmethod
    def create_id(kind: str, year: int) -> UUID:
        return natural_id("document-sequence", kind, str(year))

    @event("Opened")
    def __init__(self, kind: KindName, year: int, actor: str, at: dt.datetime) -> None:
        self.kind: KindName = kind
        self.year = year
        self.documents: list[dict[str, Any]] = []
        self.by_key: dict[str, int] = {}

    @property
    def count(self) -> int:
        return len(self.documents)

    def number(
        self,
        office: str,
        reminder_key: str,
        task_code: str,
        unit: str,
        title: str,
        rung: str,
        target: str,
        due: dt.date,
        reason: str,
        actor: str,
        at: dt.datetime,
    ) -> str:
        """Give the next number to the 督办 / 通报 of `reminder_key` (once: it is its rung)."""
        if reminder_key in self.by_key:
            seq = self.by_key[reminder_key]
            raise AlreadyNumbered(
                f"提醒 {reminder_key} 已编号为 {self.documents[seq - 1]['number']}"
            )
        seq = self.count + 1
        number = format_number(office, self.kind, self.year, seq)
        self._numbered(
            seq=seq,
            number=number,
            reminder_key=reminder_key,
            task_code=task_code,
            unit=unit,
            title=title,
            rung=rung,
            target=target,
            due=due,
            reason=reason,
            actor=actor,
            at=at,
        )
        return number

    def document(self, seq: int) -> dict[str, Any] | None:
        return self.documents[seq - 1] if 1 <= seq <= self.count else None

    @event("Numbered")
    def _numbered(
        self,
        seq: int,
        number: str,
        reminder_key: str,
        task_code: str,
        unit: str,
        title: str,
        rung: str,
        target: str,
        due: dt.date,
        reason: str,
        actor: str,
        at: dt.datetime,
    ) -> None:
        self.documents.append(
            {
                "seq": seq,
                "number": number,
                "reminder_key": reminder_key,
                "task_code": task_code,
                "unit": unit,
                "title": title,
                "rung": rung,
                "target": target,
                "due": due,
                "reason": reason,
                "at": at,
            }
        )
        self.by_key[reminder_key] = seq
