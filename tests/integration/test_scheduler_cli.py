"""`duban scheduler jobs|run` as real processes: fire times, bad config, one per SQLite file.

The scheduler processes are started as an operator would start them; waits are bounded by
timeouts, never measured.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

CHANNELS = """
[[channels]]
name = "office"
platform = "console"

[[channels]]
name = "leaders"
platform = "console"
"""
START_TIMEOUT = 30.0


def write_config(path: Path, store: str, extra: str = "") -> Path:
    path.write_text(f'timezone = "Asia/Shanghai"\nstore = "{store}"\n{extra}\n{CHANNELS}')
    return path


def duban(config: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "duban.cli", "--config", str(config), *args]


def run_cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        duban(config, *args), check=False, capture_output=True, text=True, timeout=60
    )


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)


# ---- scheduler jobs ----------------------------------------------------------------------------


def test_weekdays_one_to_five_fire_monday_to_friday_at_nine_shanghai(
    sqlite_url: str, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "duban.toml", sqlite_url, '[schedules]\nsweep = "0 9 * * 1-5"')
    friday_after_nine = "2024-06-07T10:00:00"
    result = run_cli(config, "scheduler", "jobs", "--from", friday_after_nine, "--format", "json")
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    sweep = next(j for j in shown["jobs"] if j["name"] == "sweep")
    assert sweep["cron"] == "0 9 * * 1-5"
    assert sweep["next_fire_times"] == [
        "2024-06-10T09:00:00+08:00",  # Monday: the weekend is skipped
        "2024-06-11T09:00:00+08:00",  # Tuesday
        "2024-06-12T09:00:00+08:00",  # Wednesday
    ]


def test_a_whole_week_of_fire_times_is_monday_to_friday(sqlite_url: str, tmp_path: Path) -> None:
    config = write_config(tmp_path / "duban.toml", sqlite_url, '[schedules]\nsweep = "0 9 * * 1-5"')
    sunday = "2024-06-02T00:00:00"
    result = run_cli(
        config, "scheduler", "jobs", "--from", sunday, "--count", "6", "--format", "json"
    )
    sweep = next(j for j in json.loads(result.stdout)["jobs"] if j["name"] == "sweep")
    days = [time.strptime(t[:19], "%Y-%m-%dT%H:%M:%S") for t in sweep["next_fire_times"]]
    assert [d.tm_wday for d in days] == [0, 1, 2, 3, 4, 0]  # Python: 0 = Monday
    assert {(d.tm_hour, d.tm_min) for d in days} == {(9, 0)}
    assert all(t.endswith("+08:00") for t in sweep["next_fire_times"])


def test_the_table_lists_every_job_with_its_cron_and_three_fire_times(
    sqlite_url: str, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "duban.toml", sqlite_url, '[schedules]\nsweep = "0 9 * * 1-5"')
    result = run_cli(config, "scheduler", "jobs", "--from", "2024-06-07T10:00:00")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "Asia/Shanghai" in lines[0]
    sweep_line = next(line for line in lines if line.startswith("催办扫描 "))
    assert "周一至周五 09:00" in sweep_line  # the crontab in words; the expression is in json
    assert "2024-06-10 周一 09:00；2024-06-11 周二 09:00；2024-06-12 周三 09:00" in sweep_line
    names = ["消息投递", "月度报送轮次", "月分析", "季调度", "年督考", "台账校验值存证"]
    for name in names:
        assert any(line.startswith(f"{name} ") for line in lines), name


# ---- invalid config --------------------------------------------------------------------------


def test_an_invalid_cron_expression_is_refused_at_start_with_its_key(
    sqlite_url: str, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "bad.toml", sqlite_url, '[schedules]\nsweep = "0 9 * * 1-8"')
    for command in (["scheduler", "jobs"], ["scheduler", "run"]):
        result = run_cli(config, *command)
        assert result.returncode == 2
        assert "[schedules] sweep：" in result.stderr
        assert "1-8" in result.stderr


def test_an_invalid_ladder_is_refused_at_start_with_the_rung_named(
    sqlite_url: str, tmp_path: Path
) -> None:
    ladder = """
[[ladder.rungs]]
name = "notice"
offset = -5
audience = ["lead_unit"]

[[ladder.rungs]]
name = "urge"
offset = -5
audience = ["lead_unit", "office"]
"""
    config = write_config(tmp_path / "bad.toml", sqlite_url, ladder)
    result = run_cli(config, "scheduler", "jobs")
    assert result.returncode == 2
    assert "[ladder] rungs 第2项：" in result.stderr
    assert "urge" in result.stderr


# ---- one scheduler per SQLite file ------------------------------------------------------------


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def start_scheduler(
    config: Path, log: Path, processes: list[subprocess.Popen[str]]
) -> subprocess.Popen[str]:
    with log.open("w") as err:
        process = subprocess.Popen(
            duban(config, "--log-level", "INFO", "scheduler", "run"),
            stdout=subprocess.DEVNULL,
            stderr=err,
            text=True,
        )
    processes.append(process)
    wait_for(
        lambda: "scheduler.started" in log.read_text() or process.poll() is not None,
        START_TIMEOUT,
        "start",
    )
    assert process.poll() is None, log.read_text()
    return process


def test_a_second_scheduler_on_one_sqlite_file_refuses_to_start(
    sqlite_url: str, tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    config = write_config(tmp_path / "duban.toml", sqlite_url)
    first = start_scheduler(config, tmp_path / "first.log", processes)

    second = run_cli(config, "scheduler", "run")
    assert second.returncode == 1
    assert "另一个调度器" in second.stderr
    assert f":{first.pid}" in second.stderr  # the holder is named
    assert "duban.db.scheduler.lock" in second.stderr

    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=30) == 0
    assert "scheduler.stopped" in (tmp_path / "first.log").read_text()

    third = start_scheduler(config, tmp_path / "third.log", processes)  # the lock was released
    third.send_signal(signal.SIGINT)
    assert third.wait(timeout=30) == 0


def test_a_killed_scheduler_leaves_the_sqlite_file_free(
    sqlite_url: str, tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    config = write_config(tmp_path / "duban.toml", sqlite_url)
    first = start_scheduler(config, tmp_path / "first.log", processes)
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=30)
    second = start_scheduler(config, tmp_path / "second.log", processes)
    second.send_signal(signal.SIGTERM)
    assert second.wait(timeout=30) == 0
