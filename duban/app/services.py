"""What every application service is handed: the config, the ledger, the office's calendar and
its read models. Built once per process by the composition root (`duban.bootstrap`)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import structlog
from eventsourcing.application import AggregateNotFoundError

from domain.calendar import WorkingCalendar
from domain.dates import EARLIEST, LATEST
from domain.holiday_notice import HolidayNotice, NoticeDays
from duban.app.evidence_store import evidence_store
from duban.app.ledger import Ledger
from duban.app.routing import chat_names
from duban.settings.config import Config
from duban.settings.store import store_env
from projections.board import LightRules
from projections.views import Views, open_views

__all__ = [
    "NOTICE_YEARS",
    "Services",
    "calendar_from_config",
    "open_ledger",
    "recorded_notices",
]

log = structlog.get_logger(__name__)


# The years a notice may be recorded for (one lookup each when a process first asks).
NOTICE_YEARS = range(EARLIEST.year, LATEST.year + 1)


@dataclass
class Services:
    config: Config
    ledger: Ledger
    _calendar: WorkingCalendar | None = field(default=None, init=False, repr=False)
    _notices_seen: int = field(default=0, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        """The ledger keeps evidence files beside its events: a directory for SQLite, a table
        in the PostgreSQL database (`duban.app.evidence_store`)."""
        web = self.config.web
        self.ledger.evidence = evidence_store(
            self.config.store, web.evidence_dir, web.max_upload_bytes
        )

    @property
    def calendar(self) -> WorkingCalendar:
        """The office's working-day calendar: the config and the notices recorded in the ledger.
        Built once per Services; `refresh_calendar()` brings in notices recorded since, in place,
        so every holder of it (triggers, views, the deliverer) follows."""
        with self._lock:
            if self._calendar is None:
                self._notices_seen = self.ledger.recorder.max_notification_id() or 0
                self._calendar = calendar_from_config(self.config, recorded_notices(self.ledger))
            return self._calendar

    def refresh_calendar(self) -> bool:
        """Take the holiday notices recorded or revised (by any process) since the calendar was
        built or last refreshed; True if there were any. Reads only the events after the last
        position seen, filtered by the store: the cost does not grow with history."""
        calendar = self.calendar
        with self._lock:
            found = list(
                self.ledger.events_of(
                    HolidayNotice.Recorded, HolidayNotice.Revised, after=self._notices_seen
                )
            )
            for position, recorded in found:
                calendar.record_notice(_notice_days(int(recorded.year), recorded))
                self._notices_seen = position
        if found:
            log.info("calendar.refreshed", notices=len(found), revision=calendar.revision)
        return bool(found)

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
        return open_views(self.ledger, self.calendar, self.light_rules, chat_names(self.config))


def recorded_notices(ledger: Ledger) -> dict[int, NoticeDays]:
    """The latest recorded holiday notice of each year (`duban calendar import`): one lookup
    per possible year, never a scan of the history."""
    found: dict[int, NoticeDays] = {}
    for year in NOTICE_YEARS:
        try:
            notice: HolidayNotice = ledger.repository.get(HolidayNotice.create_id(year))
        except AggregateNotFoundError:
            continue
        found[year] = _notice_days(year, notice)
    return found


def _notice_days(year: int, recorded: Any) -> NoticeDays:
    """A recorded notice (the aggregate or one of its events) as the calendar reads it."""
    return NoticeDays(
        year,
        frozenset(dt.date.fromisoformat(d) for d in recorded.holidays),
        frozenset(dt.date.fromisoformat(d) for d in recorded.workdays),
        recorded.source_sha256,
    )


def calendar_from_config(
    config: Config, notices: dict[int, NoticeDays] | None = None
) -> WorkingCalendar:
    """Working days (recorded notices, then chinesecalendar, + the admin's overrides) and
    working hours; a year neither covers yet is logged and falls back to Monday-Friday,
    never fatal."""
    start, end = config.working_hours.times()

    def uncovered(year: int) -> None:
        log.warning(
            "calendar_year_not_covered",
            year=year,
            fallback="Monday-Friday",
            message=f"{year}年节假日安排尚未导入，暂按周一至周五计算工作日",
        )

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
