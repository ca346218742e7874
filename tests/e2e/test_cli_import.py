"""The import story as an admin lives it, through the real `duban` command on an SQLite file."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import pytest

from tests.support.cli import EXAMPLES, ROOT, event_count, sample_workdir
from tests.support.cli import run_duban as duban


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return sample_workdir(tmp_path)


def imported(workdir: Path, file: Path, *extra: str) -> list[dict[str, object]]:
    result = duban(workdir, "import", str(file), "--format", "json", *extra)
    assert result.returncode == 0, result.stderr
    rows: list[dict[str, object]] = json.loads(result.stdout)
    return rows


def test_sample_list_imports_then_reimports_as_nothing(workdir: Path) -> None:
    assert duban(workdir, "init").returncode == 0
    rows = imported(workdir, EXAMPLES / "tasks-2024.csv")
    assert len(rows) >= 24
    assert {r["action"] for r in rows} == {"create"}
    count = event_count(workdir)
    for same_list in ("tasks-2024.csv", "tasks-2024.xlsx", "tasks-2024.yaml"):
        again = imported(workdir, EXAMPLES / same_list)
        assert {r["action"] for r in again} == {"unchanged"}, same_list
    assert event_count(workdir) == count
    board = json.loads(duban(workdir, "board", "--format", "json").stdout)
    areas = {row["area"] for row in board}
    assert {"稳增长", "添动能", "优环境", "惠民生", "强保障"} <= areas


def test_every_deadline_form_imports_to_the_date_in_its_notes(workdir: Path) -> None:
    rows = imported(workdir, EXAMPLES / "all-deadline-forms.csv")
    by_code = {r["code"]: r["changes"] for r in rows}
    with (EXAMPLES / "all-deadline-forms.csv").open(encoding="utf-8-sig") as handle:
        lines = list(csv.reader(handle))[2:]
    assert len(lines) == len(by_code)
    for line in lines:
        code, expected = line[0], line[4]
        deadline = by_code[code]["deadline"]  # type: ignore[index]
        assert (deadline or "持续推进") == expected, (code, deadline, expected)


def test_bad_rows_import_nothing_and_each_row_and_column_is_named(workdir: Path) -> None:
    imported(workdir, EXAMPLES / "tasks-2024.csv")
    before = event_count(workdir)
    result = duban(workdir, "import", str(ROOT / "tests/data/import/bad-rows.csv"))
    assert result.returncode == 1
    named = {(line.split("第")[1].split("行")[0], line.split("「")[1].split("」")[0])
             for line in result.stderr.splitlines() if "行「" in line}  # fmt: skip
    assert ("4", "编号") in named
    assert ("7", "完成时限") in named
    assert ("11", "牵头单位") in named
    assert ("11", "完成时限") in named
    assert len(named) >= 10
    assert "未导入任何任务" in result.stderr
    assert event_count(workdir) == before


def test_an_edited_row_records_only_what_changed(workdir: Path, tmp_path: Path) -> None:
    source = EXAMPLES / "tasks-2024.csv"
    imported(workdir, source)
    before = event_count(workdir)
    edited = tmp_path / "edited.csv"
    shutil.copy(source, edited)
    text = edited.read_text(encoding="utf-8-sig")
    assert "2024-12-31,2024年3月底前完成2024年重点项目谋划清单" in text
    edited.write_text(
        text.replace("2024-12-31,2024年3月底前完成2024年重点项目谋划清单",
                     "2025-03-31,2024年3月底前完成2024年重点项目谋划清单", 1),
        encoding="utf-8",
    )  # fmt: skip
    dry = imported(workdir, edited, "--dry-run")
    assert event_count(workdir) == before
    changed = [r for r in dry if r["action"] == "revise"]
    expected = {"deadline": "2025-03-31", "deadline_text": "2025-03-31"}
    assert [(r["code"], r["changes"]) for r in changed] == [("2024-01", expected)]
    imported(workdir, edited)
    assert event_count(workdir) == before + 1
    history = json.loads(duban(workdir, "task", "history", "2024-01", "--format", "json").stdout)
    assert history[-1]["type"].endswith("Revised")
    assert history[-1]["previous"] == {"deadline": "2024-12-31", "deadline_text": "2024-12-31"}


ENGLISH_WORD = re.compile(r"[A-Za-z]{3,}")
QUOTED = re.compile(r"「[^」]*」")  # the cell as written, quoted back to the office


def test_row_errors_and_a_dry_run_read_in_chinese(workdir: Path, tmp_path: Path) -> None:
    """Issue 14: no 「（unrecognised deadline: …）」, no English in a row error or a dry run."""
    bad = tmp_path / "清单.csv"
    shutil.copy(ROOT / "tests/data/import/bad-rows.csv", bad)
    result = duban(workdir, "import", str(bad))
    assert result.returncode == 1
    lines = [line.removeprefix(f"{bad.name} ") for line in result.stderr.splitlines()]
    assert any("「完成时限」：无法识别的完成时限：「下个月」" in line for line in lines), lines
    english = [line for line in lines if ENGLISH_WORD.search(QUOTED.sub("", line))]
    assert english == []
    dry = duban(workdir, "import", str(EXAMPLES / "tasks-2024.csv"), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "将新增" in dry.stdout
    assert "（试运行，未写入）" in dry.stdout
    assert not ENGLISH_WORD.findall(dry.stdout), dry.stdout
