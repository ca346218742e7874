"""The terminal's board and audit log after issue 12 and 14: `duban board` names each co-unit
with the day of its latest report (「县财政局 2026-12-02」, 「未报送」), `--format json` keeps its
rows' keys; a co-unit's report says it was the co-unit's and that the task's percent did not
move; `duban audit log` keeps its 任务 column short however many tasks a message names. Real
SQLite and real `duban` runs on the example config, the clock pinned with `$DUBAN_NOW`."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from duban.cli.output import display_width
from tests.support.cli_zygote import run_cli

ROOT = Path(__file__).resolve().parents[2]
NOW = "2026-12-02T10:00"  # a Wednesday, in working time
LEAD = "liaison:县国资办/张三"
CO = "liaison:县财政局/李娜"
TASK = """\
- code: {code}
  title: 深化国有企业改革第{n}项
  lead_unit: 县国资办
  co_units: [县财政局, 县水利局]
  deadline: 2026-12-31
"""


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("board")
    text = (ROOT / "examples/duban.toml").read_text(encoding="utf-8")
    path = folder / "duban.toml"
    path.write_text(text.replace("sqlite:///var/duban.db", f"sqlite:///{folder}/d.db"), "utf-8")
    tasks = "".join(TASK.format(code=f"T{n}", n=n) for n in range(1, 13))
    (folder / "tasks.yaml").write_text(tasks, encoding="utf-8")
    ok(path, "init")
    ok(path, "import", str(folder / "tasks.yaml"))  # one 交办通知 naming all twelve tasks
    return path


def run(config: Path, *args: str, now: str = NOW) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DUBAN_CONFIG": str(config), "DUBAN_NOW": now}
    return run_cli([*args], env=env)


def ok(config: Path, *args: str, now: str = NOW) -> str:
    done = run(config, *args, now=now)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_a_co_units_report_says_whose_it_was_and_the_board_shows_it(config: Path) -> None:
    said = ok(config, "task", "report", "T1", "--text", "配合测算资金", "--percent", "60",
              "--as", CO)  # fmt: skip
    assert said.strip() == "T1 配合单位进展已报送（县财政局，本单位进度60%）"
    ok(config, "task", "claim", "T1", "--as", LEAD)
    lead = ok(config, "task", "report", "T1", "--text", "方案起草", "--percent", "20",
              "--as", LEAD)  # fmt: skip
    assert lead.strip() == "T1 进展已报送（20%）"

    table = ok(config, "board").splitlines()
    assert "配合单位报送" in table[0].split()
    first = next(line for line in table if line.startswith("T1 "))
    assert "县财政局 2026-12-02；县水利局 未报送" in first
    other = next(line for line in table if line.startswith("T2 "))
    assert "县财政局 未报送；县水利局 未报送" in other

    rows = json.loads(ok(config, "board", "--format", "json"))
    assert "co_reports_text" not in rows[0]  # json rows: the board's own keys
    assert [r["unit"] for r in rows[0]["co_unit_reports"]] == ["县财政局"]
    assert rows[0]["percent"] == 20


def test_the_audit_logs_task_column_stays_narrow(config: Path) -> None:
    lines = ok(config, "audit", "log").splitlines()
    header = lines[0]
    assert "任务" in header
    naming_all = [line for line in lines if "等12项" in line]
    assert naming_all, "the 交办通知 names twelve tasks"
    assert "T1、T2、T3等12项" in naming_all[0]
    # the 任务 column is as wide as its widest cell: three codes and a count, not twelve codes
    column = header.index("任务")
    after = header[column:].split("  ", 1)[0]
    assert display_width(header[: column + len(after)]) < 60
    assert not any("T4、T5" in line for line in lines)
