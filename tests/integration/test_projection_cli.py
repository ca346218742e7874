"""`duban board`, `duban audit …` and `duban rebuild` through the real command on an SQLite file."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from duban.cli.projections import recorded_text
from tests.support.cli_zygote import run_cli
from tests.support.clock import FIXED_NOW, NOW_ENV

TASKS = """编号,改革任务,牵头单位,配合单位,领衔领导,完成时限,专责小组
2024-01,深化项目攻坚突破年活动,县发展和改革局,县财政局,王建国,2099-06-30,经济组
2024-02,推进教育改革,县教育局,,李明,持续推进,社会组
"""
ZHANG = "liaison:县发展和改革局/张伟"


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    channels = "".join(
        f'[[channels]]\nname = "{n}"\nplatform = "console"\n' for n in ("office", "leaders")
    )
    (tmp_path / "duban.toml").write_text(
        f'store = "sqlite:///{tmp_path / "duban.db"}"\n{channels}', encoding="utf-8"
    )
    (tmp_path / "tasks.csv").write_text(TASKS, encoding="utf-8")
    return tmp_path


def duban(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`duban ARGS` in `workdir`, forked from the shared zygote (the real entry point, without
    a second of start-up per command)."""
    env = {**os.environ, "DUBAN_CONFIG": str(workdir / "duban.toml")}
    return run_cli(args, env=env, cwd=workdir)


def ok(workdir: Path, *args: str) -> str:
    result = duban(workdir, *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_board_audit_and_verify_from_the_command_line(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(NOW_ENV, FIXED_NOW.isoformat())  # every command runs at this moment
    ok(workdir, "import", "tasks.csv")
    ok(workdir, "task", "claim", "2024-01", "--as", ZHANG)
    ok(
        workdir,
        "task",
        "report",
        "2024-01",
        "--text",
        "方案已起草",
        "--percent",
        "30",
        "--as",
        ZHANG,
    )

    rows = json.loads(ok(workdir, "board", "--format", "json", "--as", "liaison:县财政局/李娜"))
    assert [(r["code"], r["light"], r["percent"]) for r in rows] == [
        ("2024-01", "green", 30),
        ("2024-02", "green", 0),
    ]
    assert rows[1]["deadline"] is None
    unit = json.loads(ok(workdir, "board", "--unit", "县财政局", "--format", "json"))
    assert [r["code"] for r in unit] == ["2024-01"]
    assert "编号,改革任务" in ok(workdir, "board", "--format", "csv")
    table = ok(workdir, "board")
    assert "绿灯 2，黄灯 0，红灯 0，已关闭 0" in table

    before = (FIXED_NOW.date() - dt.timedelta(days=2)).isoformat()
    assert json.loads(ok(workdir, "board", "--as-of", before, "--format", "json")) == []
    # 1-2: the tasks assigned, 3: their 交办通知 queued (one chat: the office's), 4: the claim
    at_two = json.loads(ok(workdir, "board", "--at-position", "4", "--format", "json"))
    assert [(r["code"], r["status"]) for r in at_two] == [
        ("2024-01", "claimed"),
        ("2024-02", "assigned"),
    ]

    ok(workdir, "board", "--format", "xlsx", "--output", "board.xlsx")
    sheet = load_workbook(workdir / "board.xlsx").active
    assert sheet is not None
    assert [c.value for c in sheet[1]][:3] == ["编号", "改革任务", "领域"]
    assert sheet.max_row == 3

    lines = ok(workdir, "audit", "log", "--task", "2024-01", "--format", "jsonl").splitlines()
    assert [json.loads(line)["summary"] for line in lines][-1] == (
        "县发展和改革局 张伟 报送进展：30%，方案已起草"
    )

    verified = ok(workdir, "audit", "verify")
    assert "校验通过：5 条事件" in verified  # with the 交办通知
    head = json.loads(ok(workdir, "audit", "head", "--format", "json"))
    assert head["position"] == 5
    assert f"链头 {head['hash']}@5" in verified

    with closing(sqlite3.connect(workdir / "duban.db")) as conn:
        conn.execute("UPDATE stored_events SET state = state || x'20' WHERE rowid = 3")
        conn.commit()
    broken = duban(workdir, "audit", "verify", "--as", "auditor:督查室")
    assert broken.returncode == 1
    assert "第 3 号事件被修改" in broken.stderr
    refused = duban(workdir, "rebuild", "chain")
    assert refused.returncode == 1
    assert "拒绝重建" in refused.stderr


def test_rebuild_shows_progress_and_gives_the_same_board(workdir: Path) -> None:
    ok(workdir, "import", "tasks.csv")
    before = ok(workdir, "board", "--format", "json")
    result = duban(workdir, "rebuild", "board")
    assert result.returncode == 0, result.stderr
    assert "board: 2/3 events" in result.stderr  # the tasks and their 交办通知
    assert ok(workdir, "board", "--format", "json") == before
    assert duban(workdir, "rebuild", "nonsense").returncode == 2
    assert duban(workdir, "rebuild", "all", "--as", "auditor:督查室").returncode == 1


# ---- time as recorded (issue 13): a backdated action shows when it was written ---------------

PAST_TASK = """编号,改革任务,牵头单位,配合单位,领衔领导,完成时限,专责小组
2024-07,推进医保支付方式改革,县发展和改革局,,王建国,2024-06-28,社会组
"""


def _table(text: str) -> tuple[list[str], list[str]]:
    """The header line's column names and the data lines of a plain table."""
    lines = text.splitlines()
    return lines[0].split(), lines[2:]


def test_the_audit_table_shows_the_recorded_time_of_a_backdated_sweep(workdir: Path) -> None:
    (workdir / "past.csv").write_text(PAST_TASK, encoding="utf-8")
    ok(workdir, "import", "past.csv")
    header, _ = _table(ok(workdir, "audit", "log"))
    assert header == ["#", "时间", "任务", "事项"]  # nothing backdated: no extra column

    ok(workdir, "sweep", "--now", "2024-06-27T10:00", "--no-deliver")
    header, lines = _table(ok(workdir, "audit", "log"))
    assert header == ["#", "时间", "记录时间", "任务", "事项"]
    entries = [
        json.loads(line)
        for line in ok(workdir, "audit", "log", "--format", "jsonl").split("\n")
        if line
    ]
    assert all(e["at"] and e["recorded_at"] for e in entries)  # the JSON keeps both
    backdated = [e for e in entries if e["at"].startswith("2024-06-27T10:00")]
    assert {e["type"] for e in backdated} >= {"Reminder.Issued", "ChatMessage.Queued"}
    by_position = {line.split()[0]: line for line in lines}
    tz = ZoneInfo("Asia/Shanghai")
    for entry in entries:
        line = by_position[str(entry["position"])]
        written = dt.datetime.fromisoformat(entry["recorded_at"]).astimezone(tz)
        shown = f"{written:%Y-%m-%d %H:%M:%S}"
        if entry in backdated:
            assert line.split()[1:5] == ["2024-06-27", "10:00:00", *shown.split()]
        else:  # recorded as it happened: the column stays empty
            assert not re.fullmatch(r"\d{4}-\d{2}-\d{2}", line.split()[3]), line


@settings(max_examples=200, deadline=None)
@given(
    at=st.datetimes(dt.datetime(2000, 1, 1), dt.datetime(2099, 1, 1), timezones=st.just(dt.UTC)),
    shift=st.one_of(  # near the one-minute boundary, and backdated by up to years
        st.timedeltas(dt.timedelta(minutes=-2), dt.timedelta(minutes=2)),
        st.timedeltas(dt.timedelta(days=-900), dt.timedelta(days=900)),
    ),
    offset_hours=st.integers(-12, 14),
)
def test_the_recorded_time_is_shown_exactly_when_over_a_minute_away(
    at: dt.datetime, shift: dt.timedelta, offset_hours: int
) -> None:
    stated = at.astimezone(
        dt.timezone(dt.timedelta(hours=offset_hours))
    )  # any zone it was written in
    written = at + shift
    text = recorded_text(stated.isoformat(), written.isoformat(), ZoneInfo("Asia/Shanghai"))
    if abs(shift) <= dt.timedelta(minutes=1):
        assert text == ""
    else:
        assert text == f"{written.astimezone(ZoneInfo('Asia/Shanghai')):%Y-%m-%d %H:%M:%S}"


def test_the_recorded_time_is_left_empty_when_either_time_is_missing() -> None:
    tz = ZoneInfo("Asia/Shanghai")
    assert recorded_text(None, "2026-12-01T01:00:00+00:00", tz) == ""
    assert recorded_text("2024-06-27T10:00:00+08:00", None, tz) == ""
    assert recorded_text("2024-06-27T10:00:00+08:00", "2024-06-27T02:01:00+00:00", tz) == ""
    shown = recorded_text("2024-06-27T10:00:00+08:00", "2024-06-27T02:01:01+00:00", tz)
    assert shown == "2024-06-27 10:01:01"
