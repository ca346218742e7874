"""The jobs the scheduler is handed, and how they become APScheduler jobs.

The composition root builds a ``Schedule``: one ``JobSpec`` per job (its name, the admin's
schedule text — a crontab or a working-day rule, ``scheduler.triggers`` — the callable
``run(now)`` that does the work, its misfire grace and coalescing), the zone the schedules are
read in and the office calendar the working-day rules ask. The scheduler knows nothing else
about the jobs.

Why in memory: a persistent job store pickles jobs, silently drops those it cannot restore,
and ``replace_existing=True`` at start discards missed runs without a word (LIBNOTES.md).
What a missed run should have done is recovered from the event store by the next run
(a sweep finds everything due), so the schedule itself needs no memory.

Every job states what APScheduler would otherwise default: the schedule's timezone, a
misfire grace time fitting the job (a one-second default would silently skip a run that
is one second late), ``coalesce`` (after downtime one run, not a burst) and
``max_instances=1`` (a slow sweep is never overlapped by the next).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.base import BaseTrigger

from domain.calendar import WorkingCalendar
from scheduler.cron import next_fire_times
from scheduler.triggers import describe_schedule, parse_schedule

__all__ = ["DEFAULT_MISFIRE_GRACE_SECONDS", "JobSpec", "Schedule"]

DEFAULT_MISFIRE_GRACE_SECONDS = 5 * 60


@dataclass(frozen=True)
class JobSpec:
    """One job: ``run(now)`` at every fire time of ``cron``: a crontab (standard numbering)
    or a working-day rule such as ``workday 1 of month 09:00`` (``scheduler.triggers``).

    ``misfire_grace_time``: how many seconds late a run may still start; ``coalesce``: after
    downtime, one run for all the fire times missed.
    """

    name: str
    cron: str
    run: Callable[[dt.datetime], None]
    misfire_grace_time: int = DEFAULT_MISFIRE_GRACE_SECONDS
    coalesce: bool = True


class Schedule:
    """The jobs of one node, the zone their schedules are read in and the office calendar
    their working-day rules follow (default: the official calendar in ``tz``).

    Every schedule is parsed here: ``CronError`` (a ``ValueError``) if one is invalid.
    """

    def __init__(
        self,
        jobs: Iterable[JobSpec],
        tz: ZoneInfo,
        calendar: WorkingCalendar | None = None,
        *,
        refresh: Callable[[], object] | None = None,
        follow_seconds: float = 60.0,
    ) -> None:
        self.tz = tz
        self.jobs = tuple(jobs)
        self.calendar = calendar or WorkingCalendar(tz=tz)
        # Brings notices recorded since into ``calendar`` (in place); the running scheduler
        # calls it every ``follow_seconds`` and before each run, and re-plans on a change.
        self.refresh = refresh
        self.follow_seconds = follow_seconds
        self._triggers = {
            job.name: parse_schedule(job.cron, tz, self.calendar) for job in self.jobs
        }
        if len(self._triggers) != len(self.jobs):
            msg = f"job names must be unique: {[job.name for job in self.jobs]}"
            raise ValueError(msg)

    def trigger(self, job: JobSpec) -> BaseTrigger:
        return self._triggers[job.name]

    def next_fire_times(
        self, job: JobSpec, after: dt.datetime, count: int = 3
    ) -> list[dt.datetime]:
        """The next ``count`` fire times of ``job`` strictly after ``after``, in the zone."""
        return next_fire_times(self.trigger(job), after, count)

    def scheduled_instant(self, job: JobSpec, now: dt.datetime) -> dt.datetime:
        """The fire time a run happening at ``now`` belongs to: the latest one not after ``now``.

        APScheduler 3 does not pass it to the job; it is recomputed from the trigger so that
        logs and the leader's "not before I led" rule speak of the schedule, not of the thread.
        Only fire times within the misfire grace are considered, the only ones that can run.
        """
        earliest = now - dt.timedelta(seconds=job.misfire_grace_time + 1)
        candidates = self.next_fire_times(job, earliest, count=1)
        instant = now
        while candidates and candidates[0] <= now:
            instant = candidates[0]
            candidates = self.next_fire_times(job, instant, count=1)
        return instant

    def holds_at(self, job: JobSpec, instant: dt.datetime) -> bool:
        """Whether ``instant`` is still a fire time of ``job`` (the calendar may have changed
        since it was planned: a day a new notice makes a holiday no longer holds)."""
        following: dt.datetime | None = self.trigger(job).get_next_fire_time(None, instant)
        return following == instant

    def add_to(self, scheduler: BaseScheduler, run: Callable[[JobSpec], None]) -> None:
        """Add every job to ``scheduler``; each fire time calls ``run(job)``."""
        for job in self.jobs:
            scheduler.add_job(
                run,
                trigger=self.trigger(job),
                args=[job],
                id=job.name,
                name=job.name,
                misfire_grace_time=job.misfire_grace_time,
                coalesce=job.coalesce,
                max_instances=1,
                replace_existing=False,
            )

    def describe(self, after: dt.datetime, count: int = 3) -> list[dict[str, Any]]:
        """Plain data for ``duban scheduler jobs``: each job, its schedule text (``cron``: a
        crontab or a working-day rule, as the config writes it), that schedule in Chinese words
        (``description``: 「每月第1个工作日 09:00」) and next fire times."""
        return [
            {
                "name": job.name,
                "cron": job.cron,
                "description": describe_schedule(job.cron),
                "timezone": self.tz.key,
                "misfire_grace_time": job.misfire_grace_time,
                "next_fire_times": self.next_fire_times(job, after, count),
            }
            for job in self.jobs
        ]
