"""Jobs handed to the scheduler: explicit APScheduler settings, fire times, and the run wrapper."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from structlog.testing import capture_logs

from duban.app.scheduled import JOBS, MISFIRE_GRACE_SECONDS
from duban.app.services import calendar_from_config
from duban.bootstrap import leadership_for, schedule_for
from duban.settings.config import Config, parse_config
from scheduler.jobs import JobSpec, Schedule
from scheduler.leader import (
    AdvisoryLockLeadership,
    FileLockLeadership,
    SchedulerAlreadyRunning,
)
from scheduler.runner import SchedulerHandle

TZ = ZoneInfo("Asia/Shanghai")
CHANNELS = [{"name": "office", "platform": "console"}, {"name": "leaders", "platform": "console"}]


def make_config(**schedules: str) -> Config:
    return parse_config(
        {"channels": CHANNELS, "store": "sqlite:///:memory:", "schedules": schedules}
    )


def configured(**schedules: str) -> Schedule:
    """The schedule the composition root builds (the jobs are never run here)."""
    config = make_config(**schedules)
    services: Any = SimpleNamespace(
        config=config, calendar=calendar_from_config(config), refresh_calendar=lambda: False
    )
    return schedule_for(services)


def job_named(schedule: Schedule, name: str) -> JobSpec:
    return next(job for job in schedule.jobs if job.name == name)


def test_every_configured_schedule_runs_its_job_in_the_configs_order() -> None:
    schedule = configured()
    names = [job.name for job in schedule.jobs]
    assert names == list(make_config().schedules.model_dump())
    assert set(names) == set(JOBS) == set(MISFIRE_GRACE_SECONDS)
    assert schedule.tz == TZ


def test_every_job_states_timezone_grace_coalesce_and_single_instance() -> None:
    scheduler = BackgroundScheduler(timezone=TZ)
    configured().add_to(scheduler, lambda job: None)
    jobs = scheduler.get_jobs()
    assert sorted(j.id for j in jobs) == sorted(MISFIRE_GRACE_SECONDS)
    for job in jobs:
        assert job.trigger.timezone == TZ
        assert job.misfire_grace_time == MISFIRE_GRACE_SECONDS[job.id] >= 120
        assert job.coalesce is True
        assert job.max_instances == 1


def test_daily_and_monthly_jobs_tolerate_longer_delays_than_sweeps() -> None:
    assert MISFIRE_GRACE_SECONDS["sweep"] == 300
    assert MISFIRE_GRACE_SECONDS["monthly_report"] > MISFIRE_GRACE_SECONDS["sweep"]
    assert MISFIRE_GRACE_SECONDS["annual_assessment"] > MISFIRE_GRACE_SECONDS["sweep"]


def test_weekday_numbers_are_crontab_numbers_in_the_config_zone() -> None:
    schedule = configured(sweep="0 9 * * 1-5")
    friday = dt.datetime(2024, 6, 7, 10, 0, tzinfo=TZ)
    times = schedule.next_fire_times(job_named(schedule, "sweep"), friday)
    assert [t.strftime("%a %d %H:%M %z") for t in times] == [
        "Mon 10 09:00 +0800",
        "Tue 11 09:00 +0800",
        "Wed 12 09:00 +0800",
    ]


def test_a_late_run_belongs_to_the_fire_time_before_it() -> None:
    schedule = configured(sweep="*/15 9-17 * * 1-5")
    sweep = job_named(schedule, "sweep")
    late = dt.datetime(2024, 6, 3, 9, 17, 42, tzinfo=TZ)
    assert schedule.scheduled_instant(sweep, late) == dt.datetime(2024, 6, 3, 9, 15, tzinfo=TZ)
    on_time = dt.datetime(2024, 6, 3, 9, 30, tzinfo=TZ)
    assert schedule.scheduled_instant(sweep, on_time) == on_time


def test_a_schedule_refuses_an_invalid_cron_and_a_repeated_name() -> None:
    with pytest.raises(ValueError, match="1-8"):
        Schedule([JobSpec("sweep", "0 9 * * 1-8", lambda now: None)], TZ)
    twice = [JobSpec("sweep", "* * * * *", lambda now: None)] * 2
    with pytest.raises(ValueError, match="unique"):
        Schedule(twice, TZ)


# ---- the run wrapper -------------------------------------------------------------------------

MONDAY_0916 = dt.datetime(2024, 6, 3, 9, 16, 30, tzinfo=TZ)  # sweep "*/15 9-17 * * 1-5" fired 09:15


class StubLeadership:
    """Leader (or not) since a given moment: the election itself is tested against PostgreSQL."""

    def __init__(self, since: dt.datetime | None) -> None:
        self.since = since

    def start(self) -> None:
        pass

    def is_leader(self) -> bool:
        return self.since is not None

    def leader_since(self) -> dt.datetime | None:
        return self.since

    def stop(self) -> None:
        pass


class Recorded:
    """A schedule of recording stand-ins: `sweep` records its `now`, `deliver` raises."""

    def __init__(self) -> None:
        self.runs: list[tuple[str, dt.datetime]] = []
        self.schedule = Schedule(
            [
                JobSpec("sweep", "*/15 9-17 * * 1-5", self.sweep),
                JobSpec("deliver", "* 9-18 * * 1-5", self.deliver, misfire_grace_time=120),
            ],
            TZ,
        )

    def sweep(self, now: dt.datetime) -> None:
        self.runs.append(("sweep", now))

    def deliver(self, now: dt.datetime) -> None:
        raise RuntimeError("platform down")

    def handle_led_since(self, since: dt.datetime | None) -> SchedulerHandle:
        return SchedulerHandle(self.schedule, StubLeadership(since), clock=lambda: MONDAY_0916)

    def job(self, name: str) -> JobSpec:
        return job_named(self.schedule, name)


@pytest.fixture
def recorded() -> Recorded:
    return Recorded()


LONG_AGO = dt.datetime(2024, 1, 1, tzinfo=TZ)


def test_a_job_runs_with_the_clock_now(recorded: Recorded) -> None:
    recorded.handle_led_since(LONG_AGO).run_now(recorded.job("sweep"))
    assert recorded.runs == [("sweep", MONDAY_0916)]


def test_a_failing_job_is_logged_and_the_next_still_runs(recorded: Recorded) -> None:
    handle = recorded.handle_led_since(LONG_AGO)
    with capture_logs() as logs:
        handle.run_now(recorded.job("deliver"))
        handle.run_now(recorded.job("sweep"))
    events = [(e["event"], e.get("job")) for e in logs]
    assert ("scheduler.job.failed", "deliver") in events
    assert ("scheduler.job.finished", "sweep") in events
    assert len(recorded.runs) == 1


def test_a_run_logs_its_scheduled_instant(recorded: Recorded) -> None:
    handle = recorded.handle_led_since(LONG_AGO)
    with capture_logs() as logs:
        handle.run_now(recorded.job("sweep"))
    assert {e["scheduled_for"] for e in logs} == {"2024-06-03T09:15:00+08:00"}


def test_a_standby_runs_nothing(recorded: Recorded) -> None:
    recorded.handle_led_since(None).run_now(recorded.job("sweep"))
    assert recorded.runs == []


def test_fire_times_from_before_this_node_led_are_left_to_the_old_leader(
    recorded: Recorded,
) -> None:
    handle = recorded.handle_led_since(dt.datetime(2024, 6, 3, 9, 15, 2, tzinfo=TZ))
    with capture_logs() as logs:
        handle.run_now(recorded.job("sweep"))  # fire time 09:15:00, leading since 09:15:02
    assert [e.get("reason") for e in logs] == ["scheduled before this node led"]
    assert recorded.runs == []


# ---- leadership, as the composition root chooses it -------------------------------------------


def test_the_sqlite_leadership_is_exclusive_per_database_file(tmp_path: Path) -> None:
    first = leadership_for(f"sqlite:///{tmp_path / 'duban.db'}", lease=1)
    second = leadership_for(f"sqlite:///{tmp_path / 'duban.db'}", lease=1)
    first.start()
    try:
        with pytest.raises(SchedulerAlreadyRunning, match=r"duban\.db\.scheduler\.lock"):
            second.start()
        assert first.is_leader()
        assert not second.is_leader()
    finally:
        first.stop()
    second.start()  # released on stop
    second.stop()


def test_each_store_gets_its_kind_of_leadership(tmp_path: Path) -> None:
    on_file = leadership_for(f"sqlite:///{tmp_path / 'duban.db'}")
    assert isinstance(on_file, FileLockLeadership)
    assert on_file.lock_path == tmp_path / "duban.db.scheduler.lock"
    in_memory = leadership_for("sqlite:///:memory:")
    assert isinstance(in_memory, FileLockLeadership)
    assert in_memory.lock_path is None
    on_server = leadership_for("postgresql://duban:pw@db.example:6543/ledger", lease=3)
    assert isinstance(on_server, AdvisoryLockLeadership)
    assert on_server.lease == 3
    assert "host=db.example port=6543 dbname=ledger user=duban" in on_server.conninfo
