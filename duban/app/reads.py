"""The read side as the entry points see it: the board (now or as it stood), a task's row, the
audit trail, the hash chain, and rebuilding the projections.

Everything comes from the projections (`projections.views`): each read first catches the view
up from its own position, so it includes the last stored event, whichever process wrote it.
Catch-ups of one process are serialised (the projections fold batches in memory); another
process advancing the same view meanwhile is handled by the runner.

The board filter is `BoardQuery`, the one the CLI, the API and the web board all use: the unit
(lead or co-operating), group and official are the board projection's own filter, the light is
chosen here.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

from domain.directory import in_config_order
from domain.errors import TaskNotFound
from domain.task import task_id
from duban.app.services import Services
from projections.asof import board_as_of
from projections.audit import TrailQuery
from projections.board import BOARD_COLUMNS, LIGHT_LABELS, apply_event, board_row
from projections.chain import ChainHead, Verification
from projections.runner import Progress, Projection, stderr_progress
from projections.runner import rebuild as rebuild_projection
from projections.views import NAMES, Views

__all__ = [
    "BOARD_COLUMNS",
    "LIGHT_LABELS",
    "OPERATIONAL",
    "PROJECTIONS",
    "BoardQuery",
    "ChainHead",
    "ReadModels",
    "TrailQuery",
    "UnitSummary",
    "Verification",
    "in_config_order",
    "unit_summaries",
]

# The sweep's due index and the deliverer's outbox are projections too, kept beside their users.
OPERATIONAL = ("due", "outbox")
PROJECTIONS = (*NAMES, *OPERATIONAL)


class FactFilters(TypedDict):
    unit: str | None
    group: str | None
    official: str | None


@dataclass(frozen=True)
class BoardQuery:
    """Filters of the board: a unit (lead or co-operating), a group, an official, a light."""

    unit: str | None = None
    group: str | None = None
    official: str | None = None
    light: str | None = None

    def facts(self) -> FactFilters:
        """The filters the board projection applies to the tasks' facts."""
        return {"unit": self.unit, "group": self.group, "official": self.official}

    def lit(self, rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """The rows of the chosen light (all of them when no light is chosen)."""
        return [r for r in rows if self.light in (None, r["light"])]


class ReadModels:
    """The projections of one store, caught up before every read."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.ledger = services.ledger
        self.tz = services.config.tz
        self.views: Views = services.views()
        self._catching_up = threading.Lock()

    def today(self) -> dt.date:
        return self.ledger.clock().astimezone(self.tz).date()

    # ---- the board -----------------------------------------------------------------------

    def board(self, query: BoardQuery | None = None) -> list[dict[str, Any]]:
        """Board rows (the documented shape of `duban board --format json`), in list order."""
        query = query or BoardQuery()
        self.catch_up(["board"])
        return query.lit(self.views.board.rows(self.today(), **query.facts()))

    def board_as_of(
        self, query: BoardQuery, *, on: dt.date | None = None, position: int | None = None
    ) -> list[dict[str, Any]]:
        """The board as it stood on a day or after an event position, from the events alone."""
        calendar = self.views.board.calendar
        rows = board_as_of(
            self.ledger, on=on, position=position, calendar=calendar, **query.facts()
        )
        return query.lit(rows)

    def task_row(self, code: str) -> dict[str, Any]:
        """One task's board row, folded from its own events (no need to wait for the view)."""
        facts: dict[str, dict[str, Any]] = {}
        for event in self.ledger.events.get(task_id(code)):
            apply_event(facts, event)
        if not facts:
            raise TaskNotFound(f"没有编号为 {code} 的任务")
        (only,) = facts.values()
        return board_row(only, self.today(), self.views.board.calendar, self.views.board.rules)

    # ---- the audit trail and the chain ------------------------------------------------------

    def audit(self, task: str | None = None, since: dt.date | None = None) -> list[dict[str, Any]]:
        """The audit trail of one task (with its reminders and deliveries) or of everything."""
        self.catch_up(["audit"])
        return self.views.audit.entries(task=task, since=since)

    def audit_page(self, query: TrailQuery, limit: int) -> list[dict[str, Any]]:
        """One page of the trail (`TrailQuery`): its cost does not grow with the history."""
        self.catch_up(["audit"])
        return self.views.audit.page(query, limit)

    def verify_chain(self, head: ChainHead | None = None) -> Verification:
        """Recompute the hash chain from the stored rows (and check a posted head)."""
        return self.views.chain.verify(head)

    def chain_head(self) -> ChainHead | None:
        """The chain's head after extending it to the last stored event."""
        self.catch_up(["chain"])
        return self.views.chain.head()

    # ---- catching up and rebuilding --------------------------------------------------------

    def catch_up(self, names: Sequence[str] = NAMES) -> None:
        with self._catching_up:
            self.views.catch_up(self.ledger, names)

    def rebuild(self, names: Sequence[str], *, progress: bool = False) -> dict[str, int]:
        """Drop the named projections (of `PROJECTIONS`) and process every event again, with
        progress lines on stderr when asked; the position each one reached."""

        def line() -> Progress | None:
            return stderr_progress() if progress else None

        shown = [n for n in names if n in NAMES]
        positions = self.views.rebuild(self.ledger, shown, progress=line())
        for name in (n for n in names if n in OPERATIONAL):
            projection = self._operational(name)
            positions[name] = rebuild_projection(self.ledger, projection, progress=line())
        return positions

    def _operational(self, name: str) -> Projection:
        from duban.app.sweep import ladder_from_config, open_index
        from projections.outbox import open_outbox

        svc = self.services
        if name == "due":
            return open_index(svc, ladder_from_config(svc.config), svc.calendar).projection
        return open_outbox(self.ledger).projection


@dataclass(frozen=True)
class UnitSummary:
    """One lead unit's line in the charts: its tasks, their average completion, their lights."""

    unit: str
    tasks: int
    percent: float
    lights: dict[str, int]


def unit_summaries(rows: Iterable[dict[str, Any]], order: Sequence[str] = ()) -> list[UnitSummary]:
    """One summary per lead unit, in `order` (the config's units, its 机构序列; units it does
    not list after, as they first come), never by code point."""
    by_unit: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_unit.setdefault(row["lead_unit"], []).append(row)
    return [_summary(unit, by_unit[unit]) for unit in in_config_order(by_unit, order)]


def _summary(unit: str, tasks: list[dict[str, Any]]) -> UnitSummary:
    lights = {name: sum(1 for t in tasks if t["light"] == name) for name in LIGHT_LABELS}
    percent = sum(t["percent"] for t in tasks) / len(tasks)
    return UnitSummary(unit=unit, tasks=len(tasks), percent=round(percent, 1), lights=lights)
