"""The composition root: the one place that reads the config and wires the parts together.

`bootstrap(config, clock)` builds the `Services` every entry point works with. The scheduler
is wired here too: its jobs are the application's (`duban.app.scheduled.job_runs`) at the
schedules of `config.schedules` (crontabs or working-day rules, read against the office
calendar `Services.calendar`), and its leadership is chosen from the store URL (a lock file
beside an SQLite database, an advisory lock on PostgreSQL). The entry points reach the
scheduler only through the functions below.

It may import every layer; nothing but the entry points imports it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from duban.app.scheduled import MISFIRE_GRACE_SECONDS, job_runs
from duban.app.services import Services, open_ledger
from duban.settings.config import Config, load_config, resolve_config_path
from duban.settings.logs import register_secrets
from duban.settings.store import is_sqlite, postgres_conninfo, sqlite_path
from scheduler.jobs import JobSpec, Schedule
from scheduler.leader import (
    DEFAULT_LEASE_SECONDS,
    AdvisoryLockLeadership,
    FileLockLeadership,
    Leadership,
    SchedulerAlreadyRunning,
    lock_file_for,
)
from scheduler.runner import SchedulerHandle, ServeScheduler, run_forever

__all__ = [
    "DEFAULT_LEASE_SECONDS",
    "SchedulerAlreadyRunning",
    "SchedulerHandle",
    "Services",
    "bootstrap",
    "leadership_for",
    "run_scheduler",
    "schedule_for",
    "scheduler_for",
    "scheduler_service",
]


def bootstrap(
    config: Config | str | Path | None = None,
    clock: Callable[[], dt.datetime] | None = None,
) -> Services:
    if not isinstance(config, Config):
        path = resolve_config_path(str(config) if config is not None else None)
        config = load_config(path)
    register_secrets(_secrets(config))
    tz = config.tz
    ledger = open_ledger(config.store, clock or (lambda: dt.datetime.now(tz)))
    return Services(config=config, ledger=ledger)


def _secrets(config: Config) -> list[str | None]:
    values: list[str | None] = []
    for channel in config.channels:
        values += channel.webhooks()
        values.append(channel.secret_value())
    return values


# ---- the scheduler -------------------------------------------------------------------------


def schedule_for(services: Services) -> Schedule:
    """Every configured schedule (in the config's order) with the job it runs; working-day
    rules follow the office calendar."""
    runs = job_runs(services)
    crons: dict[str, str] = services.config.schedules.model_dump()
    jobs = [
        JobSpec(name, cron, runs[name], misfire_grace_time=MISFIRE_GRACE_SECONDS[name])
        for name, cron in crons.items()
    ]
    return Schedule(
        jobs,
        services.config.tz,
        services.calendar,
        refresh=services.refresh_calendar,
        follow_seconds=services.config.calendar.follow_seconds,
    )


def leadership_for(store: str, lease: float = DEFAULT_LEASE_SECONDS) -> Leadership:
    """File lock beside an SQLite database (in memory: nothing to share), advisory lock on
    PostgreSQL, its lease checked every `lease` seconds."""
    if is_sqlite(store):
        database = sqlite_path(store)
        return FileLockLeadership(None if str(database) == ":memory:" else lock_file_for(database))
    return AdvisoryLockLeadership(postgres_conninfo(store), lease)


def scheduler_for(services: Services, *, lease: float = DEFAULT_LEASE_SECONDS) -> SchedulerHandle:
    """This node's scheduler, not started: `start()` raises `SchedulerAlreadyRunning` if
    another process schedules the SQLite store."""
    return SchedulerHandle(schedule_for(services), leadership_for(services.config.store, lease))


def scheduler_service(services: Services) -> SchedulerHandle:
    """The `start()`/`stop()` background service `duban serve` runs beside the API: it gives
    way, with a warning, when another process already schedules the SQLite store."""
    return ServeScheduler(schedule_for(services), leadership_for(services.config.store))


def run_scheduler(services: Services, *, lease: float = DEFAULT_LEASE_SECONDS) -> None:
    """`duban scheduler run`: until SIGINT or SIGTERM; `SchedulerAlreadyRunning` if taken."""
    run_forever(scheduler_for(services, lease=lease))
