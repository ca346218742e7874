"""The board as the API and the web board read it: one row per task, with its light (红黄绿灯).

Until the board projection (`projections/board.py`) is in place this reads every task from the
ledger; the filters, the light rule and the per-unit summary are the same either way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from domain.roles import Identity
from domain.task import STATUS_LABELS
from duban.ledger import Ledger

__all__ = [
    "LIGHT_LABELS",
    "BoardQuery",
    "UnitSummary",
    "board_rows",
    "light_of",
    "unit_summaries",
]

LIGHT_LABELS = {"red": "红灯", "yellow": "黄灯", "green": "绿灯", "closed": "已关闭"}
AT_RISK_DAYS = 7  # a deadline this close, without completion submitted, is a yellow light
_ESCALATED = frozenset({"urge", "supervise", "bulletin"})
BOARD_READER = Identity(role="auditor", name="看板")


@dataclass(frozen=True)
class BoardQuery:
    """Filters of the board: a unit (lead or co-operating), a group, an official, a light."""

    unit: str | None = None
    group: str | None = None
    official: str | None = None
    light: str | None = None

    def matches(self, row: dict[str, Any]) -> bool:
        return (
            (not self.unit or self.unit == row["lead_unit"] or self.unit in row["co_units"])
            and (not self.group or self.group == row["group"])
            and (not self.official or self.official == row["official"])
            and (not self.light or self.light == row["light"])
        )


def light_of(state: dict[str, Any], today: dt.date) -> str:
    """Green on track, yellow at risk, red overdue or escalated; closed when completed/cancelled."""
    status = state["status"]
    if status in ("completed", "cancelled"):
        return "closed"
    deadline: dt.date | None = state["deadline"]
    escalated = any(e.get("rung") in _ESCALATED for e in state["escalations"])
    if escalated or (deadline is not None and deadline < today and status != "submitted"):
        return "red"
    near = deadline is not None and (deadline - today).days <= AT_RISK_DAYS
    if state["pending_extension"] is not None or (near and status != "submitted"):
        return "yellow"
    return "green"


def board_row(state: dict[str, Any], today: dt.date) -> dict[str, Any]:
    light = light_of(state, today)
    return {
        **state,
        "status_label": STATUS_LABELS.get(state["status"], state["status"]),
        "light": light,
        "light_label": LIGHT_LABELS[light],
    }


def board_rows(ledger: Ledger, query: BoardQuery | None = None) -> list[dict[str, Any]]:
    today = ledger.clock().date()
    query = query or BoardQuery()
    rows = (board_row(ledger.task(code, BOARD_READER), today) for code in ledger.task_codes())
    return [row for row in rows if query.matches(row)]


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
