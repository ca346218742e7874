"""The read side as the API and the web board see it: the board, a task's row, the audit trail.

Everything comes from the projections (`projections.views`): each read first catches the view
up from its own position, so it includes the last stored event, whichever process wrote it.
Catch-ups of one process are serialised (the projections fold batches in memory); another
process advancing the same view meanwhile is handled by the runner.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import structlog

from domain.errors import TaskNotFound
from domain.task import task_id
from duban.app.services import Services
from projections.board import LIGHT_LABELS, apply_event, board_row
from projections.views import Views

__all__ = ["LIGHT_LABELS", "BoardQuery", "ReadModels", "UnitSummary", "unit_summaries"]

log = structlog.get_logger("duban.reads")


@dataclass(frozen=True)
class BoardQuery:
    """Filters of the board: a unit (lead or co-operating), a group, an official, a light."""

    unit: str | None = None
    group: str | None = None
    official: str | None = None
    light: str | None = None


class ReadModels:
    """The projections of one store, caught up before every read."""

    def __init__(self, services: Services) -> None:
        self.ledger = services.ledger
        self.tz = services.config.tz
        self.views: Views = services.views()
        self._catching_up = threading.Lock()

    def today(self) -> dt.date:
        return self.ledger.clock().astimezone(self.tz).date()

    def board(self, query: BoardQuery | None = None) -> list[dict[str, Any]]:
        """Board rows (the documented shape of `duban board --format json`), in list order."""
        query = query or BoardQuery()
        self._catch_up("board")
        rows = self.views.board.rows(
            self.today(), unit=query.unit, group=query.group, official=query.official
        )
        return [r for r in rows if query.light in (None, r["light"])]

    def task_row(self, code: str) -> dict[str, Any]:
        """One task's board row, folded from its own events (no need to wait for the view)."""
        facts: dict[str, dict[str, Any]] = {}
        for event in self.ledger.events.get(task_id(code)):
            apply_event(facts, event)
        if not facts:
            raise TaskNotFound(f"没有编号为 {code} 的任务")
        (only,) = facts.values()
        return board_row(only, self.today(), self.views.board.calendar, self.views.board.rules)

    def audit(self, task: str | None = None, since: dt.date | None = None) -> list[dict[str, Any]]:
        """The audit trail of one task (with its reminders and deliveries) or of everything."""
        self._catch_up("audit")
        return self.views.audit.entries(task=task, since=since)

    def _catch_up(self, name: str) -> None:
        with self._catching_up:
            self.views.catch_up(self.ledger, [name])


@dataclass(frozen=True)
class UnitSummary:
    """One lead unit's line in the charts: its tasks, their average completion, their lights."""

    unit: str
    tasks: int
    percent: float
    lights: dict[str, int]


def unit_summaries(rows: Iterable[dict[str, Any]]) -> list[UnitSummary]:
    by_unit: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_unit.setdefault(row["lead_unit"], []).append(row)
    return [_summary(unit, tasks) for unit, tasks in sorted(by_unit.items())]


def _summary(unit: str, tasks: list[dict[str, Any]]) -> UnitSummary:
    lights = {name: sum(1 for t in tasks if t["light"] == name) for name in LIGHT_LABELS}
    percent = sum(t["percent"] for t in tasks) / len(tasks)
    return UnitSummary(unit=unit, tasks=len(tasks), percent=round(percent, 1), lights=lights)
