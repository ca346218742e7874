"""月度报送轮次: the monthly collection of progress reports, the input of 月分析.

A round is identified by its month ("2024-03"), so opening it twice collides on the id. It
records which lead unit owes a report on which task, the reminder sent to those still
missing it, and, when it closes, every report that came late and every one that never came,
each naming its task, so that the assessment (monthly report late / missing) and the audit
trail can point at the event behind every point.
"""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import DomainError
from domain.ids import natural_id

__all__ = ["ReportRound", "RoundClosed", "round_id"]


class RoundClosed(DomainError):
    """The round is closed: its outcome is final."""

    code = "round_closed"


def round_id(month: str) -> UUID:
    return natural_id("report_round", month)


class ReportRound(Aggregate):
    """One month's round: opened, maybe reminded once, closed with its late and missing."""

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
    ) -> None:
        self.month = month
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
