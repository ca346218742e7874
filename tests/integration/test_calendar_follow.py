"""A running process follows a holiday notice imported by another (issue 13: the calendar as the
State Council publishes it, taken without a restart).

Year 2090 is covered by no chinesecalendar release, so it is computed Monday-Friday until a
notice is recorded. The notice written here gives one day off: Wednesday 2090-06-07 (端午节).
Every expectation below is counted by hand on the 2090 calendar: Monday 06-05, Friday 06-09.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from domain.roles import Identity
from duban.api import create_app
from duban.app.calendar_follow import CalendarFollower
from duban.app.commands import AssignTask
from duban.app.services import Services
from duban.bootstrap import bootstrap
from duban.cli.serve import scheduler_services
from duban.settings.config import load_config
from scheduler.jobs import JobSpec, Schedule
from scheduler.leader import FileLockLeadership
from scheduler.runner import SchedulerHandle
from tests.conftest import TZ, FakeClock
from tests.support.api import row, write_config
from tests.support.server import duban, start_serve
from tests.support.signin import sign_in_app

DUANWU = dt.date(2090, 6, 7)  # a Wednesday
NOTICE = """国务院办公厅关于2090年部分节假日安排的通知

各省、自治区、直辖市人民政府，国务院各部委、各直属机构：
一、端午节：6月7日（周三）放假，共1天。

国务院办公厅
2089年11月10日
"""
OFFICE = Identity("office", "改革办")


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = write_config(tmp_path, f"sqlite:///{tmp_path / 'var' / 'duban.db'}")
    with path.open("a", encoding="utf-8") as extra:
        extra.write("\n[calendar]\nfollow_seconds = 1\n")
    duban(path, "init")
    (tmp_path / "notice-2090.txt").write_text(NOTICE, encoding="utf-8")
    return path


def import_notice(config: Path, text: str | None = None) -> None:
    """`duban calendar import` in a process of its own, as the office runs it."""
    notice = config.parent / "notice-2090.txt"
    if text is not None:
        notice.write_text(text, encoding="utf-8")
    duban(config, "calendar", "import", str(notice))


def open_services(config: Path, clock: Callable[[], dt.datetime] | None = None) -> Services:
    return bootstrap(load_config(config), clock)


def test_a_built_calendar_takes_a_notice_recorded_by_another_process(config: Path) -> None:
    services = open_services(config)
    try:
        calendar = services.calendar
        assert calendar.is_working_day(DUANWU)
        assert calendar.source_of_year(2090) == "fallback"
        assert services.refresh_calendar() is False  # nothing new yet
        import_notice(config)
        assert services.refresh_calendar() is True
        assert services.calendar is calendar  # in place: every holder follows
        assert not calendar.is_working_day(DUANWU)
        assert calendar.source_of_year(2090) == "notice"
        assert calendar.add_working_days(dt.date(2090, 6, 5), 2) == dt.date(2090, 6, 8)
        assert services.refresh_calendar() is False  # each notice is taken once
        # A corrected text (06-08 off as well) revises the year; the calendar follows again.
        import_notice(
            config,
            NOTICE.replace("6月7日（周三）放假，共1天", "6月7日（周三）至8日（周四）放假，共2天"),
        )
        assert services.refresh_calendar() is True
        assert not calendar.is_working_day(dt.date(2090, 6, 8))
        assert calendar.revision == 2
    finally:
        services.ledger.close()


def test_a_process_started_after_the_import_reads_the_notice_at_once(config: Path) -> None:
    import_notice(config)
    services = open_services(config)
    try:
        assert not services.calendar.is_working_day(DUANWU)
        assert services.calendar.revision == 0  # read when built, not taken as a change
        assert services.refresh_calendar() is False
    finally:
        services.ledger.close()


def _reasons(html: str, code: str) -> str:
    found = re.search(
        rf'data-code="{re.escape(code)}".*?<small class="reasons">(.*?)</small>', html, re.S
    )
    return found.group(1) if found else ""


def test_the_board_of_a_running_server_follows_the_notice(config: Path) -> None:
    """The board's light reason counts working days to the deadline: Friday 06-09 seen on
    Monday 06-05 is 4 working days away Monday-Friday, 3 once 06-07 is a holiday."""
    clock = FakeClock(dt.datetime(2090, 6, 5, 10, 0, tzinfo=TZ))
    services = open_services(config, clock)
    services.ledger.import_tasks(
        [AssignTask.model_validate(row("2090-01", deadline="2090-06-09", milestones=[]))], OFFICE
    )
    follower = CalendarFollower(services, every=0.05)
    try:
        with TestClient(create_app(services, [follower])) as web:
            sign_in_app(web, services)
            assert "4个工作日内到期" in _reasons(web.get("/").text, "2090-01")
            import_notice(config)
            deadline = time.monotonic() + 60
            while "3个工作日内到期" not in _reasons(web.get("/").text, "2090-01"):
                assert time.monotonic() < deadline, "the running server never took the notice"
                time.sleep(0.05)
    finally:
        services.ledger.close()


def test_duban_serve_follows_the_notice_with_or_without_its_scheduler(
    config: Path, tmp_path: Path
) -> None:
    services = open_services(config)
    try:
        for enabled in (True, False):
            assert any(
                isinstance(s, CalendarFollower) for s in scheduler_services(services, enabled)
            )
    finally:
        services.ledger.close()
    server = start_serve(
        config, tmp_path / "logs", "--no-scheduler", env={"DUBAN_LOG_LEVEL": "INFO"}
    )
    try:
        import_notice(config)
        deadline = time.monotonic() + 60
        while "calendar.refreshed" not in server.output():
            assert time.monotonic() < deadline, server.output()
            time.sleep(0.1)
    finally:
        server.stop()


def test_the_scheduler_replans_and_skips_a_run_the_notice_makes_a_holiday(
    config: Path, tmp_path: Path
) -> None:
    """`workday 5 of month 09:00` in June 2090, which begins on a Thursday: its working days
    are 06-01 (Thu), 06-02 (Fri), 06-05 (Mon), 06-06 (Tue), 06-07 (Wed), 06-08 (Thu), so the
    fifth is 06-07 Monday-Friday and 06-08 once the notice gives 06-07 off."""
    clock = FakeClock(dt.datetime(2090, 6, 1, 8, 0, tzinfo=TZ))
    services = open_services(config, clock)
    ran: list[dt.datetime] = []
    job = JobSpec("monthly", "workday 5 of month 09:00", ran.append)
    schedule = Schedule(
        [job], TZ, services.calendar, refresh=services.refresh_calendar, follow_seconds=3600
    )
    handle = SchedulerHandle(schedule, FileLockLeadership(tmp_path / "sched.lock"), clock=clock)
    try:
        assert dt.date(2090, 6, 1).weekday() == 3  # the counting above starts on a Thursday
        assert schedule.next_fire_times(job, clock.now, 1) == [
            dt.datetime(2090, 6, 7, 9, 0, tzinfo=TZ)
        ]
        handle.start()
        import_notice(config)
        clock.now = dt.datetime(2090, 6, 7, 9, 0, tzinfo=TZ)
        handle.run_now(job)  # the fire time planned before the notice
        assert ran == []  # 06-07 is now a holiday: the run is skipped
        assert handle.planned() == {"monthly": dt.datetime(2090, 6, 8, 9, 0, tzinfo=TZ)}
        clock.now = dt.datetime(2090, 6, 8, 9, 0, tzinfo=TZ)
        handle.run_now(job)
        assert ran == [clock.now]
    finally:
        handle.stop()
        services.ledger.close()


def test_the_scheduler_follows_on_its_own_between_runs(config: Path, tmp_path: Path) -> None:
    clock = FakeClock(dt.datetime(2090, 6, 1, 8, 0, tzinfo=TZ))
    services = open_services(config, clock)
    job = JobSpec("monthly", "workday 5 of month 09:00", lambda _now: None)
    schedule = Schedule(
        [job], TZ, services.calendar, refresh=services.refresh_calendar, follow_seconds=0.05
    )
    handle = SchedulerHandle(schedule, FileLockLeadership(tmp_path / "sched.lock"), clock=clock)
    try:
        handle.start()
        import_notice(config)
        deadline = time.monotonic() + 60
        while handle.planned()["monthly"] != dt.datetime(2090, 6, 8, 9, 0, tzinfo=TZ):
            assert time.monotonic() < deadline, handle.planned()
            time.sleep(0.05)
    finally:
        handle.stop()
        services.ledger.close()
