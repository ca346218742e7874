"""The scheduler's jobs, built from the admin's config at every start and kept in memory.

Why in memory: a persistent job store pickles jobs, silently drops those it cannot restore,
and ``replace_existing=True`` at start discards missed runs without a word (LIBNOTES.md).
What a missed run should have done is recovered from the event store by the next run
(a sweep finds everything due), so the schedule itself needs no memory.

Every job states what APScheduler would otherwise default: the config's timezone, a
misfire grace time fitting the job (a one-second default would silently skip a run that
is one second late), ``coalesce=True`` (after downtime one run, not a burst) and
``max_instances=1`` (a slow sweep is never overlapped by the next).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger

from duban.settings.checks import SCHEDULE_NAMES
from duban.settings.config import Config
from scheduler.cron import next_fire_times, parse_cron

__all__ = [
    "MISFIRE_GRACE_SECONDS",
    "JobSpec",
    "add_jobs",
    "describe_jobs",
    "job_specs",
    "scheduled_instant",
]

_MINUTE = 60
_HOUR = 60 * _MINUTE

MISFIRE_GRACE_SECONDS: dict[str, int] = {
    # frequent jobs: a late run is soon replaced by the next one
    "sweep": 5 * _MINUTE,
    "deliver": 2 * _MINUTE,
    "chain_head": _HOUR,
    # daily / monthly / yearly jobs: better late the same day than waiting a month
    "report_round": 12 * _HOUR,
    "monthly_report": 12 * _HOUR,
    "quarterly_report": 24 * _HOUR,
    "annual_assessment": 24 * _HOUR,
}
_DEFAULT_GRACE = 5 * _MINUTE


@dataclass(frozen=True)
class JobSpec:
    """One configured job: its schedule key, the admin's cron text and the trigger built from it."""

    name: str
    cron: str
    trigger: CronTrigger
    misfire_grace_time: int

    def next_fire_times(self, after: dt.datetime, count: int = 3) -> list[dt.datetime]:
        """The next ``count`` fire times strictly after ``after``, in the config's zone."""
        return next_fire_times(self.trigger, after, count)


def job_specs(config: Config) -> list[JobSpec]:
    """One ``JobSpec`` per schedule key, in the config's order; ``CronError`` if one is invalid."""
    return [_spec(config, name) for name in SCHEDULE_NAMES]


def _spec(config: Config, name: str) -> JobSpec:
    cron: str = getattr(config.schedules, name)
    return JobSpec(
        name=name,
        cron=cron,
        trigger=parse_cron(cron, config.tz),
        misfire_grace_time=MISFIRE_GRACE_SECONDS.get(name, _DEFAULT_GRACE),
    )


def add_jobs(
    scheduler: BaseScheduler, specs: list[JobSpec], run: Callable[[JobSpec], None]
) -> None:
    """Add every job to ``scheduler``; each run calls ``run(spec)``."""
    for spec in specs:
        scheduler.add_job(
            run,
            trigger=spec.trigger,
            args=[spec],
            id=spec.name,
            name=spec.name,
            misfire_grace_time=spec.misfire_grace_time,
            coalesce=True,
            max_instances=1,
            replace_existing=False,
        )


def scheduled_instant(spec: JobSpec, now: dt.datetime) -> dt.datetime:
    """The fire time a run happening at ``now`` belongs to: the latest one not after ``now``.

    APScheduler 3 does not pass it to the job; it is recomputed from the trigger so that
    logs and the leader's "not before I led" rule speak of the schedule, not of the thread.
    Only fire times within the misfire grace are considered, the only ones that can run.
    """
    earliest = now - dt.timedelta(seconds=spec.misfire_grace_time + 1)
    candidates = next_fire_times(spec.trigger, earliest, count=1)
    instant = now
    while candidates and candidates[0] <= now:
        instant = candidates[0]
        candidates = next_fire_times(spec.trigger, instant, count=1)
    return instant


def describe_jobs(config: Config, after: dt.datetime, count: int = 3) -> list[dict[str, Any]]:
    """Plain data for ``duban scheduler jobs``: each job, its cron text and next fire times."""
    return [
        {
            "name": spec.name,
            "cron": spec.cron,
            "timezone": config.timezone,
            "misfire_grace_time": spec.misfire_grace_time,
            "next_fire_times": spec.next_fire_times(after, count),
        }
        for spec in job_specs(config)
    ]
