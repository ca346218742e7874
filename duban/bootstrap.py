"""The composition root: the one place that reads the config and wires the parts together."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import structlog

from domain.calendar import WorkingCalendar
from duban.config import Config, load_config, resolve_config_path
from duban.ledger import Ledger
from duban.logs import register_secrets
from duban.store import store_env
from projections.board import LightRules
from projections.views import Views, open_views

# The scheduler hook for `duban serve`; importing it also registers the ladder and cron checks,
# so every command rejects an invalid ladder or schedule at start with the key named.
from scheduler.runner import scheduler_service

__all__ = ["Services", "bootstrap", "calendar_from_config", "open_ledger", "scheduler_service"]

log = structlog.get_logger(__name__)


@dataclass
class Services:
    config: Config
    ledger: Ledger
    config_path: Path | None = None

    @cached_property
    def calendar(self) -> WorkingCalendar:
        """The office's working-day calendar, built once from the config."""
        return calendar_from_config(self.config)

    def views(self) -> Views:
        """The read models beside the store's events, with the office's calendar and lights."""
        lights = self.config.lights
        rules = LightRules(
            due_within_working_days=lights.due_within_working_days,
            report_gap_days=lights.report_gap_days,
            red_rungs=frozenset(lights.red_rungs),
        )
        return open_views(self.ledger, self.calendar, rules)


def calendar_from_config(config: Config) -> WorkingCalendar:
    """Working days (chinesecalendar + the admin's overrides) and working hours; a year the
    calendar data does not cover yet is logged and falls back to Monday-Friday, never fatal."""
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
    )


def open_ledger(store_url: str, clock: Callable[[], dt.datetime] | None = None) -> Ledger:
    return Ledger(env=store_env(store_url), clock=clock)


def bootstrap(
    config: Config | str | Path | None = None,
    clock: Callable[[], dt.datetime] | None = None,
) -> Services:
    path: Path | None = None
    if not isinstance(config, Config):
        path = resolve_config_path(str(config) if config is not None else None)
        config = load_config(path)
    register_secrets(_secrets(config))
    tz = config.tz
    ledger = open_ledger(config.store, clock or (lambda: dt.datetime.now(tz)))
    return Services(config=config, ledger=ledger, config_path=path)


def _secrets(config: Config) -> list[str | None]:
    values: list[str | None] = []
    for channel in config.channels:
        values += channel.webhooks()
        values.append(channel.secret_value())
    return values
