"""`duban instruction …` and `duban accountability …` at the terminal (issue 12): a liaison
cannot issue a 批示, an official only on their own tasks, the lead unit answers, only the office
records a 问责 measure; `task show` and `board` show the open 批示; errors are one Chinese
line; `--format json` keeps the identifiers."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.support.cli_zygote import run_cli

ROOT = Path(__file__).resolve().parents[2]
NOW = "2026-12-01T10:00"  # a Tuesday, in working time
LEAD = "liaison:县发展和改革局/张伟"
CO = "liaison:县财政局/李娜"


def _county(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    """The example county on its own store, its sample list imported."""
    folder = tmp_path_factory.mktemp(name)
    text = (ROOT / "examples/duban.toml").read_text(encoding="utf-8")
    path = folder / "duban.toml"
    path.write_text(text.replace("sqlite:///var/duban.db", f"sqlite:///{folder}/d.db"), "utf-8")
    assert run(path, "init").returncode == 0
    imported = run(path, "import", str(ROOT / "examples/tasks-2024.csv"))
    assert imported.returncode == 0, imported.stderr
    return path


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _county(tmp_path_factory, "instructions")


@pytest.fixture(scope="module")
def answering(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store of its own for the reports that answer and the urges the sweep shows."""
    return _county(tmp_path_factory, "answering")


def run(config: Path, *args: str, now: str = NOW) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DUBAN_CONFIG": str(config), "DUBAN_NOW": now}
    return run_cli([*args], env=env)


def _official(config: Path, code: str) -> str:
    shown = run(config, "task", "show", code, "--format", "json")
    assert shown.returncode == 0, shown.stderr
    return str(json.loads(shown.stdout)["official"])


def test_instructions_at_the_terminal(config: Path) -> None:
    official = _official(config, "2024-01")
    refused = run(config, "instruction", "issue", "2024-01", "--text", "请加快", "--as", LEAD)
    assert refused.returncode == 1
    assert "只有任务的领衔领导或改革办可以作出批示" in refused.stderr
    other = run(
        config, "instruction", "issue", "2024-01", "--text", "请加快", "--as", "official:某某"
    )
    assert other.returncode == 1
    assert f"任务 2024-01 的领衔领导是{official}" in other.stderr
    args = ("instruction", "issue", "2024-01", "--text", "请于本周四前报送推进方案")
    done = run(config, *args, "--answer-by", "2026-12-03", "--as", f"official:{official}")
    assert done.returncode == 0, done.stderr
    assert "已录入批示 2024-01/1" in done.stdout
    bad = run(config, *args, "--answer-by", "2026-13-01")
    assert bad.returncode == 2
    assert "--answer-by：不是有效的日期" in bad.stderr
    # Open 批示 show on the task and on the board.
    shown = run(config, "task", "show", "2024-01")
    assert "待答复批示 2024-01/1：请于本周四前报送推进方案" in shown.stdout
    assert f"（{official}，答复时限 2026-12-03）" in shown.stdout
    board = run(config, "board")
    assert "待答复批示：2024-01（1）" in board.stdout
    late = run(config, "instruction", "list", "2024-01", now="2026-12-04T10:00")
    assert "逾期未答复" in late.stdout
    assert "official:" not in late.stdout, "no identifiers in the table"
    # Only the lead unit answers, once.
    answer = ("instruction", "answer", "2024-01/1", "--text", "方案已报送")
    co = run(config, *answer, "--as", CO)
    assert co.returncode == 1
    assert "只有牵头单位县发展和改革局可以答复" in co.stderr
    assert run(config, *answer, "--as", LEAD).returncode == 0
    again = run(config, *answer, "--as", LEAD)
    assert again.returncode == 1
    assert "已于2026年12月1日答复" in again.stderr
    listed = json.loads(run(config, "instruction", "list", "--format", "json").stdout)
    assert [(i["ref"], i["answered"], i["answered_by"]) for i in listed] == [
        ("2024-01/1", True, LEAD)
    ]
    assert "待答复批示" not in run(config, "task", "show", "2024-01").stdout


def test_accountability_at_the_terminal(config: Path) -> None:
    record = (
        "accountability",
        "record",
        "2024-02",
        "--reason",
        "推进不力",
        "--document",
        "县改办〔2026〕5号",
    )
    lead = json.loads(run(config, "task", "show", "2024-02", "--format", "json").stdout)[
        "lead_unit"
    ]
    refused = run(config, *record, "--unit", lead, "--kind", "约谈", "--as", CO)
    assert refused.returncode == 1
    assert "只有改革办可以登记追责问责措施" in refused.stderr
    stranger = run(config, *record, "--unit", "县不存在局", "--kind", "约谈")
    assert stranger.returncode == 1
    assert "不是任务 2024-02 的牵头或配合单位" in stranger.stderr
    done = run(config, *record, "--unit", lead, "--kind", "通报批评", "--date", "2026-11-20")
    assert done.returncode == 0, done.stderr
    assert f"已登记：2026-11-20 对{lead}予以通报批评" in done.stdout
    table = run(config, "accountability", "list", "--year", "2026")
    assert "县改办〔2026〕5号" in table.stdout
    assert "通报批评" in table.stdout
    listed = json.loads(run(config, "accountability", "list", "--format", "json").stdout)
    assert [(m["kind"], m["unit"]) for m in listed] == [("criticism", lead)]
    assert "暂无追责问责记录" in run(config, "accountability", "list", "--year", "2025").stdout


def test_the_sweep_urges_an_unanswered_instruction_once(config: Path) -> None:
    issued = run(config, "instruction", "issue", "2024-03", "--text", "请报送进展",
                 "--answer-by", "2026-12-02")  # fmt: skip
    assert issued.returncode == 0, issued.stderr
    for _ in range(2):
        swept = run(config, "sweep", now="2026-12-03T10:00")
        assert swept.returncode == 0, swept.stderr
    trail = run(config, "audit", "log", "--task", "2024-03", now="2026-12-03T10:00")
    assert trail.returncode == 0, trail.stderr
    assert trail.stdout.count("批示催办") == 1, trail.stdout


def _history(config: Path, code: str) -> list[dict[str, object]]:
    shown = run(config, "task", "history", code, "--format", "json")
    assert shown.returncode == 0, shown.stderr
    return list(json.loads(shown.stdout))


def test_the_lead_units_report_answers_instructions_at_the_terminal(answering: Path) -> None:
    """2024-19 is led by 县财政局 (李娜), with 县发展和改革局 (张伟) among its co-units."""
    for text in ("请报送资金到位情况", "请报送政策落实情况"):
        assert run(answering, "instruction", "issue", "2024-19", "--text", text).returncode == 0
    assert run(answering, "task", "claim", "2024-19", "--as", CO).returncode == 0
    report = ("task", "report", "2024-19", "--text", "资金已全部到位", "--percent", "40")
    before = _history(answering, "2024-19")
    co_unit = run(answering, *report, "--answers", "all", "--as", LEAD)
    assert co_unit.returncode == 1
    assert "只有牵头单位县财政局可以答复" in co_unit.stderr
    other = run(answering, *report, "--answers", "2024-01/1", "--as", CO)
    assert other.returncode != 0
    assert "批示 2024-01/1 不是任务 2024-19 的批示" in other.stderr
    assert _history(answering, "2024-19") == before, "a refused report is not saved"

    done = run(answering, *report, "--answers", "2024-19/1", "--as", CO)
    assert done.returncode == 0, done.stderr
    assert "2024-19 进展已报送（40%），已答复批示 2024-19/1" in done.stdout
    listed = json.loads(run(answering, "instruction", "list", "2024-19", "--format", "json").stdout)
    assert [(i["ref"], i["answered"], i["answer_text"], i["answered_by"]) for i in listed] == [
        ("2024-19/1", True, "资金已全部到位", CO),
        ("2024-19/2", False, None, None),
    ]
    rest = run(answering, "task", "report", "2024-19", "--text", "政策已落实", "--percent", "50",
               "--answers", "all", "--as", CO)  # fmt: skip
    assert rest.returncode == 0, rest.stderr
    assert "已答复批示 2024-19/2" in rest.stdout
    assert "待答复批示" not in run(answering, "task", "show", "2024-19").stdout


def test_dry_run_and_preview_show_the_instruction_urges_and_the_sweep_counts_them(
    answering: Path,
) -> None:
    """2024-17 (县发展和改革局, led by 王建国, whose chat is `leaders`): his 批示 due Wednesday
    2026-12-02 is urged on Thursday in the unit's chat and in his."""
    official = _official(answering, "2024-17")
    issued = run(answering, "instruction", "issue", "2024-17", "--text", "请周三前报送方案",
                 "--answer-by", "2026-12-02", "--as", f"official:{official}")  # fmt: skip
    assert issued.returncode == 0, issued.stderr
    thursday = "2026-12-03T10:00"

    dry = run(answering, "sweep", "--dry-run", now=thursday)
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.count("批示催办｜2024-17") == 2  # the unit's chat and the official's
    assert "至今未答复，已逾期 1 个工作日" in dry.stdout
    assert "批示催复 2 条（试运行，未写入）" in dry.stdout
    data = json.loads(run(answering, "sweep", "--dry-run", "--format", "json", now=thursday).stdout)
    assert data["instruction_urges"] == 2
    assert sorted(m["channel"] for m in data["urge_messages"]) == ["fgj", "leaders"]
    trail = run(answering, "audit", "log", "--task", "2024-17", now=thursday)
    assert "批示催办" not in trail.stdout, "a dry run writes nothing"

    preview = run(answering, "scheduler", "preview", "--from", "2026-12-03", "--to", "2026-12-03",
                  now="2026-12-03T08:00")  # fmt: skip
    assert preview.returncode == 0, preview.stderr
    assert preview.stdout.count("批示催办｜2024-17") == 2
    assert "其中批示催复 2 条（预演，未写入、未发送）" in preview.stdout

    swept = run(answering, "sweep", "--no-deliver", now=thursday)
    assert swept.returncode == 0, swept.stderr
    assert "已排队" in swept.stdout
    assert "批示催复 2 条" in swept.stdout
    again = run(answering, "sweep", "--no-deliver", "--format", "json", now=thursday)
    assert json.loads(again.stdout)["instruction_urges"] == 0
    trail = run(answering, "audit", "log", "--task", "2024-17", now=thursday)
    assert trail.stdout.count("批示催办") == 2, trail.stdout
