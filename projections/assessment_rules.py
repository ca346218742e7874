"""The assessment's rules that read the tasks as they stood on the assessment date.

* `overdue_facts` — a task still unfinished (neither completed nor cancelled) past its
  effective deadline on the assessment date: one ``lead_overdue`` fact for its lead unit and one
  ``co_overdue`` fact for each co-unit, once per task per year (the year's assessment date
  judges it once). The fact links to the task's ``Assigned`` event, the obligation behind it.
* `units_with_tasks` — the units that had a task in the year (lead or co-unit of a task assigned
  by the assessment date and not closed before the year began): the others are listed as 无任务
  and not ranked.
* `credited` — a co-unit's credit for a task completed on time counts only if it reported on
  that task in the year (a ``co_progress`` fact: a report by that co-unit's liaison).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence

from domain.report_round import month_bounds
from domain.task import ReformTask
from projections.assessment import ReportStore
from projections.board import Facts
from projections.report_facts import Fact, month_of, written_day

__all__ = [
    "co_reporters",
    "credited",
    "deadlines_before",
    "overdue_facts",
    "units_with_tasks",
]

_ASSIGNED = ReformTask.Assigned.__qualname__


def _open_on(facts: Facts, day: dt.date) -> bool:
    """Assigned by `day` and neither completed nor cancelled by then."""
    closed = facts["closed_at"]
    return facts["assigned_at"][:10] <= day.isoformat() and not (
        closed and closed[:10] <= day.isoformat()
    )


def deadlines_before(store: ReportStore, day: dt.date) -> dict[str, str]:
    """Task code → its deadline on `day`, for the tasks whose deadline an extension granted
    later in `day`'s month moved (the month-end snapshot already holds the new one; a
    deadline the office revised later in that month is taken as revised)."""
    end = month_bounds(month_of(day))[1]
    if day >= end:
        return {}
    moved: dict[str, str] = {}
    for f in store.facts(day + dt.timedelta(days=1), end, ["extension_granted"]):
        previous = f.detail.get("from")
        if previous and f.task_code not in moved:
            moved[f.task_code] = str(previous)
    return moved


def overdue_facts(
    tasks: Iterable[Facts], day: dt.date, moved: Mapping[str, str] | None = None
) -> Iterator[Fact]:
    """The overdue-unfinished facts on the assessment date `day` (see the module docstring);
    `tasks` as they stood at the end of `day`'s month, `moved` from `deadlines_before`."""
    moved = moved or {}
    for f in tasks:
        deadline = moved.get(f["code"], f["deadline"])
        if not _open_on(f, day) or not deadline or deadline >= day.isoformat():
            continue
        note = f"完成时限{written_day(deadline)}，截至{written_day(day)}未完成"
        detail = {"deadline": deadline, "as_of": day.isoformat(), "note": note}
        position, code, lead = int(f.get("assigned_position", 0)), f["code"], f["lead_unit"]
        yield Fact(position, day.isoformat(), "lead_overdue", lead, code, _ASSIGNED, detail)
        for unit in dict.fromkeys(f["co_units"]):
            if unit != lead:
                yield Fact(position, day.isoformat(), "co_overdue", unit, code, _ASSIGNED, detail)


def units_with_tasks(tasks: Iterable[Facts], year: int, day: dt.date) -> set[str]:
    """The units with a task in `year` up to `day` (see the module docstring)."""
    start = f"{year}-01-01"
    units: set[str] = set()
    for f in tasks:
        closed = f["closed_at"]
        if f["assigned_at"][:10] <= day.isoformat() and not (closed and closed[:10] < start):
            units.update([f["lead_unit"], *f["co_units"]])
    units.discard("")
    return units


def co_reporters(store: ReportStore, start: dt.date, end: dt.date) -> set[tuple[str, str]]:
    """(co-unit, task code) for every co-unit that reported on a task on days `start`..`end`."""
    return {(f.unit, f.task_code) for f in store.facts(start, end, ["co_progress"])}


def credited(facts: Sequence[Fact], reporters: Collection[tuple[str, str]]) -> list[Fact]:
    """`facts` without the co-units' on-time credits they did not report for."""
    return [f for f in facts if f.kind != "co_on_time" or (f.unit, f.task_code) in reporters]
