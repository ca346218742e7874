"""The command line speaks Chinese: every help page, the usage errors, `task show`, `task
history` and a task's audit trail, read as a clerk reads them, hold no English word.

A word is any run of three or more ASCII letters. What may appear is the command line's
contract and a few names everyone in the office uses: option names (after `--`), command
names, the values one types for an option (`ALLOWED_VALUES`), the acronyms in `ALLOWED`,
environment variables (`DUBAN_…`), task codes, URLs and file names such as `duban.toml`.
"""

from __future__ import annotations

import importlib
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from typer.main import get_command
from typer.testing import CliRunner

from tests.support.cli_zygote import run_cli

ROOT = Path(__file__).resolve().parents[2]
NOW = "2024-06-26T10:00:00+08:00"

# Acronyms and product names an office reads as they are.
ALLOWED = frozenset(
    {"API", "CSV", "JSON", "JSONL", "PDF", "XLSX", "YAML", "HTML", "HTTP", "SHA", "SQLITE",
     "POSTGRESQL", "TOML", "EXCEL", "CTRL", "DEBUG", "INFO", "WARNING", "ERROR"}
)  # fmt: skip
# Values one types after an option (`--format table`, `--as office`, `--level county`, …).
ALLOWED_VALUES = frozenset(
    {"table", "json", "jsonl", "csv", "xlsx", "md", "html", "office", "liaison", "official",
     "auditor", "pilot", "exemplar", "national", "provincial", "municipal", "county",
     "opinion", "approve", "return", "all", "board", "due", "outbox", "audit", "chain",
     "reports"}
)  # fmt: skip
_SPANS = (
    r"https?://\S+",  # URLs
    r"\bduban(?: [a-z][a-z-]*)*",  # a command line (「运行「duban task show --help」…」)
    r"/api/v1\S*",  # the API's path
    r"(?<![\w-])--?[a-z][a-z-]*",  # option names
    r"\bDUBAN_[A-Z_]+",  # environment variables
    r"[\w.-]*\.(?:toml|csv|xlsx|pdf|db)\b",  # file names
    r"\b\d{4}-\d{2}\b",  # task codes and months
)


def english_words(text: str, commands: frozenset[str] = frozenset()) -> list[str]:
    """The ASCII words of `text` a person should not have to read."""
    for span in _SPANS:
        text = re.sub(span, " ", text)
    words = re.findall(r"[A-Za-z]{3,}", text)
    return [
        w
        for w in words
        if w.upper() not in ALLOWED and w not in ALLOWED_VALUES and w not in commands
    ]


def _tree() -> tuple[Any, list[list[str]]]:
    main = importlib.import_module("duban.cli.main")
    main._register_command_modules()
    paths: list[list[str]] = []

    def walk(command: Any, path: list[str]) -> None:
        paths.append(path)
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*path, name])

    walk(get_command(main.app), [])
    return main.app, paths


def _words(names: Any) -> frozenset[str]:
    return frozenset(w for name in names for w in re.findall(r"[A-Za-z]+", name))


@pytest.fixture(autouse=True)
def _own_logging() -> Iterator[None]:
    """The in-process runs configure structlog (the root callback does): leave it as found."""
    yield
    structlog.reset_defaults()


def test_every_help_page_is_chinese() -> None:
    app, paths = _tree()
    commands = _words(name for path in paths for name in path)  # `close-milestone`, …
    runner = CliRunner()
    assert len(paths) > 50  # every group and command
    leaks = {}
    for path in paths:
        done = runner.invoke(app, [*path, "--help"], prog_name="duban")
        assert done.exit_code == 0, (path, done.output)
        for english in ("Usage", "Options", "Show this message", "Arguments", "Commands"):
            assert english not in done.output, (path, done.output)
        assert "用法：duban" in done.output, (path, done.output)
        if words := english_words(done.output, commands):
            leaks[" ".join(path) or "duban"] = words
    assert leaks == {}


def _cli(config: Path | None, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DUBAN_NOW": NOW}
    if config is not None:
        env["DUBAN_CONFIG"] = str(config)
    # `duban.cli.main:main` forked from the shared zygote, argv[0] "duban" as the installed
    # command has it (its usage line names `duban`).
    return run_cli(list(args), env=env)


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["task", "report", "2024-01", "--percent", "30"], "错误：缺少选项 --text"),
        (["task", "report", "2024-01", "--text", "x", "--percent", "三十"],
         "错误：选项 --percent 的值无效：应为整数"),
        (["task", "show", "2024-01", "--format", "word"],
         "错误：选项 --format 的值无效：应为以下之一：table、json、csv"),
        (["task", "show"], "错误：缺少参数「任务编号」"),
        (["task", "shw"], "错误：没有命令「shw」（是否要用：show）"),
        (["nosuch"], "错误：没有命令「nosuch」"),
        (["task", "show", "2024-01", "--fmt", "json"], "错误：没有选项 --fmt"),
        (["task", "show", "2024-01", "2024-02"], "错误：多余的参数：2024-02"),
    ],
)  # fmt: skip
def test_usage_errors_are_three_chinese_lines(args: list[str], said: str) -> None:
    done = _cli(None, *args)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.splitlines()
    assert lines[0].startswith("用法：duban "), done.stderr
    assert lines[1].startswith("运行「duban ")
    assert lines[1].endswith("--help」查看帮助。")
    assert lines[2].startswith(said), done.stderr
    typed = _words([*args, "show"])  # what was typed is echoed back, and the command meant
    assert english_words(done.stderr, typed) == [], done.stderr


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small store: the sample list imported, 2024-05 claimed and reported on, a sweep run."""
    folder = tmp_path_factory.mktemp("chinese")
    text = (ROOT / "examples/duban.toml").read_text(encoding="utf-8")
    path = folder / "duban.toml"
    path.write_text(text.replace("sqlite:///var/duban.db", f"sqlite:///{folder}/d.db"), "utf-8")
    liaison = ("--as", "liaison:县国资办/陈晨")
    for args in (
        ["init"],
        ["import", str(ROOT / "examples/tasks-2024.csv")],
        ["task", "claim", "2024-05", *liaison],
        ["task", "report", "2024-05", "--text", "方案已起草", "--percent", "30", *liaison],
        ["task", "request-extension", "2024-05", "--to", "2024-09-30", "--reason", "待审批",
         *liaison],
        ["sweep"],
    ):  # fmt: skip
        done = _cli(path, *args)
        assert done.returncode == 0, (args, done.stderr)
    return path


def test_init_says_in_chinese_what_it_recorded(config: Path) -> None:
    done = _cli(config, "init")
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"台账已就绪：本次登记名录变更 \d+ 项\n", done.stdout), done.stdout


def test_task_show_has_chinese_names_and_dates_and_no_python_repr(config: Path) -> None:
    done = _cli(config, "task", "show", "2024-05")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "完成时限：2024年6月30日" in out
    assert "待批延期至：2024年9月30日" in out
    assert "状态：推进中" in out
    assert "签收人：县国资办 陈晨" in out
    assert "datetime" not in out
    assert "None" not in out
    assert "[" not in out
    assert english_words(out) == [], out
    as_json = _cli(config, "task", "show", "2024-05", "--format", "json").stdout
    assert '"deadline": "2024-06-30"' in as_json
    assert '"status": "claimed"' in as_json


def test_task_history_names_the_events_and_people(config: Path) -> None:
    done = _cli(config, "task", "history", "2024-05")
    assert done.returncode == 0, done.stderr
    assert "交办" in done.stdout
    assert "签收" in done.stdout
    assert "申请延期" in done.stdout
    assert "ReformTask" not in done.stdout
    assert "liaison:" not in done.stdout
    assert "2024年6月26日 10:00" in done.stdout
    assert english_words(done.stdout) == [], done.stdout
    as_json = _cli(config, "task", "history", "2024-05", "--format", "json").stdout
    assert '"type": "ReformTask.Claimed"' in as_json


def test_the_audit_trail_names_audiences_units_and_chats(config: Path) -> None:
    done = _cli(config, "audit", "log", "--task", "2024-05")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "通知牵头单位县国资办，经县国资办群" in out, out
    assert "系统（消息投递）" in out
    assert "平台已接受" in out
    for code in ("lead_unit", "delivery", "deadline", "gzb", "ok，"):
        assert code not in out, code
    assert english_words(out) == [], out


def test_a_refused_command_names_the_action_in_chinese(config: Path) -> None:
    done = _cli(config, "task", "claim", "2024-05", "--as", "liaison:县财政局/李静")
    assert done.returncode == 1
    assert done.stderr.startswith("错误：联络员（县财政局）无权对该任务执行签收"), done.stderr
    assert english_words(done.stderr) == [], done.stderr
