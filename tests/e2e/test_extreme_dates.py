"""Extreme dates (issue 16, item 5): `deadline: 9999-12-31` and `0001-01-01` are refused at
every door — `duban import`, every CLI date option, the config, a holiday notice, and a real
`duban serve` — naming the row or the field, recording nothing; and a store that already holds
such a deadline (written before the range existed) still builds its board and sweeps without
computing a calendar year outside the range.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from domain.roles import Identity
from duban.app import commands as cmd
from duban.app.reads import ReadModels
from duban.app.report_kinds import REPORT_KINDS, report_context
from duban.app.sweep import sweep
from tests.conftest import TZ, FakeClock
from tests.support.api import LEAD_UNIT, sample_rows, write_config
from tests.support.server import ServeProcess, duban, start_serve
from tests.support.sweep import FGJ, county

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "reliability" / "corpus" / "import"
RANGE = "日期超出允许范围（2000年1月1日至2099年12月31日）"
OFFICE = Identity("office", "改革办")


def _run(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "duban.cli", "--config", str(config), *args],
        capture_output=True, text=True, cwd=config.parent, timeout=120, check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip


def _events(db: Path) -> int:
    with closing(sqlite3.connect(db)) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM stored_events").fetchone()[0])


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file holding two tasks (2024-01 claimed by its lead), made once."""
    root = tmp_path_factory.mktemp("extreme-dates")
    config = write_config(root, f"sqlite:///{root / 'duban.db'}")
    duban(config, "init")
    tasks = root / "tasks.csv"
    tasks.write_text(
        "编号,改革任务,牵头单位,配合单位,完成时限\n"
        f"2024-01,深化“项目攻坚突破年”活动,{LEAD_UNIT},县财政局,2024年6月底\n"
        "2024-02,推进义务教育优质均衡发展,县教育局,,2024年底前\n",
        encoding="utf-8",
    )
    duban(config, "import", str(tasks))
    duban(config, "task", "claim", "2024-01", "--as", f"liaison:{LEAD_UNIT}/张伟")
    return root / "duban.db"


@pytest.fixture
def store(template: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A config on a private copy of the template store."""
    db = tmp_path / "duban.db"
    shutil.copy(template, db)
    return write_config(tmp_path, f"sqlite:///{db}"), db


# ---- `duban import` -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "named"),
    [
        ("extreme-dates.yaml", ["第4行「deadline」", "第8行「deadline」", "第12行「milestones」"]),
        ("extreme-dates-text.csv", ["第2行「完成时限」", "第3行「完成时限」", "第5行「阶段节点」"]),
        ("extreme-dates-excel.xlsx", ["第2行「完成时限」", "第3行「完成时限」"]),
    ],
)
def test_import_refuses_extreme_dates_naming_the_row_and_records_nothing(
    store: tuple[Path, Path], name: str, named: list[str]
) -> None:
    config, db = store
    before = _events(db)
    done = _run(config, "import", str(CORPUS / name))
    assert done.returncode == 1, done.stderr  # as every refused list (tests/reliability)
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    for where in named:
        line = next((line for line in lines if f" {where}：" in line), "")
        assert RANGE in line, (where, done.stderr)
    assert "未导入任何任务" in done.stderr
    assert _events(db) == before


def test_the_excel_serial_of_9999_12_31_is_named_as_that_date(store: tuple[Path, Path]) -> None:
    config, _db = store
    done = _run(config, "import", str(CORPUS / "extreme-dates-excel.xlsx"))
    assert f"第2行「完成时限」：{RANGE}：9999-12-31" in done.stderr


# ---- every CLI date option ------------------------------------------------------------------

CLI_CASES = [
    (("board", "--as-of", "9999-12-31"), "--as-of", "9999-12-31"),
    (("audit", "log", "--since", "0001-01-01"), "--since", "0001-01-01"),
    (
        ("task", "request-extension", "2024-01", "--to", "9999-12-31", "--reason", "资金未到位",
         "--as", f"liaison:{LEAD_UNIT}/张伟"),
        "--to", "9999-12-31",
    ),
    (("task", "grant-extension", "2024-01", "--to", "0001-01-01", "--reason", "同意"), "--to",
     "0001-01-01"),
    (("sweep", "--now", "9999-12-31T10:00", "--dry-run"), "--now", "9999-12-31 10:00:00+08:00"),
    (("deliver", "--now", "1999-12-31T10:00"), "--now", "1999-12-31 10:00:00+08:00"),
    (("scheduler", "preview", "--from", "2024-01-01", "--to", "9999-12-31"), "--to",
     "9999-12-31"),
    (("scheduler", "jobs", "--from", "2100-01-01T09:00"), "--from", "2100-01-01 09:00:00+08:00"),
    (("report", "monthly", "9999-12"), "month", "9999年"),
    (("report", "assessment", "1999"), "year", "1999年"),
    (("report", "monthly", "2024-06", "--as-of", "9999-12-31"), "--as-of", "9999-12-31"),
    (("calendar", "show", "9999"), "YEAR", "9999年"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "option", "value"), CLI_CASES, ids=[" ".join(c[0][:3]) for c in CLI_CASES]
)
def test_every_cli_date_option_refuses_a_date_outside_the_range(
    store: tuple[Path, Path], args: tuple[str, ...], option: str, value: str
) -> None:
    config, db = store
    before = _events(db)
    done = _run(config, *args)
    assert done.returncode == 2, done.stderr
    assert done.stderr == f"错误：{option}：{RANGE}：{value}\n"  # one Chinese line
    assert _events(db) == before


def test_the_last_day_of_the_range_is_still_a_date(store: tuple[Path, Path]) -> None:
    config, _db = store
    done = _run(config, "board", "--as-of", "2099-12-31", "--format", "json")
    assert done.returncode == 0, done.stderr


def test_a_config_date_outside_the_range_is_named(store: tuple[Path, Path]) -> None:
    config, _db = store
    text = config.read_text(encoding="utf-8")
    config.write_text(text + "\n[calendar]\nextra_holidays = [9999-12-31]\n", encoding="utf-8")
    done = _run(config, "board")
    assert done.returncode == 2, done.stderr
    assert f"[calendar] extra_holidays：{RANGE}：9999-12-31" in done.stderr


def test_a_holiday_notice_for_a_year_outside_the_range_is_refused(
    store: tuple[Path, Path], tmp_path: Path
) -> None:
    config, db = store
    notice = tmp_path / "notice.txt"
    notice.write_text(
        "国务院办公厅关于9999年部分节假日安排的通知\n一、元旦：1月1日放假，共1天。\n",
        encoding="utf-8",
    )
    before = _events(db)
    done = _run(config, "calendar", "import", str(notice))
    assert done.returncode == 2, done.stderr
    assert f"第1行无法识别（{RANGE}：9999年）" in done.stderr
    assert _events(db) == before


# ---- a real `duban serve` -------------------------------------------------------------------


@pytest.fixture
def server(store: tuple[Path, Path], tmp_path: Path) -> Iterator[ServeProcess]:
    process = start_serve(store[0], tmp_path / "logs", "--no-scheduler")
    yield process
    process.stop()


def _token(config: Path, *args: str) -> str:
    issued = json.loads(duban(config, "token", "issue", "--format", "json", *args))
    return str(issued["token"])


def test_the_api_answers_422_naming_the_field_and_records_nothing(
    store: tuple[Path, Path], server: ServeProcess
) -> None:
    config, db = store
    office = _token(config, "--role", "office")
    lead = _token(config, "--role", "liaison", "--unit", LEAD_UNIT, "--name", "张伟")
    extension = {"new_deadline": "9999-12-31", "reason": "资金未到位"}
    task = {**sample_rows()[0], "code": "2024-90", "deadline": "0001-01-01"}
    far_milestone = [{"name": "方案", "due": "9999-03-31"}]
    milestone = {**task, "deadline": "2024-12-31", "milestones": far_milestone}
    cases = [
        (lead, "POST", "/tasks/2024-01/extension/request", extension, "body.new_deadline"),
        (office, "POST", "/tasks", task, "body.deadline"),
        (office, "POST", "/tasks/import", {"rows": [milestone]}, "body.rows.0.milestones.0.due"),
        (office, "GET", "/audit?since=9999-12-31", None, "query.since"),
    ]
    before = _events(db)
    for token, method, path, body, field in cases:
        headers = {"Authorization": f"Bearer {token}"}
        answer = httpx.request(
            method, f"{server.url}/api/v1{path}", headers=headers, json=body, timeout=30
        )
        assert answer.status_code == 422, (path, answer.text)
        problems = answer.json()["fields"]
        assert [p["field"] for p in problems] == [field], problems
        assert RANGE in problems[0]["message"]
        assert problems[0]["type"] == "date_out_of_range"
        assert problems[0]["message"] in answer.json()["message"]  # said to the person too
    assert _events(db) == before


# ---- a store that already holds 9999-12-31 ----------------------------------------------------


def test_a_stored_extreme_deadline_shows_on_the_board_and_sweeps_in_range(
    sqlite_url: str,
) -> None:
    """Written as before the range existed (validation bypassed): the board shows the tasks,
    a sweep and the reports run, and the calendar computes no year outside 2000…2099 (it used
    to compute, and warn about, every year up to 9999: a minute per board load)."""
    clock = FakeClock(dt.datetime(2024, 6, 3, 10, 0, tzinfo=TZ))
    services = county(sqlite_url, clock)
    services.ledger.reconcile_directory(services.config, OFFICE)
    far = cmd.Milestone.model_construct(name="远期节点", due=dt.date(9999, 3, 31))
    for code, deadline, milestones in (
        ("2024-01", dt.date(9999, 12, 31), (far,)),
        ("2024-02", dt.date(1, 1, 1), ()),
        ("2024-03", dt.date(2024, 6, 28), ()),
    ):
        row = cmd.AssignTask.model_construct(
            code=code, title=f"改革任务{code}", lead_unit=FGJ, co_units=(), official=None,
            group=None, area=None, deadline=deadline, deadline_text=str(deadline),
            milestones=milestones, notes="",
        )  # fmt: skip
        services.ledger.assign(row, OFFICE)
    board = {row["code"]: row for row in ReadModels(services).board()}
    assert board["2024-01"]["deadline"] == "9999-12-31"
    assert board["2024-01"]["light"] in {"green", "yellow"}
    assert board["2024-02"]["light"] == "red"
    report = sweep(services, clock.advance(days=30))  # 2024-07-03, 2024-03 is overdue
    assert report.rungs
    today = dt.date(2024, 7, 3)
    for kind, period in (("monthly", "2024-06"), ("quarterly", "2024Q2"), ("assessment", "2024")):
        built = REPORT_KINDS[kind].build(
            report_context(services), REPORT_KINDS[kind].parse(period), today
        )
        assert "2024-01" in json.dumps(built, ensure_ascii=False, default=str), kind
    # chinesecalendar covers 2004-2026: every other year the calendar computes is reported
    uncovered = services.calendar.uncovered_years
    assert uncovered  # the years after 2026 up to 2099 were computed, with their warning
    assert min(uncovered) >= 2000, sorted(uncovered)[:5]
    assert max(uncovered) <= 2099, sorted(uncovered)[-5:]
    services.ledger.close()
