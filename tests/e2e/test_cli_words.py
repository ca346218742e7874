"""The CLI's own words (issue 14): `--as` and `task recognise` take Chinese names, sweep heads
name the chat, the token list names roles, `scheduler jobs` names jobs, all in Chinese."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.support.cli_zygote import run_cli

ROOT = Path(__file__).resolve().parents[2]
NOW = "2024-06-24T10:00:00"


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("words")
    text = (ROOT / "examples/duban.toml").read_text(encoding="utf-8")
    path = folder / "duban.toml"
    path.write_text(text.replace("sqlite:///var/duban.db", f"sqlite:///{folder}/d.db"), "utf-8")
    assert run(path, "init").returncode == 0
    assert run(path, "import", str(ROOT / "examples/tasks-2024.csv")).returncode == 0
    return path


def run(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DUBAN_CONFIG": str(config), "DUBAN_NOW": NOW}
    return run_cli([*args], env=env)


def first_code(config: Path) -> str:
    rows = json.loads(run(config, "board", "--format", "json").stdout)
    return str(rows[0]["code"])


def test_as_takes_a_role_by_its_chinese_name(config: Path) -> None:
    code = first_code(config)
    by_code = run(config, "task", "show", code, "--as", "auditor:县纪委监委")
    by_name = run(config, "task", "show", code, "--as", "审计:县纪委监委")
    assert by_name.returncode == 0, by_name.stderr
    assert by_name.stdout == by_code.stdout


def test_an_unknown_role_names_the_choices_in_chinese(config: Path) -> None:
    result = run(config, "task", "show", first_code(config), "--as", "nobody")
    assert result.returncode == 2
    assert "无法识别的角色" in result.stderr
    assert "联络员" in result.stderr
    assert "nobody" not in result.stderr


def test_recognise_takes_the_chinese_kind_and_level(config: Path) -> None:
    code = first_code(config)
    done = run(config, "task", "recognise", code, "--kind", "改革试点", "--level", "省级",
               "--title", "省级改革试点")  # fmt: skip
    assert done.returncode == 0, done.stderr
    shown = run(config, "task", "show", code).stdout
    assert "改革试点" in shown
    assert "省级" in shown
    wrong = run(config, "task", "recognise", code, "--kind", "model", "--level", "city",
                "--title", "x")  # fmt: skip
    assert wrong.returncode == 2
    assert "--kind：应为改革试点、改革典型之一" in wrong.stderr


def test_sweep_heads_name_the_chat_and_the_rungs(config: Path) -> None:
    result = run(config, "sweep", "--dry-run", "--now", "2024-06-27T10:00:00")
    assert result.returncode == 0, result.stderr
    heads = [line for line in result.stdout.splitlines() if line.startswith("【")]
    assert heads, result.stdout
    assert all("群】" in head for head in heads)
    assert "[" not in result.stdout
    summary = result.stdout.splitlines()[-1]
    assert "将发出：" in summary
    assert not [c for c in summary if c.isascii() and c.isalpha()], summary


def test_token_list_names_roles(config: Path) -> None:
    issued = run(config, "token", "issue", "--role", "liaison", "--unit", "县发展和改革局",
                 "--name", "张伟", "--quiet")  # fmt: skip
    assert issued.returncode == 0, issued.stderr
    listing = run(config, "token", "list").stdout
    assert "单位联络员" in listing
    assert "liaison" not in listing
    data = json.loads(run(config, "token", "list", "--format", "json").stdout)
    assert {row["role"] for row in data} == {"liaison"}


def test_scheduler_jobs_table_is_chinese_and_json_keeps_the_expression(config: Path) -> None:
    table = run(config, "scheduler", "jobs", "--from", NOW).stdout
    assert "催办扫描" in table
    assert "每个工作日 09:00至17:45每15分钟" in table
    assert "every workday" not in table
    data = json.loads(run(config, "scheduler", "jobs", "--format", "json").stdout)
    sweep = next(job for job in data["jobs"] if job["name"] == "sweep")
    assert sweep["cron"] == "every workday 09:00-17:45/15m"
    assert sweep["description"] == "每个工作日 09:00至17:45每15分钟"
