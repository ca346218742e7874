"""The running scheduler: APScheduler in the background, jobs gated by leadership.

``start_scheduler(services)`` is what ``duban serve`` and ``duban scheduler run`` use; the
returned ``SchedulerHandle`` stops it gracefully (running jobs finish, then the leadership is
released). Every node runs the same in-memory schedule; at each fire time a node that is not
the leader skips the run, so leadership can move between fire times without the schedule
itself being handed over. A node that has just become leader also skips fire times from
before it led: the previous leader may have run them.

Each run calls ``JOBS[name](services, now)`` from ``duban.app.scheduled`` (imported at the first
run; the module may be replaced with ``$DUBAN_JOBS_MODULE``, which the multi-node tests use). A job
that is missing is logged and skipped; a job that raises is logged and the scheduler goes on.
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING, Any

import structlog
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from scheduler.jobs import JobSpec, add_jobs, job_specs, scheduled_instant
from scheduler.leader import Leadership, SchedulerAlreadyRunning, leadership_for, node_id

if TYPE_CHECKING:  # the composition root imports this module: no import back at run time
    from duban.app.services import Services

__all__ = [
    "DEFAULT_LEASE_SECONDS",
    "JOBS_MODULE_ENV",
    "SchedulerHandle",
    "run_forever",
    "scheduler_service",
    "start_scheduler",
]

DEFAULT_LEASE_SECONDS = 10.0
JOBS_MODULE_ENV = "DUBAN_JOBS_MODULE"
_DEFAULT_JOBS_MODULE = "duban.app.scheduled"

log = structlog.get_logger("duban.scheduler")

Job = Callable[["Services", dt.datetime], None]


class SchedulerHandle:
    """One node's scheduler: ``start()`` (raises ``SchedulerAlreadyRunning``), ``stop()``."""

    def __init__(
        self,
        services: Services,
        *,
        lease: float = DEFAULT_LEASE_SECONDS,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.services = services
        tz = services.config.tz
        self._clock = clock or (lambda: dt.datetime.now(tz))
        self.node = node_id()
        self.leadership: Leadership = leadership_for(services.config.store, lease)
        self._specs = job_specs(services.config)
        self._scheduler = BackgroundScheduler(
            timezone=services.config.tz,
            executors={"default": ThreadPoolExecutor(max_workers=len(self._specs))},
        )
        self._jobs: dict[str, Job] | None = None
        self._started = False

    def start(self) -> None:
        """Take part in the election (or refuse, on a shared SQLite file), then schedule."""
        self.leadership.start()
        try:
            add_jobs(self._scheduler, self._specs, self._run)
            self._scheduler.start()
        except BaseException:
            self.leadership.stop()  # never hold the lock without a scheduler behind it
            raise
        self._started = True
        log.info("scheduler.started", node=self.node, jobs=[s.name for s in self._specs])

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

    def _run(self, spec: JobSpec) -> None:
        """One fire time of one job: only on the leader, and never fatal to the scheduler."""
        now = self._clock()
        instant = scheduled_instant(spec, now)
        bound = log.bind(job=spec.name, scheduled_for=instant.isoformat(), node=self.node)
        if not self._may_run(instant, bound):
            return
        job = self._job(spec.name)
        if job is None:
            bound.warning("scheduler.job.missing", module=_jobs_module_name())
            return
        bound.info("scheduler.job.started")
        try:
            job(self.services, now)
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

    def _job(self, name: str) -> Job | None:
        if self._jobs is None:
            self._jobs = _load_jobs()
        return self._jobs.get(name)


def _jobs_module_name() -> str:
    return os.environ.get(JOBS_MODULE_ENV) or _DEFAULT_JOBS_MODULE


def _load_jobs() -> dict[str, Job]:
    """``JOBS`` of the jobs module; empty (every run then logs "missing") if it is absent."""
    name = _jobs_module_name()
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        log.warning("scheduler.jobs_module.missing", module=name)
        return {}
    jobs: dict[str, Job] = dict(getattr(module, "JOBS", {}))
    return jobs


def start_scheduler(services: Services, *, lease: float = DEFAULT_LEASE_SECONDS) -> SchedulerHandle:
    """A started scheduler for this node; ``SchedulerAlreadyRunning`` if SQLite is taken."""
    handle = SchedulerHandle(services, lease=lease)
    handle.start()
    return handle


class _ServeScheduler(SchedulerHandle):
    """The scheduler inside ``duban serve``: if another process already schedules this SQLite
    store (``duban scheduler run``), the server still serves, without a scheduler of its own."""

    def start(self) -> None:
        try:
            super().start()
        except SchedulerAlreadyRunning as exc:
            log.warning("scheduler.not_started", reason=str(exc))


def scheduler_service(services: Services) -> SchedulerHandle:
    """An unstarted handle: the ``start()``/``stop()`` background service ``duban serve`` runs."""
    return _ServeScheduler(services)


def run_forever(services: Services, *, lease: float = DEFAULT_LEASE_SECONDS) -> None:
    """``duban scheduler run``: run until SIGINT or SIGTERM, then stop cleanly."""
    stopping = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("scheduler.signal", signal=signal.Signals(signum).name)
        stopping.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        handle = start_scheduler(services, lease=lease)
        try:
            while not stopping.wait(1.0):
                pass
        finally:
            handle.stop()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
