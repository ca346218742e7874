"""Jobs built from the config: explicit APScheduler settings, fire times, and the run wrapper."""

from __future__ import annotations

import datetime as dt
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from structlog.testing import capture_logs

from duban.settings.config import Config, parse_config
from scheduler.jobs import MISFIRE_GRACE_SECONDS, add_jobs, job_specs, scheduled_instant
from scheduler.leader import SchedulerAlreadyRunning, leadership_for
from scheduler.runner import JOBS_MODULE_ENV, SchedulerHandle

TZ = ZoneInfo("Asia/Shanghai")
CHANNELS = [{"name": "office", "platform": "console"}, {"name": "leaders", "platform": "console"}]


def make_config(**schedules: str) -> Config:
    return parse_config(
        {"channels": CHANNELS, "store": "sqlite:///:memory:", "schedules": schedules}
    )


def test_every_job_states_timezone_grace_coalesce_and_single_instance() -> None:
    scheduler = BackgroundScheduler(timezone=TZ)
    add_jobs(scheduler, job_specs(make_config()), lambda spec: None)
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
    (sweep, *_) = job_specs(make_config(sweep="0 9 * * 1-5"))
    friday = dt.datetime(2024, 6, 7, 10, 0, tzinfo=TZ)
    assert [t.strftime("%a %d %H:%M %z") for t in sweep.next_fire_times(friday)] == [
        "Mon 10 09:00 +0800",
        "Tue 11 09:00 +0800",
        "Wed 12 09:00 +0800",
    ]


def test_a_late_run_belongs_to_the_fire_time_before_it() -> None:
    (sweep, *_) = job_specs(make_config(sweep="*/15 9-17 * * 1-5"))
    late = dt.datetime(2024, 6, 3, 9, 17, 42, tzinfo=TZ)
    assert scheduled_instant(sweep, late) == dt.datetime(2024, 6, 3, 9, 15, tzinfo=TZ)
    on_time = dt.datetime(2024, 6, 3, 9, 30, tzinfo=TZ)
    assert scheduled_instant(sweep, on_time) == on_time


# ---- the run wrapper -------------------------------------------------------------------------

JOBS_SOURCE = """
    RUNS = []

    def sweep(services, now):
        RUNS.append(("sweep", now))

    def deliver(services, now):
        raise RuntimeError("platform down")

    JOBS = {"sweep": sweep, "deliver": deliver}
"""


@pytest.fixture
def jobs_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    name = f"standin_jobs_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(JOBS_SOURCE))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv(JOBS_MODULE_ENV, name)
    yield name
    sys.modules.pop(name, None)


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


def handle_led_since(since: dt.datetime | None) -> SchedulerHandle:
    services: Any = SimpleNamespace(config=make_config())
    handle = SchedulerHandle(services, clock=lambda: MONDAY_0916)
    handle.leadership = StubLeadership(since)
    return handle


def spec(handle: SchedulerHandle, name: str) -> Any:
    return next(s for s in job_specs(handle.services.config) if s.name == name)


LONG_AGO = dt.datetime(2024, 1, 1, tzinfo=TZ)


def test_a_job_runs_with_the_services_and_the_clock_now(jobs_module: str) -> None:
    handle = handle_led_since(LONG_AGO)
    handle._run(spec(handle, "sweep"))
    assert sys.modules[jobs_module].RUNS == [("sweep", MONDAY_0916)]


def test_a_failing_job_is_logged_and_the_next_still_runs(jobs_module: str) -> None:
    handle = handle_led_since(LONG_AGO)
    with capture_logs() as logs:
        handle._run(spec(handle, "deliver"))
        handle._run(spec(handle, "sweep"))
    events = [(e["event"], e.get("job")) for e in logs]
    assert ("scheduler.job.failed", "deliver") in events
    assert ("scheduler.job.finished", "sweep") in events
    assert len(sys.modules[jobs_module].RUNS) == 1


def test_a_run_logs_its_scheduled_instant(jobs_module: str) -> None:
    handle = handle_led_since(LONG_AGO)
    with capture_logs() as logs:
        handle._run(spec(handle, "sweep"))
    assert {e["scheduled_for"] for e in logs} == {"2024-06-03T09:15:00+08:00"}


def test_a_job_not_written_yet_is_skipped_with_a_warning(jobs_module: str) -> None:
    handle = handle_led_since(LONG_AGO)
    with capture_logs() as logs:
        handle._run(spec(handle, "chain_head"))
    assert [(e["event"], e["log_level"]) for e in logs] == [("scheduler.job.missing", "warning")]


def test_a_standby_runs_nothing(jobs_module: str) -> None:
    handle = handle_led_since(None)
    handle._run(spec(handle, "sweep"))
    assert jobs_module not in sys.modules or sys.modules[jobs_module].RUNS == []


def test_fire_times_from_before_this_node_led_are_left_to_the_old_leader(jobs_module: str) -> None:
    handle = handle_led_since(dt.datetime(2024, 6, 3, 9, 15, 2, tzinfo=TZ))
    with capture_logs() as logs:
        handle._run(spec(handle, "sweep"))  # fire time 09:15:00, leading since 09:15:02
    assert [e.get("reason") for e in logs] == ["scheduled before this node led"]
    assert jobs_module not in sys.modules or sys.modules[jobs_module].RUNS == []


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
