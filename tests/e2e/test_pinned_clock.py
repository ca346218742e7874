"""`$DUBAN_NOW`: one moment for every `duban` command and a running `duban serve`, so that an
operator can rehearse a day and no test depends on the day the suite runs (issue 16)."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.api import row, write_config
from tests.support.clock import FIXED_NOW, NOW_ENV
from tests.support.server import DUBAN, ServeProcess, duban, start_serve


def _run(config: Path, now: str | None, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != NOW_ENV}
    if now is not None:
        env[NOW_ENV] = now
    return subprocess.run(
        [str(DUBAN), "--config", str(config), *args],
        capture_output=True, text=True, env=env, cwd=config.parent, timeout=120, check=False,
    )  # fmt: skip


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path, f"sqlite:///{tmp_path / 'duban.db'}")


def _tasks_csv(directory: Path, deadline: dt.date) -> Path:
    path = directory / "tasks.csv"
    path.write_text(
        f"编号,改革任务,牵头单位,完成时限\n2026-01,深化财政预算管理改革,县财政局,{deadline}\n",
        encoding="utf-8",
    )
    return path


def _assigned_at(config: Path) -> str:
    entries = [json.loads(line) for line in duban(config, "audit", "log", "--format", "jsonl")
               .splitlines()]  # fmt: skip
    (at,) = {e["at"] for e in entries if e["type"] == "ReformTask.Assigned"}
    return str(at)


@pytest.mark.parametrize(
    "written",
    ["2026-06-15T09:30", "2026-06-15T09:30:00+08:00", "2026-06-15T01:30:00+00:00"],
)
def test_every_command_records_the_pinned_moment_naive_meaning_the_config_zone(
    config: Path, written: str
) -> None:
    tasks = _tasks_csv(config.parent, FIXED_NOW.date() + dt.timedelta(days=3))
    done = _run(config, written, "import", str(tasks))
    assert done.returncode == 0, done.stderr
    assert dt.datetime.fromisoformat(_assigned_at(config)) == FIXED_NOW
    board = _run(config, written, "board", "--format", "json")
    assert [r["light"] for r in json.loads(board.stdout)] == ["yellow"]  # due in 3 days
    a_month_later = (FIXED_NOW + dt.timedelta(days=30)).isoformat()
    later = _run(config, a_month_later, "board", "--format", "json")
    assert [r["light"] for r in json.loads(later.stdout)] == ["red"]  # overdue by then


def test_a_now_option_overrides_the_pinned_moment(config: Path) -> None:
    tasks = _tasks_csv(config.parent, FIXED_NOW.date() + dt.timedelta(days=3))
    assert _run(config, FIXED_NOW.isoformat(), "import", str(tasks)).returncode == 0
    imported = len(duban(config, "audit", "log", "--format", "jsonl").splitlines())
    swept = _run(config, FIXED_NOW.isoformat(), "sweep", "--now", "2026-06-18T10:00",
                 "--no-deliver")  # fmt: skip
    assert swept.returncode == 0, swept.stderr
    entries = [json.loads(line) for line in duban(config, "audit", "log", "--format", "jsonl")
               .splitlines()]  # fmt: skip
    swept_at = {e["at"] for e in entries[imported:]}
    assert swept_at
    assert swept_at == {"2026-06-18T10:00:00+08:00"}  # the sweep's records: --now, not DUBAN_NOW
    jobs = _run(config, FIXED_NOW.isoformat(), "scheduler", "jobs", "--format", "json")
    assert jobs.returncode == 0, jobs.stderr
    assert dt.datetime.fromisoformat(json.loads(jobs.stdout)["from"]) == FIXED_NOW


@pytest.mark.parametrize(
    ("written", "said"),
    [
        ("明天上午", "环境变量 DUBAN_NOW：不是有效的日期时间「明天上午」"),
        ("2026-13-01", "环境变量 DUBAN_NOW：不是有效的日期时间「2026-13-01」"),
        ("9999-12-31T09:00", "环境变量 DUBAN_NOW：日期超出允许范围"),
    ],
)
def test_a_bad_pinned_moment_is_one_chinese_line_and_exit_2(
    config: Path, written: str, said: str
) -> None:
    done = _run(config, written, "board")
    assert done.returncode == 2
    assert done.stderr.startswith(f"错误：{said}"), done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


def test_an_empty_pinned_moment_is_the_machine_clock(config: Path) -> None:
    tasks = _tasks_csv(config.parent, dt.date(2099, 12, 31))
    assert _run(config, "", "import", str(tasks)).returncode == 0
    assert dt.datetime.fromisoformat(_assigned_at(config)) != FIXED_NOW


@pytest.fixture
def pinned_server(config: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ServeProcess]:
    monkeypatch.setenv(NOW_ENV, FIXED_NOW.isoformat())
    server = start_serve(config, config.parent / "logs", "--no-scheduler")
    try:
        yield server
    finally:
        server.stop()


def test_serve_answers_and_records_at_the_pinned_moment(
    config: Path, pinned_server: ServeProcess
) -> None:
    assert "时钟固定为 2026-06-15 09:30:00+0800（环境变量 DUBAN_NOW）" in pinned_server.output()
    office = json.loads(duban(config, "token", "issue", "--role", "office", "--format", "json"))
    soon = (FIXED_NOW.date() + dt.timedelta(days=3)).isoformat()
    later = (FIXED_NOW.date() + dt.timedelta(days=60)).isoformat()
    rows = [
        row("2024-01", deadline="2026-06-12", deadline_text="2026年6月12日", milestones=[]),
        row("2024-02", deadline=soon, deadline_text=soon, milestones=[]),
        row("2024-03", deadline=later, deadline_text=later, milestones=[]),
    ]
    headers = {"Authorization": f"Bearer {office['token']}"}
    with httpx.Client(base_url=f"{pinned_server.url}/api/v1", headers=headers) as api:
        api.post("/tasks/import", json={"rows": rows}).raise_for_status()
        board = api.get("/board").raise_for_status().json()
        audit = api.get("/audit").raise_for_status().json()
    assert board["today"] == FIXED_NOW.date().isoformat()
    lights = {r["code"]: r["light"] for r in board["rows"]}
    assert lights == {"2024-01": "red", "2024-02": "yellow", "2024-03": "green"}
    assigned = [e for e in audit if e["type"] == "ReformTask.Assigned"]
    assert len(assigned) == 3
    assert {dt.datetime.fromisoformat(e["at"]) for e in assigned} == {FIXED_NOW}
