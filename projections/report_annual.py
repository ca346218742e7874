"""年督考: the annual assessment (see `projections.reports` for the three reports): each
unit's score under the scoring rules, the ranking, every point with the event behind it, and
the 问责 measures of the year. A unit with no task in the year is listed as 无任务 (``"status":
"no_tasks"``, no rank and no score) after the ranked ones."""

from __future__ import annotations

import datetime as dt
from typing import Any

from projections.assessment_rules import units_with_tasks
from projections.assessment_scores import UnitScore, assess, year_facts
from projections.report_facts import month_of
from projections.report_register import measure_rows
from projections.reports import Report, ReportContext, known_until, period_day, visible

__all__ = ["annual_assessment"]


def annual_assessment(ctx: ReportContext, year: int, as_of: dt.date | None = None) -> Report:
    day = period_day(dt.date(year, 12, 31), as_of)
    snapshot = ctx.store.tasks_at_month_end(month_of(day))
    known = known_until(as_of)
    facts = year_facts(ctx.store, year, known, ctx.calendar, ctx.due_working_days, snapshot)
    tasks = visible(snapshot, day)
    units = ctx.unit_order(
        [*ctx.units, *(u for f in tasks for u in [f["lead_unit"], *f["co_units"]])]
    )
    scores = assess(facts, ctx.rules, units, units_with_tasks(tasks, year, day))
    return {
        "kind": "assessment",
        **ctx.heading(),
        "year": year,
        "day": day.isoformat(),
        "rules": ctx.rules.as_dict(),
        "units": [_score_row(s) for s in scores],
        "measures": measure_rows(ctx.store, dt.date(year, 1, 1), day),
    }


def _score_row(score: UnitScore) -> dict[str, Any]:
    return {
        "rank": score.rank,
        "unit": score.unit,
        "status": "ranked" if score.ranked else "no_tasks",
        "status_label": "" if score.ranked else "无任务",
        "base": score.base,
        "score": score.score if score.ranked else None,
        "gained": round(score.gained, 4),
        "lost": round(score.lost, 4),
        "points": [
            {
                "notification_id": p.notification_id,
                "event_type": p.event_type,
                "event_label": p.event_label,
                "task_code": p.task_code,
                "kind": p.kind,
                "label": p.label,
                "note": p.note,
                "points": p.points,
                "day": p.day,
            }
            for p in score.lines
        ],
    }
