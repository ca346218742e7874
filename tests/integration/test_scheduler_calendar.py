"""Schedules that follow the office calendar, with the default config (issue 13, items 2 and 3).

Item 2: a task due Friday 2024-10-11 is urged (催办, 1 working day after) on Saturday 2024-10-12,
an official working day (调休), in `scheduler preview` and in a scripted run of the real jobs at
the fire times of the default schedules. Item 3: `scheduler jobs` at a clock in late December
2026 shows the report round on the first working day of January 2027, never on a Sunday or a
holiday. The CLI runs as a real process on a real SQLite file.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from pathlib import Path
from typing import Any

from domain.roles import Identity
from duban.app.scheduled import JOBS
from duban.app.services import Services
from duban.bootstrap import schedule_for
from tests.conftest import TZ, FakeClock
from tests.support.cli_zygote import run_cli
from tests.support.sweep import FGJ, assign, county, deliver, issued, queued

ROOT = Path(__file__).resolve().parents[2]
D = dt.date
HEADER = "序号,编号,改革任务,牵头单位,配合单位,领衔领导,完成时限,阶段节点,专责小组,备注"


def example_config(folder: Path, extra: str = "") -> Path:
    """The example config (its schedules are the defaults) on a store in `folder`."""
    text = (ROOT / "examples/duban.toml").read_text(encoding="utf-8")
    path = folder / "duban.toml"
    store = f"sqlite:///{folder}/duban.db"
    path.write_text(text.replace("sqlite:///var/duban.db", store) + extra, "utf-8")
    return path


def duban(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DUBAN_CONFIG": str(config)}
    return run_cli([*args], env=env)


def jobs_shown(config: Path, start: str, count: int) -> dict[str, list[dt.datetime]]:
    result = duban(
        config, "scheduler", "jobs", "--from", start, "--count", str(count), "--format", "json"
    )
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    return {
        job["name"]: [dt.datetime.fromisoformat(t) for t in job["next_fire_times"]]
        for job in shown["jobs"]
    }


# ---- item 3: scheduler jobs in late December 2026 ----------------------------------------------


def test_the_default_schedules_never_fire_on_a_sunday_or_a_holiday(tmp_path: Path) -> None:
    config = example_config(tmp_path)
    shown = jobs_shown(config, "2026-12-21T12:00:00", 6)
    services_calendar = _calendar(config)
    for name, times in shown.items():
        for moment in times:
            assert moment.utcoffset() == dt.timedelta(hours=8), (name, moment)
            assert services_calendar.is_working_day(moment.date()), (name, moment)
            assert moment.weekday() != 6, (name, moment)  # never a Sunday in this span
    assert [t.date() for t in shown["report_round"][:2]] == [
        _first_working_day(services_calendar, D(2027, 1, 1)),
        _first_working_day(services_calendar, D(2027, 2, 1)),
    ]
    assert shown["report_round"][0].time() == dt.time(9)


def test_the_report_round_of_january_2027_waits_for_the_first_working_day_after_yuandan(
    tmp_path: Path,
) -> None:
    """2027 is not in chinesecalendar 1.11 and no notice is recorded: the Monday–Friday
    fallback, which still knows the fixed-date holidays, keeps 元旦 (Friday 01-01) off, so with
    the default config the round opens on Monday 2027-01-04."""
    config = example_config(tmp_path)
    shown = jobs_shown(config, "2026-12-28T12:00:00", 3)
    assert shown["report_round"][0] == dt.datetime(2027, 1, 4, 9, tzinfo=TZ)
    assert shown["monthly_report"][0] == dt.datetime(
        2027, 1, 6, 10, tzinfo=TZ
    )  # 3rd: not Sun 01-03
    assert shown["annual_assessment"][0] == dt.datetime(2027, 1, 15, 10, tzinfo=TZ)  # not Sun 01-10
    for name, times in shown.items():
        assert all(t.date() != D(2027, 1, 1) and t.weekday() < 5 for t in times), name


def test_after_the_2027_notice_is_imported_the_jobs_follow_it(tmp_path: Path) -> None:
    """The calendar the jobs follow is the ledger's: a recorded notice moves them."""
    config = example_config(tmp_path)
    assert duban(config, "init").returncode == 0
    notice = ROOT / "tests/data/notices/2027.txt"
    imported = duban(config, "calendar", "import", str(notice))
    assert imported.returncode == 0, imported.stderr
    shown = jobs_shown(config, "2026-12-28T12:00:00", 3)
    assert shown["report_round"][0] == dt.datetime(2027, 1, 4, 9, tzinfo=TZ)
    assert shown["report_round"][1] == dt.datetime(2027, 2, 1, 9, tzinfo=TZ)
    sweeps = jobs_shown(config, "2027-02-12T18:00:00", 1)["sweep"]
    assert sweeps == [dt.datetime(2027, 2, 14, 9, tzinfo=TZ)]  # a 调休 Sunday after 春节


def test_the_table_shows_the_working_day_rules(tmp_path: Path) -> None:
    config = example_config(tmp_path)
    result = duban(config, "scheduler", "jobs", "--from", "2024-10-11T18:00:00")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "计划" in lines[1]
    sweep = next(line for line in lines if line.startswith("催办扫描 "))
    assert "每个工作日 09:00至17:45每15分钟" in sweep
    assert "2024-10-12 周六 09:00" in sweep  # the 调休 Saturday
    round_line = next(line for line in lines if line.startswith("月度报送轮次 "))
    assert "每月第1个工作日 09:00" in round_line
    assert "2024-11-01 周五 09:00" in round_line


def test_a_bad_working_day_rule_is_refused_at_start_with_its_key(tmp_path: Path) -> None:
    config = example_config(tmp_path)
    _set_schedule(config, "report_round", "workday 0 of month 09:00")
    for command in (["scheduler", "jobs"], ["scheduler", "run"]):
        result = duban(config, *command)
        assert result.returncode == 2
        assert "[schedules] report_round：" in result.stderr
        assert "workday 0 of month 09:00" in result.stderr


# ---- item 2: urged on the 调休 Saturday ---------------------------------------------------------


def test_preview_urges_a_task_due_friday_on_the_working_saturday(tmp_path: Path) -> None:
    config = example_config(tmp_path)
    tasks = tmp_path / "tasks.csv"
    tasks.write_text(f"{HEADER}\n1,2024-90,调休测试任务,{FGJ},,,2024-10-11,,,\n", "utf-8")
    assert duban(config, "init").returncode == 0
    imported = duban(config, "import", str(tasks))
    assert imported.returncode == 0, imported.stderr
    result = duban(
        config,
        "scheduler",
        "preview",
        "--from",
        "2024-10-08",
        "--to",
        "2024-10-14",
        "--format",
        "json",
    )
    assert result.returncode == 0, result.stderr
    urged = [m for m in json.loads(result.stdout) if "2024-90" in m["task_codes"] and _urges(m)]
    assert urged, result.stdout
    assert {dt.datetime.fromisoformat(m["at"]).date() for m in urged} == {D(2024, 10, 12)}


def test_a_scripted_run_at_the_default_fire_times_urges_on_the_working_saturday(
    tmp_path: Path,
) -> None:
    clock = FakeClock(dt.datetime(2024, 9, 20, 8, tzinfo=TZ))
    services = county(f"sqlite:///{tmp_path / 'script.db'}", clock)
    assign(services, "A", D(2024, 10, 11))
    services.ledger.claim("A", Identity("liaison", "张伟", unit=FGJ))
    ran = _run_schedule(services, clock, D(2024, 10, 8), D(2024, 10, 14))
    fired = {(e.at.date(), e.rung) for e in issued(services) if e.task_code == "A"}
    assert (D(2024, 10, 12), "urge") in fired
    assert not any(rung == "urge" and day != D(2024, 10, 12) for day, rung in fired)
    urge_messages = [m for m in queued(services) if "A" in m.task_codes and _urges(m)]
    assert {m.at.date() for m in urge_messages} == {D(2024, 10, 12)}
    assert D(2024, 10, 12) in {at.date() for at, name in ran if name == "sweep"}
    assert not {at.date() for at, _ in ran} & {D(2024, 10, 13)}  # an ordinary Sunday


# ---- helpers ---------------------------------------------------------------------------------


def _urges(message: Any) -> bool:
    """Whether a queued (or previewed) digest is a 催办 digest."""
    title = message["title"] if isinstance(message, dict) else message.title
    parts = message["parts"] if isinstance(message, dict) else message.parts
    return "催办" in title or any("催办" in part for part in parts)


def _run_schedule(
    services: Services, clock: FakeClock, start: dt.date, end: dt.date
) -> list[tuple[dt.datetime, str]]:
    """Every job of the default schedule at each of its fire times from `start` to `end`, in
    order, with the clock at the fire time; delivery (every minute in the schedule) runs
    right after each sweep instead, which is when it finds something (console chats)."""
    schedule = schedule_for(services)
    first = dt.datetime.combine(start, dt.time(), tzinfo=TZ)
    last = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=TZ)
    ticks: list[tuple[dt.datetime, str]] = []
    for job in schedule.jobs:
        if job.name == "deliver":
            continue
        moment = first - dt.timedelta(microseconds=1)
        while (found := schedule.next_fire_times(job, moment, 1)) and found[0] < last:
            moment = found[0]
            ticks.append((moment, job.name))
    for at, name in sorted(ticks):
        clock.now = at
        JOBS[name](services, at)
        if name == "sweep":
            deliver(services, at)
    return sorted(ticks)


def _calendar(config: Path) -> Any:
    from duban.bootstrap import bootstrap

    services = bootstrap(config)
    try:
        return services.calendar
    finally:
        services.ledger.close()


def _first_working_day(calendar: Any, day: dt.date) -> dt.date:
    return calendar.add_working_days(day, 0)


def _set_schedule(config: Path, name: str, value: str) -> None:
    text = config.read_text("utf-8")
    config.write_text(
        text.replace("[office]", f'[schedules]\n{name} = "{value}"\n\n[office]', 1), "utf-8"
    )
