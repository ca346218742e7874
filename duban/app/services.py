"""What every application service is handed: the config, the ledger, the office's calendar and
its read models. Built once per process by the composition root (`duban.bootstrap`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import structlog

from domain.calendar import WorkingCalendar
from domain.holiday_notice import HolidayNotice, NoticeDays
from duban.app.ledger import Ledger
from duban.settings.config import Config
from duban.settings.store import store_env
from projections.board import LightRules
from projections.views import Views, open_views

__all__ = ["Services", "calendar_from_config", "open_ledger", "recorded_notices"]

log = structlog.get_logger(__name__)


@dataclass
class Services:
    config: Config
    ledger: Ledger

    @cached_property
    def calendar(self) -> WorkingCalendar:
        """The office's working-day calendar, built once from the config and the notices
        recorded in the ledger (read once per Services)."""
        return calendar_from_config(self.config, recorded_notices(self.ledger))

    @cached_property
    def light_rules(self) -> LightRules:
        """The config's light thresholds (the board and the reports read the same)."""
        lights = self.config.lights
        return LightRules(
            due_within_working_days=lights.due_within_working_days,
            report_gap_days=lights.report_gap_days,
            red_rungs=frozenset(lights.red_rungs),
        )

    def views(self) -> Views:
        """The read models beside the store's events, with the office's calendar and lights."""
        return open_views(self.ledger, self.calendar, self.light_rules)


def recorded_notices(ledger: Ledger) -> dict[int, NoticeDays]:
    """The latest recorded holiday notice of each year (`duban calendar import`)."""
    found: dict[int, NoticeDays] = {}
    years: dict[str, int] = {}
    for _, e in ledger.events_of(HolidayNotice.Recorded, HolidayNotice.Revised):
        year = int(getattr(e, "year", 0) or years.get(str(e.originator_id), 0))
        years[str(e.originator_id)] = year
        found[year] = NoticeDays(
            year,
            frozenset(dt.date.fromisoformat(d) for d in e.holidays),
            frozenset(dt.date.fromisoformat(d) for d in e.workdays),
            e.source_sha256,
        )
    return found


def calendar_from_config(
    config: Config, notices: dict[int, NoticeDays] | None = None
) -> WorkingCalendar:
    """Working days (recorded notices, then chinesecalendar, + the admin's overrides) and
    working hours; a year neither covers yet is logged and falls back to Monday-Friday,
    never fatal."""
    start, end = config.working_hours.times()

    def uncovered(year: int) -> None:
        log.warning("calendar_year_not_covered", year=year, fallback="Monday-Friday")

    return WorkingCalendar(
        extra_holidays=frozenset(config.calendar.extra_holidays),
        extra_workdays=frozenset(config.calendar.extra_workdays),
        work_start=start,
        work_end=end,
        tz=config.tz,
        on_uncovered_year=uncovered,
        notices=notices,
    )


def open_ledger(store_url: str, clock: Callable[[], dt.datetime] | None = None) -> Ledger:
    return Ledger(env=store_env(store_url), clock=clock)
