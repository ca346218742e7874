"""Issue 12 at the terminal: a co-unit reports before the lead claims, a report closes a
milestone, a returned plan is resubmitted and approved (closing its linked milestone), and
`duban plan history` shows both versions and both reasons. Real SQLite, `$DUBAN_NOW` clock."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.support.cli_zygote import run_cli

ROOT = Path(__file__).resolve().parents[2]
TASKS = """\
- code: T1
  title: 深化国有企业改革
  lead_unit: 县国资办
  co_units: [县财政局]
  deadline: 2026-12-31
  milestones:
    - {name: 完成方案前置初审, due: 2026-12-20}
    - {name: 完成方案制定, due: 2026-12-25}
"""
LEAD = "liaison:县国资办/张三"
CO = "liaison:县财政局/李娜"


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("parts")
    text = (ROOT / "examples/duban.toml").read_text(encoding="utf-8")
    path = folder / "duban.toml"
    path.write_text(text.replace("sqlite:///var/duban.db", f"sqlite:///{folder}/d.db"), "utf-8")
    (folder / "tasks.yaml").write_text(TASKS, encoding="utf-8")
    assert run(path, "2026-12-01T09:00", "init").returncode == 0
    assert run(path, "2026-12-01T09:00", "import", str(folder / "tasks.yaml")).returncode == 0
    return path


def run(config: Path, now: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DUBAN_CONFIG": str(config), "DUBAN_NOW": now}
    return run_cli([*args], env=env)


def ok(config: Path, now: str, *args: str) -> str:
    done = run(config, now, *args)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_co_unit_milestone_and_plan_flow_at_the_terminal(config: Path) -> None:
    day = "2026-12-02T10:00"
    ok(config, day, "task", "report", "T1", "--text", "配合测算资金", "--percent", "10", "--as", CO)
    refused = run(
        config, day, "task", "report", "T1", "--text", "x", "--percent", "5", "--as", LEAD
    )
    assert refused.returncode == 1
    assert "尚未签收" in refused.stderr
    ok(config, day, "task", "claim", "T1", "--as", LEAD)
    ok(config, day, "task", "report", "T1", "--text", "已过初审", "--percent", "30",
       "--milestone", "完成方案前置初审", "--as", LEAD)  # fmt: skip
    shown = ok(config, day, "task", "show", "T1")
    assert "阶段节点已完成：完成方案前置初审" in shown
    assert "配合单位报送：县财政局 李娜（2026-12-02 10:00）：配合测算资金" in shown

    ok(config, "2026-12-03T09:00", "plan", "submit", "P1", "--title", "国企改革方案",
       "--task", "T1", "--milestone", "完成方案制定", "--text", "初稿", "--as", LEAD)  # fmt: skip
    ok(config, "2026-12-04T09:00", "plan", "review", "P1", "--verdict", "return",
       "--reason", "缺少资金测算", "--as", "office:王主任")  # fmt: skip
    again = run(config, "2026-12-04T10:00", "plan", "review", "P1", "--verdict", "approve",
                "--reason", "x")  # fmt: skip
    assert again.returncode == 1
    assert "请修改后重新报送" in again.stderr
    assert "第2版" in ok(config, "2026-12-07T09:00", "plan", "resubmit", "P1",
                         "--text", "补充资金测算", "--as", LEAD)  # fmt: skip
    ok(config, "2026-12-08T09:00", "plan", "review", "P1", "--verdict", "approve",
       "--reason", "同意提交审议", "--as", "office:王主任")  # fmt: skip

    history = ok(config, day, "plan", "history", "P1").splitlines()[2:]
    assert [line.split()[2] for line in history] == ["报送", "退回修改", "重新报送", "审核通过"]
    assert "缺少资金测算" in history[1]
    assert "王主任" in history[1]
    assert "补充资金测算" in history[2]
    assert "同意提交审议" in history[3]
    state = json.loads(ok(config, day, "task", "show", "T1", "--format", "json"))
    assert state["closed_milestones"] == ["完成方案前置初审", "完成方案制定"]
    board = json.loads(ok(config, day, "board", "--format", "json"))
    rows = board["rows"] if isinstance(board, dict) else board
    assert rows[0]["closed_milestones"] == ["完成方案前置初审", "完成方案制定"]
    assert [r["text"] for r in rows[0]["co_unit_reports"]] == ["配合测算资金"]
