"""回溯看板: the board as it stood at a past date or at an event position, from events alone.

Not a hot path: it replays the task events up to the point (`select_notifications(...,
stop=N)`, task topics only) into memory with the same fold the stored board uses
(`board.apply_event`), then computes the lights for that day. Nothing is read from, or
written to, the stored board, so it also serves to check the stored board.

* ``on=DATE``: every task event whose `at` (the office's time, as recorded) falls on or
  before that date; the lights are computed for that date.
* ``position=N``: every event up to notification id N; the lights are computed for the
  day of the last event replayed (or `today` when given).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from eventsourcing.application import Application

from domain.calendar import WorkingCalendar
from projections.board import (
    DEFAULT_RULES,
    TASK_TOPICS,
    Facts,
    LightRules,
    apply_event,
    rows_of,
)

__all__ = ["board_as_of", "facts_as_of"]

_PAGE = 5000


def facts_as_of(
    app: Application[Any], *, on: dt.date | None = None, position: int | None = None
) -> tuple[list[Facts], dt.date | None]:
    """The tasks' facts in assignment order, and the office day of the last event applied."""
    board: dict[str, Facts] = {}
    last_day: dt.date | None = None
    start = 0
    while True:
        batch = app.recorder.select_notifications(
            start, _PAGE, stop=position, topics=TASK_TOPICS, inclusive_of_start=False
        )
        if not batch:
            return list(board.values()), last_day
        for notification in batch:
            event = app.mapper.to_domain_event(notification)
            day = event.at.date()  # type: ignore[attr-defined]
            if on is not None and day > on:
                continue
            apply_event(board, event)
            last_day = day
        start = batch[-1].id


def board_as_of(
    app: Application[Any],
    *,
    on: dt.date | None = None,
    position: int | None = None,
    today: dt.date | None = None,
    calendar: WorkingCalendar | None = None,
    rules: LightRules = DEFAULT_RULES,
    unit: str | None = None,
    group: str | None = None,
    official: str | None = None,
) -> list[dict[str, Any]]:
    """Board rows (the shape of `Board.rows`) as they stood at `on` or at `position`."""
    if (on is None) == (position is None):
        msg = "give exactly one of on= (a date) or position= (a notification id)"
        raise ValueError(msg)
    facts, last_day = facts_as_of(app, on=on, position=position)
    day = on or today or last_day or dt.date.today()
    return rows_of(
        facts,
        day,
        calendar or WorkingCalendar(),
        rules,
        unit=unit,
        group=group,
        official=official,
    )
