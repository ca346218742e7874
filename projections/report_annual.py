"""年督考: the annual assessment (see `projections.reports` for the three reports): each
unit's score under the scoring rules, the ranking, and every point with the event behind it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from projections.assessment_scores import UnitScore, assess, year_facts
from projections.report_facts import month_of
from projections.reports import Report, ReportContext, known_until, period_day, visible

__all__ = ["annual_assessment"]


def annual_assessment(ctx: ReportContext, year: int, as_of: dt.date | None = None) -> Report:
    day = period_day(dt.date(year, 12, 31), as_of)
    facts = year_facts(ctx.store, year, known_until(as_of), ctx.calendar, ctx.due_working_days)
    tasks = visible(ctx.store.tasks_at_month_end(month_of(day)), day)
    units = sorted({u for f in tasks for u in [f["lead_unit"], *f["co_units"]]})
    scores = assess(facts, ctx.rules, units)
    return {
        "kind": "assessment",
        "year": year,
        "day": day.isoformat(),
        "rules": ctx.rules.as_dict(),
        "units": [_score_row(s) for s in scores],
    }


def _score_row(score: UnitScore) -> dict[str, Any]:
    return {
        "rank": score.rank,
        "unit": score.unit,
        "base": score.base,
        "score": score.score,
        "gained": round(score.gained, 4),
        "lost": round(score.lost, 4),
        "points": [
            {
                "notification_id": p.notification_id,
                "event_type": p.event_type,
                "task_code": p.task_code,
                "kind": p.kind,
                "label": p.label,
                "points": p.points,
                "day": p.day,
            }
            for p in score.lines
        ],
    }
