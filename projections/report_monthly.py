"""月分析: the monthly analysis (see `projections.reports` for the three reports)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from domain.report_round import month_bounds, round_due_date
from domain.rungs import RUNG_LABELS
from projections.assessment import ReportStore, RoundInfo
from projections.audit import who
from projections.report_facts import Fact, month_of
from projections.report_outcomes import round_outcomes
from projections.reports import (
    ESCALATION_KINDS,
    LIGHTS,
    STATUSES,
    Report,
    ReportContext,
    completion_by_month,
    grouped,
    known_until,
    period_day,
    tally,
    task_row,
    visible,
)

__all__ = ["monthly_analysis"]

CLOSE_KINDS = ("lead_on_time", "lead_late", "cancelled")
PLAN_STATUSES = {
    "plan_submitted": "已报送",
    "plan_in_review": "审核中",
    "plan_approved": "已通过",
    "plan_returned": "已退回",
}
OUTCOME_LABELS = {
    "on_time": "按时报送",
    "report_late": "迟报",
    "report_missing": "漏报",
    "pending": "未报送（未到期）",
}


def _previous_month(month: str) -> str:
    return month_of(dt.date.fromisoformat(f"{month}-01") - dt.timedelta(days=1))


def monthly_analysis(ctx: ReportContext, month: str, as_of: dt.date | None = None) -> Report:
    start, end = month_bounds(month)
    day = period_day(end, as_of)
    rows = _month_rows(ctx, month, day)
    known = known_until(as_of)
    outcomes = round_outcomes(ctx.store, month, known, ctx.calendar, ctx.due_working_days)
    facts = ctx.store.facts(start, day)
    recorded = ctx.store.rounds(known).get(month)
    due = round_due_date(month, ctx.calendar, ctx.due_working_days).isoformat()
    return {
        "kind": "monthly",
        **ctx.heading(),
        "month": month,
        "day": day.isoformat(),
        "round_due": recorded.due if recorded else due,
        "round": _round_info(recorded, known),
        "totals": {**tally(rows), "reports": _outcome_counts(outcomes)},
        "units": _unit_summaries(ctx, rows, outcomes, facts),
        "groups": [{"group": g, **tally(rs)} for g, rs in grouped(rows, "group").items()],
        "tasks": rows,
        "reports": [_outcome_row(f) for f in outcomes],
        "overdue": [_overdue_row(r) for r in rows if r["days_overdue"] > 0],
        "escalations": [_escalation_row(f) for f in facts if f.kind in ESCALATION_KINDS],
        "changes": _changes(ctx, month, rows),
        "closed": [_closed_row(f) for f in facts if f.kind in CLOSE_KINDS],
        "plans": _plans(ctx.store, day),
        "co_unit_reports": _co_unit_reports(ctx, month, day),
        "completion": completion_by_month(ctx.store, day, len(rows)),
    }


def _round_info(info: RoundInfo | None, day: dt.date) -> dict[str, Any] | None:
    """The month's ReportRound when one was opened (None: outcomes derived from the reports)."""
    if info is None:
        return None
    return {
        "opened_on": info.opened_on,
        "due": info.due,
        "closed": info.closed_day is not None and info.closed_day <= day.isoformat(),
        "notification_id": info.position,
    }


def _month_rows(ctx: ReportContext, month: str, day: dt.date) -> list[dict[str, Any]]:
    tasks = visible(ctx.store.tasks_at_month_end(month), day)
    return [task_row(ctx, f, day) for f in tasks]


def _co_unit_reports(ctx: ReportContext, month: str, day: dt.date) -> list[dict[str, Any]]:
    """配合单位报送: each co-unit's latest report of the month on each task (who, when, what),
    from the board's facts as they stood at the month's end."""
    items = []
    for facts in visible(ctx.store.tasks_at_month_end(month), day):
        for report in facts.get("co_unit_reports", []):
            local = dt.datetime.fromisoformat(report["at"]).astimezone(ctx.calendar.tz)
            if month_of(local.date()) == month and local.date() <= day:
                items.append(
                    {
                        "task_code": facts["code"],
                        "lead_unit": facts["lead_unit"],
                        "unit": report["unit"],
                        "by": report["by"],
                        "by_label": who(report["by"]),
                        "at": report["at"],
                        "day": local.date().isoformat(),
                        "text": report["text"],
                    }
                )
    return sorted(items, key=lambda i: (i["day"], i["task_code"], i["unit"]))


def _outcome_counts(outcomes: Iterable[Fact]) -> dict[str, int]:
    counts = Counter(f.kind for f in outcomes)
    return {kind: counts[kind] for kind in OUTCOME_LABELS}


def _outcome_row(f: Fact) -> dict[str, Any]:
    return {
        "unit": f.unit,
        "task_code": f.task_code,
        "outcome": f.kind,
        "outcome_label": OUTCOME_LABELS.get(f.kind, f.kind),
        "day": f.day,
        "notification_id": f.position,
    }


def _unit_summaries(
    ctx: ReportContext,
    rows: Sequence[dict[str, Any]],
    outcomes: Sequence[Fact],
    facts: Sequence[Fact],
) -> list[dict[str, Any]]:
    by_unit = grouped(rows, "lead_unit", ctx.units)
    summaries = []
    for unit in by_unit:
        summaries.append(
            {
                "unit": unit,
                **tally(by_unit[unit]),
                "reports": _outcome_counts(f for f in outcomes if f.unit == unit),
                "escalations": sum(
                    1 for f in facts if f.kind in ESCALATION_KINDS and f.unit == unit
                ),
            }
        )
    return summaries


def _overdue_row(row: dict[str, Any]) -> dict[str, Any]:
    keys = ("code", "title", "lead_unit", "official", "official_label", "deadline",
            "days_overdue", "percent")  # fmt: skip
    return {k: row[k] for k in keys}


def _escalation_row(f: Fact) -> dict[str, Any]:
    rung = str(f.detail.get("rung", ""))
    return {
        "task_code": f.task_code,
        "unit": f.unit,
        "rung": rung,
        "rung_label": RUNG_LABELS.get(rung, rung),
        "day": f.day,
        "notification_id": f.position,
    }


def _closed_row(f: Fact) -> dict[str, Any]:
    labels = {"lead_on_time": "按期销号", "lead_late": "逾期销号", "cancelled": "已撤销"}
    return {
        "task_code": f.task_code,
        "unit": f.unit,
        "how": f.kind,
        "how_label": labels[f.kind],
        "day": f.day,
        "notification_id": f.position,
    }


def _changes(ctx: ReportContext, month: str, rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    previous = _previous_month(month)
    before_day = month_bounds(previous)[1]
    before = {r["code"]: r for r in _month_rows(ctx, previous, before_day)}
    changed = [_change(before.get(r["code"]), r) for r in rows]
    now, then = tally(rows), tally(list(before.values()))
    return {
        "previous_month": previous,
        "new_tasks": [r["code"] for r in rows if r["code"] not in before],
        "by_light_delta": {c: now["by_light"][c] - then["by_light"][c] for c in LIGHTS},
        "by_status_delta": {s: now["by_status"][s] - then["by_status"][s] for s in STATUSES},
        "tasks": [c for c in changed if c is not None],
    }


def _change(before: dict[str, Any] | None, row: dict[str, Any]) -> dict[str, Any] | None:
    if before is None:
        return None
    keys = ("status_label", "light_label", "percent")
    if all(before[k] == row[k] for k in keys):
        return None
    return {
        "code": row["code"],
        **{f"{k}_from": before[k] for k in keys},
        **{k: row[k] for k in keys},
    }


def _plans(store: ReportStore, day: dt.date) -> dict[str, Any]:
    plans: dict[str, dict[str, Any]] = {}
    for f in store.facts(dt.date.min, day, list(PLAN_STATUSES)):
        plan = plans.setdefault(str(f.detail["plan"]), {"plan_code": f.task_code, "unit": f.unit})
        plan.update(title=f.detail.get("title", ""), status=f.kind[5:], day=f.day)
        plan["status_label"] = PLAN_STATUSES[f.kind]
    counts = Counter(p["status"] for p in plans.values())
    return {
        "counts": {k[5:]: counts[k[5:]] for k in PLAN_STATUSES},
        "items": sorted(plans.values(), key=lambda p: p["plan_code"]),
    }
