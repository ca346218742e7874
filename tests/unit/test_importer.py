"""Task-list import: office tables read as they are, every bad row and column named."""

from __future__ import annotations

import datetime as dt
import importlib.util
import time
import tomllib
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from duban.app import importer
from duban.app.commands import AssignTask, Milestone
from duban.app.importer import ImportResult, RowError, parse_task_list, read_task_list
from duban.settings.config import parse_config

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
DATA = ROOT / "tests" / "data" / "import"
AREAS = ["稳增长", "添动能", "优环境", "惠民生", "强保障"]
ECONOMY = "经济体制和生态文明体制改革专责小组"
HEADER = ["序号", "编号", "改革任务", "牵头单位", "配合单位", "完成时限", "专责小组", "备注"]


def where(result: ImportResult) -> set[tuple[int, str]]:
    return {(error.row, error.column) for error in result.errors}


def by_code(result: ImportResult) -> dict[str, AssignTask]:
    return {task.code: task for task in result.rows}


def write_xlsx(path: Path, rows: Sequence[Sequence[Any]], merges: Sequence[str] = ()) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert isinstance(sheet, Worksheet)
    for row in rows:
        sheet.append(list(row))
    for cells in merges:
        sheet.merge_cells(cells)
    book.save(path)
    return path


def write_csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


# ---- the county's list, three ways ---------------------------------------------------------


@pytest.fixture(scope="module")
def sample_csv() -> ImportResult:
    return read_task_list(EXAMPLES / "tasks-2024.csv")


def test_the_sample_csv_is_the_whole_list_without_errors(sample_csv: ImportResult) -> None:
    assert sample_csv.errors == []
    assert len(sample_csv.rows) >= 24
    assert [t.code for t in sample_csv.rows] == [f"2024-{n:02d}" for n in range(1, 36)]


@pytest.mark.parametrize("name", ["tasks-2024.yaml", "tasks-2024.xlsx"])
def test_the_yaml_and_xlsx_samples_hold_the_same_tasks_as_the_csv(
    name: str, sample_csv: ImportResult
) -> None:
    other = read_task_list(EXAMPLES / name)
    assert other.errors == []
    assert other.rows == sample_csv.rows


def test_the_xlsx_generator_rebuilds_the_same_table(
    tmp_path: Path, sample_csv: ImportResult
) -> None:
    spec = importlib.util.spec_from_file_location("make_xlsx", EXAMPLES / "make_xlsx.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.build(EXAMPLES / "tasks-2024.csv", tmp_path / "rebuilt.xlsx")
    assert read_task_list(tmp_path / "rebuilt.xlsx").rows == sample_csv.rows


def test_section_rows_give_the_following_tasks_their_area(sample_csv: ImportResult) -> None:
    tasks = by_code(sample_csv)
    assert [a for a in AREAS if any(t.area == a for t in sample_csv.rows)] == AREAS
    assert all(t.area in AREAS for t in sample_csv.rows)
    assert tasks["2024-01"].area == "稳增长"
    assert tasks["2024-15"].area == "优环境"
    assert tasks["2024-35"].area == "强保障"


def test_the_sample_uses_a_spread_of_deadline_forms(sample_csv: ImportResult) -> None:
    tasks = by_code(sample_csv)
    assert tasks["2024-02"].deadline is None
    assert tasks["2024-02"].deadline_text == "持续推进"
    assert tasks["2024-03"].deadline == dt.date(2024, 9, 30)  # 2024年三季度末
    assert tasks["2024-06"].deadline == dt.date(2024, 6, 30)  # 2024年上半年
    assert tasks["2024-19"].deadline == dt.date(2024, 6, 30)  # 6月底前: year of the title row
    assert tasks["2024-14"].deadline == dt.date(2024, 11, 20)  # 2024年11月中旬
    assert tasks["2024-01"].milestones == (
        Milestone(name="完成2024年重点项目谋划清单", due=dt.date(2024, 3, 31)),
        Milestone(name="完成专项债券项目申报", due=dt.date(2024, 6, 30)),
    )
    assert sum(1 for t in sample_csv.rows if t.milestones) >= 5


def test_merged_cells_in_the_xlsx_apply_to_every_row_they_span() -> None:
    sheet = openpyxl.load_workbook(EXAMPLES / "tasks-2024.xlsx").active
    assert isinstance(sheet, Worksheet)
    spans = [str(r) for r in sheet.merged_cells.ranges]
    assert "I4:I9" in spans  # 专责小组 of the six 稳增长 tasks
    assert "D13:D14" in spans  # 牵头单位 县农业农村局 of 2024-09 and 2024-10
    tasks = by_code(read_task_list(EXAMPLES / "tasks-2024.xlsx"))
    assert {tasks[f"2024-0{n}"].group for n in range(1, 7)} == {ECONOMY}
    assert tasks["2024-10"].lead_unit == "县农业农村局"


def test_real_excel_dates_are_read_as_deadlines() -> None:
    sheet = openpyxl.load_workbook(EXAMPLES / "tasks-2024.xlsx").active
    assert isinstance(sheet, Worksheet)
    assert isinstance(sheet["G4"].value, dt.datetime)
    task = by_code(read_task_list(EXAMPLES / "tasks-2024.xlsx"))["2024-01"]
    assert task.deadline == dt.date(2024, 12, 31)
    assert task.deadline_text == "2024-12-31"


def test_every_deadline_form_in_the_examples_gives_the_date_in_its_notes() -> None:
    result = read_task_list(EXAMPLES / "all-deadline-forms.csv")
    assert result.errors == []
    assert len(result.rows) >= 20
    for task in result.rows:
        got = task.deadline.isoformat() if task.deadline else "持续推进"
        assert got == task.notes, task.code


def test_the_example_config_is_valid_and_knows_every_unit_and_official(
    sample_csv: ImportResult,
) -> None:
    config = parse_config(tomllib.loads((EXAMPLES / "duban.toml").read_text("utf-8")))
    units = {unit.name for unit in config.units}
    tasks = sample_csv.rows + read_task_list(EXAMPLES / "all-deadline-forms.csv").rows
    assert {u for t in tasks for u in (t.lead_unit, *t.co_units)} <= units
    assert {t.official for t in tasks if t.official} <= {o.name for o in config.officials}
    assert {c.platform for c in config.channels} == {"console"}
    assert all(unit.liaisons for unit in config.units)


def test_the_commented_sections_of_the_example_config_are_valid_when_switched_on() -> None:
    text = (EXAMPLES / "duban.toml").read_text("utf-8")
    head, optional = text.split("# ---- optional sections", 1)
    body = optional.split("\n", 1)[1]
    switched_on = "\n".join(line.removeprefix("# ") for line in body.splitlines())
    config = parse_config(tomllib.loads(head + switched_on))
    assert config.ladder.rungs is not None
    assert len(config.ladder.rungs) == 5
    assert config.schedules.sweep == "every workday 09:00-17:45/15m"


# ---- tables as offices make them -----------------------------------------------------------


def test_a_messy_office_table_is_read_as_it_is() -> None:
    result = read_task_list(DATA / "messy-office.csv")
    assert result.errors == []
    tasks = by_code(result)
    assert list(tasks) == ["2024-01", "2024-02", "2024-03", "7"]
    first = tasks["2024-01"]  # full-width code, padded name, mixed separators, two-line cell
    assert first.title == "深入开展“项目攻坚突破年”活动"
    assert first.lead_unit == "县发展和改革局"
    assert first.co_units == ("县财政局", "县自然资源局", "县住房和城乡建设局")
    assert first.official == "王建国"
    assert first.deadline == dt.date(2024, 12, 31)
    assert [m.name for m in first.milestones] == ["完成项目谋划清单", "完成专项债券项目申报"]
    assert tasks["2024-02"].lead_unit == "县商务局(招商服务中心)"
    assert tasks["2024-02"].notes == "按月报送"
    assert tasks["2024-02"].area == "稳增长"  # a （一） sub-heading keeps the area
    assert tasks["2024-03"].area == "经济体制改革"  # a heading without quotes is the area
    assert tasks["2024-03"].deadline == dt.date(2024, 9, 30)  # 三季度末, year from the title


def test_a_gbk_csv_saved_by_excel_is_accepted() -> None:
    raw = (DATA / "gbk.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    result = read_task_list(DATA / "gbk.csv")
    assert result.errors == []
    tasks = by_code(result)
    assert tasks["2024-01"].lead_unit == "县发展和改革局"
    assert tasks["2024-02"].lead_unit == "县商务局(招商服务中心)"
    assert [t.area for t in result.rows] == ["稳增长", "稳增长", "添动能"]


def test_a_utf16_tab_separated_export_is_accepted(tmp_path: Path) -> None:
    text = "编号\t改革任务\t牵头单位\t完成时限\n2024-01\t任务\t县财政局\t2024年底前\n"
    result = read_task_list(write_csv(tmp_path / "unicode.csv", text, "utf-16"))
    assert result.errors == []
    assert result.rows[0].deadline == dt.date(2024, 12, 31)


def test_bytes_neither_utf8_nor_gbk_are_refused_with_a_clear_error() -> None:
    result = read_task_list(DATA / "undecodable.csv")
    assert where(result) == {(0, "")}
    assert "编码" in result.errors[0].message
    assert result.rows == []


def test_the_default_year_falls_back_to_the_first_dated_deadline(tmp_path: Path) -> None:
    text = "编号,改革任务,牵头单位,完成时限\nA-1,甲,县财政局,6月底前\nA-2,乙,县财政局,2025年底\n"
    result = read_task_list(write_csv(tmp_path / "no-title.csv", text))
    assert result.errors == []
    assert result.rows[0].deadline == dt.date(2025, 6, 30)


def test_without_any_year_a_yearless_deadline_is_an_error(tmp_path: Path) -> None:
    text = "编号,改革任务,牵头单位,完成时限\nA-1,甲,县财政局,6月底前\nA-2,乙,县财政局,持续推进\n"
    result = read_task_list(write_csv(tmp_path / "no-year.csv", text))
    assert where(result) == {(2, "完成时限")}
    assert "年份" in result.errors[0].message


# ---- every bad row and column --------------------------------------------------------------


def test_every_bad_row_and_column_is_named() -> None:
    result = read_task_list(DATA / "bad-rows.csv")
    assert where(result) == {
        (4, "编号"),  # missing
        (5, "改革任务"),  # missing
        (6, "牵头单位"),  # missing
        (7, "完成时限"),  # 下个月
        (8, "阶段节点"),  # item without a date
        (9, "配合单位"),  # lead unit also a co-unit
        (10, "编号"),  # 2024/08 does not match the code pattern
        (11, "牵头单位"),  # two lead units
        (11, "完成时限"),  # 2024年2月30日
        (12, "阶段节点"),  # 2024年13月底前
        (13, "编号"),  # duplicate of row 3
        (14, "完成时限"),  # empty
        (15, "改革任务"),  # 600 characters, limit 500
        (16, "领衔领导"),  # 120 characters, limit 100
    }
    assert [t.code for t in result.rows] == ["2024-01"]
    messages = {(e.row, e.column): e.message for e in result.errors}
    assert "第3行" in messages[(13, "编号")]
    assert "下个月" in messages[(7, "完成时限")]
    assert "方案制定" in messages[(8, "阶段节点")]
    assert "500" in messages[(15, "改革任务")]


def test_errors_come_in_file_order_and_read_well() -> None:
    result = read_task_list(DATA / "bad-rows.csv")
    rows = [error.row for error in result.errors]
    assert rows == sorted(rows)
    assert str(result.errors[0]) == "第4行「编号」：缺少编号，请填写任务编号，如 2024-07"
    assert not result.ok


def test_duplicate_codes_are_reported_on_the_later_row_naming_the_first() -> None:
    result = read_task_list(DATA / "duplicates.csv")
    assert result.errors == [
        RowError(4, "编号", "编号「2024-01」与第2行重复"),
        RowError(5, "编号", "编号「2024-02」与第3行重复"),
    ]
    assert [t.code for t in result.rows] == ["2024-01", "2024-02"]


def test_missing_required_columns_are_named_at_the_header_row() -> None:
    result = read_task_list(DATA / "missing-columns.csv")
    assert where(result) == {(2, "编号"), (2, "完成时限")}


def test_a_file_without_a_header_row_is_refused() -> None:
    result = read_task_list(DATA / "no-header.csv")
    assert where(result) == {(0, "")}
    assert "表头" in result.errors[0].message


def test_a_column_given_twice_is_named(tmp_path: Path) -> None:
    text = "编号,任务,改革任务,牵头单位,完成时限\nA-1,甲,甲,县财政局,2024年底前\n"
    result = read_task_list(write_csv(tmp_path / "twice.csv", text))
    assert where(result) == {(1, "改革任务")}


def test_english_headers_are_accepted(tmp_path: Path) -> None:
    text = "Code,Title,Lead unit,Co-units,Deadline,Milestones\nA-1,甲,县财政局,县税务局,2024-06-30,"
    result = read_task_list(write_csv(tmp_path / "english.csv", text))
    assert result.errors == []
    assert result.rows[0].co_units == ("县税务局",)


# ---- XLSX particulars ----------------------------------------------------------------------


def test_a_broken_xlsx_is_refused_with_a_clear_error() -> None:
    result = read_task_list(DATA / "broken.xlsx")
    assert where(result) == {(0, "")}
    assert "无法读取 Excel 文件" in result.errors[0].message


def test_a_csv_renamed_to_xlsx_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "renamed.xlsx"
    path.write_bytes((DATA / "duplicates.csv").read_bytes())
    assert where(read_task_list(path)) == {(0, "")}


def test_a_formula_without_a_cached_value_is_an_error_at_its_cell(tmp_path: Path) -> None:
    rows: list[list[Any]] = [
        ["2024年任务分解表"],
        HEADER,
        [1, "2024-01", "甲", "县财政局", "", "=TODAY()+30", "", ""],
        [2, "2024-02", "乙", '=IF(1,"县财政局","县税务局")', "", "2024年底前", "", ""],
    ]
    result = read_task_list(write_xlsx(tmp_path / "formulas.xlsx", rows))
    assert where(result) == {(3, "完成时限"), (4, "牵头单位")}
    assert all("公式" in error.message for error in result.errors)


def test_numeric_codes_are_kept_as_text_only_when_whole(tmp_path: Path) -> None:
    rows: list[list[Any]] = [
        HEADER,
        [1, 7.0, "甲", "县财政局", "", "2024年底前", "", ""],
        [2, 8, "乙", "县财政局", "", "2024年底前", "", ""],
        [3, 7.5, "丙", "县财政局", "", "2024年底前", "", ""],
        [4, dt.datetime(2024, 7, 1), "丁", "县财政局", "", "2024年底前", "", ""],
    ]
    result = read_task_list(write_xlsx(tmp_path / "codes.xlsx", rows))
    assert [t.code for t in result.rows] == ["7", "8"]
    assert where(result) == {(4, "编号"), (5, "编号")}
    assert "小数" in result.errors[0].message
    assert "日期" in result.errors[1].message


def test_merged_lead_unit_and_group_cells_span_their_rows(tmp_path: Path) -> None:
    rows: list[list[Any]] = [
        ["2024年全县全面深化改革工作要点任务分解表"],
        HEADER,
        ['一、在"稳增长"上借助改革之势'],
        [1, "2024-01", "甲", "县财政局", "", dt.datetime(2024, 6, 30), ECONOMY, ""],
        [2, "2024-02", "乙", None, "县税务局", "三季度末", None, "备注乙"],
        [3, "2024-03", "丙", None, "", "持续推进", None, ""],
        ["二、在“添动能”上汇聚改革之力"],
        [4, "2024-04", "丁", "县林业局", "", "年底前", "", ""],
    ]
    merges = ["A1:H1", "A3:H3", "D4:D6", "G4:G6", "A7:H7"]
    result = read_task_list(write_xlsx(tmp_path / "merged.xlsx", rows, merges))
    assert result.errors == []
    tasks = by_code(result)
    assert [tasks[c].lead_unit for c in ("2024-01", "2024-02", "2024-03")] == ["县财政局"] * 3
    assert [tasks[c].group for c in ("2024-01", "2024-02", "2024-03")] == [ECONOMY] * 3
    assert tasks["2024-02"].notes == "备注乙"
    assert tasks["2024-02"].deadline == dt.date(2024, 9, 30)
    assert [t.area for t in result.rows] == ["稳增长", "稳增长", "稳增长", "添动能"]


def test_the_sheet_holding_the_table_is_found_behind_a_cover_sheet(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    cover = book.active
    assert isinstance(cover, Worksheet)
    cover.title = "填表说明"
    cover.append(["请按要求填写"])
    table = book.create_sheet("任务分解表")
    table.append(HEADER)
    table.append([1, "2024-01", "甲", "县财政局", "", "2024-06-30", "", ""])
    book.save(tmp_path / "cover.xlsx")
    result = read_task_list(tmp_path / "cover.xlsx")
    assert result.errors == []
    assert [t.code for t in result.rows] == ["2024-01"]


# ---- YAML ----------------------------------------------------------------------------------


def test_every_bad_yaml_task_is_named_by_its_line_and_key() -> None:
    result = read_task_list(DATA / "bad.yaml")
    assert where(result) == {
        (8, ""),  # not a mapping
        (9, "lead_unti"),  # unknown key
        (9, "lead_unit"),  # hence no lead unit
        (13, "完成时限"),  # 下个月, under a Chinese key
        (17, "milestones"),  # a milestone without a date
    }
    assert [t.code for t in result.rows] == ["2024-01"]


def test_yaml_with_chinese_keys_and_milestone_mappings(tmp_path: Path) -> None:
    text = """\
标题: 2024年全县全面深化改革工作要点
任务:
  - 编号: 2024-01
    改革任务: 甲
    牵头单位: 县财政局
    配合单位: 县税务局、县审计局
    完成时限: 年底前
    阶段节点:
      - {name: 完成方案制定, due: 2024-03-31}
      - 2024年6月底前完成试点
"""
    path = tmp_path / "chinese.yml"
    path.write_text(text, encoding="utf-8")
    result = read_task_list(path)
    assert result.errors == []
    task = result.rows[0]
    assert task.deadline == dt.date(2024, 12, 31)
    assert task.co_units == ("县税务局", "县审计局")
    assert task.milestones == (
        Milestone(name="完成方案制定", due=dt.date(2024, 3, 31)),
        Milestone(name="完成试点", due=dt.date(2024, 6, 30)),
    )


def test_a_yaml_syntax_error_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("tasks:\n  - code: 2024-01\n    title: [unclosed\n", encoding="utf-8")
    result = read_task_list(path)
    assert len(result.errors) == 1
    assert result.errors[0].row >= 3
    assert "YAML" in result.errors[0].message


def test_yaml_that_is_not_a_task_list_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "scalar.yaml"
    path.write_text("just a sentence\n", encoding="utf-8")
    assert where(read_task_list(path)) == {(0, "")}


# ---- huge cells and files ------------------------------------------------------------------

TEN_MB = 10 * 1024 * 1024


def test_a_10_mb_csv_cell_is_an_error_not_a_hang(tmp_path: Path) -> None:
    text = (
        "编号,改革任务,牵头单位,完成时限\n"
        "A-1,甲,县财政局,2024年底前\n"
        f"A-2,{'x' * TEN_MB},县财政局,2024年底前\n"
        "A-3,丙,县财政局,2024年底前\n"
    )
    started = time.monotonic()
    result = read_task_list(write_csv(tmp_path / "huge.csv", text))
    assert time.monotonic() - started < 20
    assert where(result) == {(3, "")}
    assert "过长" in result.errors[0].message
    assert [t.code for t in result.rows] == ["A-1", "A-3"]


def test_a_cell_longer_than_any_field_is_named_by_its_column(tmp_path: Path) -> None:
    text = f"编号,改革任务,牵头单位,完成时限\nA-1,甲,县财政局,{'9' * 100_000}\n"
    result = read_task_list(write_csv(tmp_path / "long.csv", text))
    assert where(result) == {(2, "完成时限")}
    assert "过长" in result.errors[0].message


def test_a_10_mb_xlsx_cell_is_an_error_not_a_hang(tmp_path: Path) -> None:
    rows: list[list[Any]] = [
        HEADER,
        [1, "2024-01", "PLACEHOLDER", "县财政局", "", "2024年底前", "", ""],
    ]
    small = write_xlsx(tmp_path / "small.xlsx", rows)
    huge = tmp_path / "huge.xlsx"
    with zipfile.ZipFile(small) as source, zipfile.ZipFile(huge, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if b"PLACEHOLDER" in content:
                content = content.replace(b"PLACEHOLDER", b"x" * TEN_MB)
            target.writestr(item, content, compress_type=zipfile.ZIP_DEFLATED)
    started = time.monotonic()
    result = read_task_list(huge)
    assert time.monotonic() - started < 30
    assert where(result) == {(2, "改革任务")}
    assert "过长" in result.errors[0].message


def test_a_10_mb_yaml_value_is_an_error_not_a_hang(tmp_path: Path) -> None:
    text = f"- code: A-1\n  title: {'x' * TEN_MB}\n  lead_unit: 县财政局\n  deadline: 2024年底\n"
    path = tmp_path / "huge.yaml"
    path.write_text(text, encoding="utf-8")
    result = read_task_list(path)
    assert where(result) == {(1, "title")}


def test_a_file_over_the_size_limit_is_refused_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "MAX_FILE_BYTES", 100)
    result = read_task_list(DATA / "bad-rows.csv")
    assert where(result) == {(0, "")}
    assert "文件过大" in result.errors[0].message


# ---- files that are not task lists ---------------------------------------------------------


@pytest.mark.parametrize("name", ["tasks.xls", "tasks.docx", "tasks"])
def test_an_unsupported_file_type_is_refused(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"whatever")
    result = read_task_list(path)
    assert where(result) == {(0, "")}
    assert ".xlsx" in result.errors[0].message


def test_a_missing_file_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    result = read_task_list(tmp_path / "nowhere.csv")
    assert where(result) == {(0, "")}


def test_content_already_in_memory_can_be_parsed() -> None:
    result = parse_task_list((DATA / "gbk.csv").read_bytes(), "csv")
    assert len(result.rows) == 3
    assert result.ok
