"""The running scheduler: APScheduler in the background, jobs gated by leadership.

``SchedulerHandle(schedule, leadership)`` is built by the composition root, which hands it the
jobs (a ``Schedule`` of callables) and the leadership for its store; ``start()`` takes part in
the election and schedules, ``stop()`` stops gracefully (running jobs finish, then the
leadership is released). Every node runs the same in-memory schedule; at each fire time a node
that is not the leader skips the run, so leadership can move between fire times without the
schedule itself being handed over. A node that has just become leader also skips fire times
from before it led: the previous leader may have run them.

Each run calls the job's ``run(now)``; a job that raises is logged and the scheduler goes on.
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

__all__ = ["SchedulerHandle", "ServeScheduler", "run_forever"]

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
            executors={"default": ThreadPoolExecutor(max_workers=max(1, len(schedule.jobs)))},
        )
        self._started = False

    def start(self) -> None:
        """Take part in the election (or refuse, on a shared SQLite file), then schedule."""
        self.leadership.start()
        try:
            self.schedule.add_to(self._scheduler, self._run)
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

    def _run(self, job: JobSpec) -> None:
        """One fire time of one job: only on the leader, and never fatal to the scheduler."""
        now = self._clock()
        instant = self.schedule.scheduled_instant(job, now)
        bound = log.bind(job=job.name, scheduled_for=instant.isoformat(), node=self.node)
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
