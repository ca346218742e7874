"""The three reports as the application offers them, each kind described once: its name, its
title, how its period is written and parsed, its builder and the period a scheduled job
posts. The CLI (`duban report KIND PERIOD`) and the jobs (`duban.app.scheduled`) use these.

Also here: `report_context`, the reports' view of the store caught up, with the config's
calendar, round rule, scoring rules and light thresholds.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from domain.scoring import ScoringRules
from duban.app.report_words import official_title
from duban.app.services import Services
from duban.settings.config import Assessment
from projections.assessment import open_reports
from projections.report_annual import annual_assessment
from projections.report_monthly import monthly_analysis
from projections.report_quarterly import quarterly_dispatch
from projections.reports import Report, ReportContext
from projections.runner import catch_up

__all__ = [
    "ANNUAL",
    "MONTHLY",
    "QUARTERLY",
    "REPORT_KINDS",
    "Report",
    "ReportKind",
    "parse_month",
    "parse_quarter",
    "report_context",
    "scoring_rules",
    "title_of",
]

P = TypeVar("P")


@dataclass(frozen=True)
class ReportKind(Generic[P]):
    """One report of the office's cycle and its period (a month, a quarter, a year)."""

    name: str  # the CLI command and the report's "kind"
    title: str  # its Chinese name, in every title
    builder: str  # the builder's name, part of a scheduled post's message key
    summary: str  # what the report holds (the CLI command's help)
    period_name: str  # "month" | "quarter" | "year"
    period_type: type  # how the CLI reads the period before `parse` (str, or int for a year)
    period_format: str  # "YYYY-MM" | "YYYYQn" | "YYYY"
    parse: Callable[[str], P]  # raises ValueError with a readable message
    build: Callable[[ReportContext, P, dt.date | None], Report]
    previous: Callable[[dt.date], P]  # the period before the one a day is in

    def key(self, period: P) -> str:
        """The period as a scheduled post's message key names it: 2024-03, 2024-2, 2023."""
        parts = period if isinstance(period, tuple) else (period,)
        return "-".join(str(part) for part in parts)


def parse_month(text: str) -> str:
    """`2024-03` → `2024-03` (validated)."""
    dt.date.fromisoformat(f"{text}-01")
    if len(text) != 7:
        raise ValueError(f"month must be YYYY-MM: {text!r}")
    return text


def parse_quarter(text: str) -> tuple[int, int]:
    """`2024Q2` → (2024, 2)."""
    year, sep, number = text.upper().partition("Q")
    if not (sep and year.isdigit() and number in {"1", "2", "3", "4"}):
        raise ValueError(f"quarter must be YYYYQn: {text!r}")
    return int(year), int(number)


def _previous_month(day: dt.date) -> str:
    return f"{day.replace(day=1) - dt.timedelta(days=1):%Y-%m}"


def _previous_quarter(day: dt.date) -> tuple[int, int]:
    quarter = (day.month - 1) // 3  # 0-based current quarter = previous quarter's number
    return (day.year, quarter) if quarter else (day.year - 1, 4)


def _quarterly(ctx: ReportContext, period: tuple[int, int], as_of: dt.date | None) -> Report:
    return quarterly_dispatch(ctx, *period, as_of)


MONTHLY: ReportKind[str] = ReportKind(
    name="monthly",
    title="月分析",
    builder="monthly_analysis",
    summary="月分析: units and groups, lights, report round, overdue, escalations, changes.",
    period_name="month",
    period_type=str,
    period_format="YYYY-MM",
    parse=parse_month,
    build=monthly_analysis,
    previous=_previous_month,
)
QUARTERLY: ReportKind[tuple[int, int]] = ReportKind(
    name="quarterly",
    title="季调度",
    builder="quarterly_dispatch",
    summary="季调度: progress per group and official, risks next quarter, recognitions.",
    period_name="quarter",
    period_type=str,
    period_format="YYYYQn",
    parse=parse_quarter,
    build=_quarterly,
    previous=_previous_quarter,
)
ANNUAL: ReportKind[int] = ReportKind(
    name="assessment",
    title="年督考",
    builder="annual_assessment",
    summary="年督考: each unit's score, the ranking and the events behind every point.",
    period_name="year",
    period_type=int,
    period_format="YYYY",
    parse=int,
    build=annual_assessment,
    previous=lambda day: day.year - 1,
)
REPORT_KINDS: Mapping[str, ReportKind[Any]] = {k.name: k for k in (MONTHLY, QUARTERLY, ANNUAL)}


def title_of(report: Report) -> str:
    """The report's official title: 「2024年3月全面深化改革工作分析」, 「2024年第一季度改革工作
    调度」, 「2024年度全面深化改革督查考核结果」 (the day it stands at is `dated_line`'s)."""
    return official_title(report)


def scoring_rules(assessment: Assessment) -> ScoringRules:
    """The config's ``[assessment]`` section as the domain's scoring rules."""
    names = [f.name for f in dataclasses.fields(ScoringRules)]
    return ScoringRules(**{name: getattr(assessment, name) for name in names})


def report_context(svc: Services) -> ReportContext:
    """The reports' view of the store, caught up, with the config's calendar and rules."""
    store = open_reports(svc.ledger.recorder.datastore)  # type: ignore[attr-defined]
    catch_up(svc.ledger, store.projection)
    return ReportContext(
        store,
        svc.calendar,
        svc.config.report_round.due_working_days,
        scoring_rules(svc.config.assessment),
        svc.light_rules,
        tuple(unit.name for unit in svc.config.units),
        svc.config.office.name,
        tuple((o.name, o.title) for o in svc.config.officials),
    )
