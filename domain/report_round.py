"""月度报送轮次: the monthly collection of progress reports, the input of 月分析.

A round is identified by its month ("2024-03"), so opening it twice collides on the id. It
records which lead unit owes a report on which task, the reminder sent to those still
missing it, and, when it closes, every report that came late and every one that never came,
each naming its task, so that the assessment (monthly report late / missing) and the audit
trail can point at the event behind every point.

The round rule, one for the rounds (`duban.app.monthly_rounds`) and the reports and the
assessment (`projections.report_outcomes`):

* a month's round is dated its **opening day**, the first working day of the month
  (`round_opening_date`): a round is never dated on a holiday. Opening it on 2024-10-01
  (国庆) gives a round dated 2024-10-08, whenever the scheduler actually ran;
* it is **due** `due_working_days` working days after the opening day (`round_due_date`;
  the opening day itself does not count): March 2024 opens Fri 03-01 and, with 5 days, is
  due Fri 03-08;
* a task's progress report counts for the round of the month it was made in (office-local
  day): on or before the due date it is on time, after it and still in the month it is late,
  no report in the month is missing (`report_timing`).
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar, Protocol
from uuid import UUID

from eventsourcing.domain import Aggregate, DomainEvent, event

from domain.errors import DomainError
from domain.ids import natural_id

__all__ = [
    "ReportRound",
    "RoundClosed",
    "month_bounds",
    "report_timing",
    "round_due_date",
    "round_id",
    "round_opening_date",
]


class RoundClosed(DomainError):
    """The round is closed: its outcome is final."""

    code = "round_closed"


def round_id(month: str) -> UUID:
    return natural_id("report_round", month)


class _Calendar(Protocol):
    def add_working_days(self, day: dt.date, n: int) -> dt.date: ...


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    """The first and the last day of `month` (YYYY-MM)."""
    first = dt.date.fromisoformat(f"{month}-01")
    last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    return first, last


def round_opening_date(month: str, calendar: _Calendar) -> dt.date:
    """The day a month's round is dated: the first working day of the month."""
    return calendar.add_working_days(month_bounds(month)[0], 0)


def round_due_date(month: str, calendar: _Calendar, due_working_days: int) -> dt.date:
    """The due date of a month's round: `due_working_days` working days after its opening
    day (the opening day does not count)."""
    return calendar.add_working_days(round_opening_date(month, calendar), due_working_days)


def report_timing(month: str, due: dt.date, day: dt.date) -> str | None:
    """How a report made on `day` counts for `month`'s round due on `due`: "on_time",
    "late", or None (not in the month: it does not count for this round)."""
    first, last = month_bounds(month)
    if not first <= day <= last:
        return None
    return "on_time" if day <= due else "late"


class ReportRound(Aggregate):
    """One month's round: opened, maybe reminded once, closed with its late and missing."""

    # The event classes the @event decorators below create (typed for dispatch and scans).
    Opened: ClassVar[type[DomainEvent]]
    Reminded: ClassVar[type[DomainEvent]]
    ReportLate: ClassVar[type[DomainEvent]]
    ReportMissing: ClassVar[type[DomainEvent]]
    Closed: ClassVar[type[DomainEvent]]

    @staticmethod
    def create_id(month: str) -> UUID:
        return round_id(month)

    @event("Opened")
    def __init__(
        self,
        month: str,
        due_date: dt.date,
        expected: dict[str, list[str]],
        actor: str,
        at: dt.datetime,
        opened_on: dt.date | None = None,
    ) -> None:
        self.month = month
        # The day the round is dated (its first working day); rounds opened before this
        # field existed were dated the day they were opened.
        self.opened_on = opened_on or at.date()
        self.due_date = due_date
        self.expected = {unit: list(codes) for unit, codes in expected.items()}
        self.opened_at = at
        self.reminded = False
        self.closed = False
        self.late: list[dict[str, str]] = []
        self.missing: list[dict[str, str]] = []

    def remind(self, units: list[str], actor: str, at: dt.datetime) -> None:
        self._require_open()
        self._reminded(units=list(units), actor=actor, at=at)

    def record_late(
        self, unit: str, task_code: str, reported_at: dt.datetime, actor: str, at: dt.datetime
    ) -> None:
        self._require_open()
        self._report_late(
            unit=unit, task_code=task_code, reported_at=reported_at, actor=actor, at=at
        )

    def record_missing(self, unit: str, task_code: str, actor: str, at: dt.datetime) -> None:
        self._require_open()
        self._report_missing(unit=unit, task_code=task_code, actor=actor, at=at)

    def close(self, actor: str, at: dt.datetime) -> None:
        self._require_open()
        self._closed(actor=actor, at=at)

    def _require_open(self) -> None:
        if self.closed:
            raise RoundClosed(f"{self.month} 月度报送轮次已关闭")

    @event("Reminded")
    def _reminded(self, units: list[str], actor: str, at: dt.datetime) -> None:
        self.reminded = True

    @event("ReportLate")
    def _report_late(
        self, unit: str, task_code: str, reported_at: dt.datetime, actor: str, at: dt.datetime
    ) -> None:
        self.late.append({"unit": unit, "task_code": task_code})

    @event("ReportMissing")
    def _report_missing(self, unit: str, task_code: str, actor: str, at: dt.datetime) -> None:
        self.missing.append({"unit": unit, "task_code": task_code})

    @event("Closed")
    def _closed(self, actor: str, at: dt.datetime) -> None:
        self.closed = True
