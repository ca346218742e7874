"""The running scheduler: APScheduler in the background, jobs gated by leadership.

``SchedulerHandle(schedule, leadership)`` is built by the composition root, which hands it the
jobs (a ``Schedule`` of callables) and the leadership for its store; ``start()`` takes part in
the election and schedules, ``stop()`` stops gracefully (running jobs finish, then the
leadership is released). Every node runs the same in-memory schedule; at each fire time a node
that is not the leader skips the run, so leadership can move between fire times without the
schedule itself being handed over. A node that has just become leader also skips fire times
from before it led: the previous leader may have run them.

Each run calls the job's ``run(now)``; a job that raises is logged and the scheduler goes on.

Every node also follows the office calendar (``Schedule.refresh``, every ``follow_seconds`` and
before each run): when a holiday notice recorded since changes it, each job's next fire time is
planned again, and a run already due on a day that is no longer a working day is skipped.
"""

from __future__ import annotations

import datetime as dt
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

import structlog
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from scheduler.jobs import JobSpec, Schedule
from scheduler.leader import Leadership, SchedulerAlreadyRunning, node_id

__all__ = ["FOLLOW_JOB", "SchedulerHandle", "ServeScheduler", "run_forever"]

FOLLOW_JOB = "calendar_follow"  # the internal job that keeps the calendar and the plan current

log = structlog.get_logger("duban.scheduler")


class SchedulerHandle:
    """One node's scheduler: ``start()`` (raises ``SchedulerAlreadyRunning``), ``stop()``."""

    def __init__(
        self,
        schedule: Schedule,
        leadership: Leadership,
        *,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.schedule = schedule
        self.leadership = leadership
        tz = schedule.tz
        self._clock = clock or (lambda: dt.datetime.now(tz))
        self.node = node_id()
        self._scheduler = BackgroundScheduler(
            timezone=tz,
            executors={"default": ThreadPoolExecutor(max_workers=len(schedule.jobs) + 1)},
        )
        self._started = False
        self._planned_revision = schedule.calendar.revision
        self._planning = threading.Lock()

    def start(self) -> None:
        """Take part in the election (or refuse, on a shared SQLite file), then schedule."""
        self.leadership.start()
        try:
            self.schedule.add_to(self._scheduler, self.run_now)
            if self.schedule.refresh is not None:  # every node follows the calendar, leader or not
                self._scheduler.add_job(
                    self.keep_current,
                    trigger="interval",
                    seconds=self.schedule.follow_seconds,
                    id=FOLLOW_JOB,
                    name=FOLLOW_JOB,
                    coalesce=True,
                    max_instances=1,
                )
            self._scheduler.start()
        except BaseException:
            self.leadership.stop()  # never hold the lock without a scheduler behind it
            raise
        self._started = True
        log.info("scheduler.started", node=self.node, jobs=[j.name for j in self.schedule.jobs])

    def stop(self) -> None:
        """Let running jobs finish, then give up the leadership. Safe to call twice."""
        if not self._started:
            return
        self._started = False
        self._scheduler.shutdown(wait=True)
        self.leadership.stop()
        log.info("scheduler.stopped", node=self.node)

    def is_leader(self) -> bool:
        return self.leadership.is_leader()

    def keep_current(self) -> bool:
        """Bring in holiday notices recorded since (``Schedule.refresh``) and, if the calendar
        changed since the jobs were planned, plan each job's next fire time again. True if so."""
        try:
            if self.schedule.refresh is not None:
                self.schedule.refresh()
        except Exception:
            log.exception("scheduler.calendar.refresh_failed", node=self.node)
        with self._planning:
            revision = self.schedule.calendar.revision
            if revision == self._planned_revision:
                return False
            now = self._clock()
            for job in self.schedule.jobs:
                following = self.schedule.trigger(job).get_next_fire_time(None, now)
                if self._started and self._scheduler.get_job(job.name) is not None:
                    self._scheduler.modify_job(job.name, next_run_time=following)
            self._planned_revision = revision
        log.info("scheduler.calendar.replanned", node=self.node, revision=revision)
        return True

    def planned(self) -> dict[str, dt.datetime | None]:
        """Each job's next fire time as the running scheduler has it planned (None: paused)."""
        return {
            job.name: found.next_run_time
            for job in self.schedule.jobs
            if (found := self._scheduler.get_job(job.name)) is not None
        }

    def run_now(self, job: JobSpec) -> None:
        """One fire time of one job (APScheduler calls this at each): only on the leader, never
        fatal to the scheduler, and not at all if a notice recorded since it was planned makes
        its day a holiday."""
        replanned = self.keep_current()
        now = self._clock()
        instant = self.schedule.scheduled_instant(job, now)
        bound = log.bind(job=job.name, scheduled_for=instant.isoformat(), node=self.node)
        if replanned and not self.schedule.holds_at(job, instant):
            bound.info("scheduler.job.skipped", reason="calendar changed")
            return
        if not self._may_run(instant, bound):
            return
        bound.info("scheduler.job.started")
        try:
            job.run(now)
        except Exception:
            bound.exception("scheduler.job.failed")
            return
        bound.info("scheduler.job.finished")

    def _may_run(self, instant: dt.datetime, bound: Any) -> bool:
        if not self.leadership.is_leader():
            bound.debug("scheduler.job.skipped", reason="standby")
            return False
        since = self.leadership.leader_since()
        if since is not None and instant < since:
            bound.info("scheduler.job.skipped", reason="scheduled before this node led")
            return False
        return True


class ServeScheduler(SchedulerHandle):
    """The scheduler inside ``duban serve``: if another process already schedules this SQLite
    store (``duban scheduler run``), the server still serves, without a scheduler of its own."""

    def start(self) -> None:
        try:
            super().start()
        except SchedulerAlreadyRunning as exc:
            log.warning("scheduler.not_started", reason=str(exc))


def run_forever(handle: SchedulerHandle) -> None:
    """``duban scheduler run``: start ``handle``, run until SIGINT or SIGTERM, then stop cleanly.

    ``SchedulerAlreadyRunning`` if another scheduler owns the SQLite store.
    """
    stopping = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("scheduler.signal", signal=signal.Signals(signum).name)
        stopping.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        handle.start()
        try:
            while not stopping.wait(1.0):
                pass
        finally:
            handle.stop()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
