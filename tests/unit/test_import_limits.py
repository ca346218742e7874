"""The XLSX reader's limits, each met by a real workbook: rows and columns that hold a value
past the limit, and archives past the zip limits (parts, compression ratio, method)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from pathlib import Path

import openpyxl
import pytest

from duban.app.importer import read_task_list
from duban.app.importer import xlsx as reader
from duban.app.importer.xlsx import MAX_COLUMNS, MAX_ROWS, ZipLimits

HEADER = ["编号", "改革任务", "牵头单位", "完成时限"]


def _book(path: Path, rows: Sequence[Sequence[object]], far: tuple[int, int] | None = None) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(list(row))
    if far is not None:
        sheet.cell(*far, value="多余")
    book.save(path)
    return path


def _task(n: int) -> list[str]:
    return [f"T-{n:04d}", f"任务{n}", "县财政局", "2024年底前"]


def _file_error(path: Path) -> str:
    result = read_task_list(path)
    assert [(e.row, e.column) for e in result.errors] == [(0, "")], result.errors
    assert result.rows == []
    return result.errors[0].message


def test_a_value_below_the_last_row_allowed_is_refused(tmp_path: Path) -> None:
    path = _book(tmp_path / "far.xlsx", [HEADER, _task(1)], far=(MAX_ROWS + 1, 1))
    assert f"表格超过 {MAX_ROWS} 行（第 {MAX_ROWS + 1} 行仍有内容）" in _file_error(path)


def test_as_many_rows_as_allowed_are_read(tmp_path: Path) -> None:
    rows = [HEADER, *(_task(n) for n in range(1, MAX_ROWS))]
    result = read_task_list(_book(tmp_path / "full.xlsx", rows))
    assert result.errors == []
    assert len(result.rows) == MAX_ROWS - 1


def test_formatted_empty_rows_past_the_limit_are_skipped(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    sheet.append(_task(1))
    sheet.cell(MAX_ROWS + 50, 3).number_format = "0.00"  # a styled cell without a value
    book.save(tmp_path / "styled.xlsx")
    result = read_task_list(tmp_path / "styled.xlsx")
    assert result.errors == []
    assert [t.code for t in result.rows] == ["T-0001"]


def test_a_value_beyond_the_last_column_allowed_is_refused(tmp_path: Path) -> None:
    path = _book(tmp_path / "wide.xlsx", [HEADER, _task(1)], far=(2, MAX_COLUMNS + 1))
    message = _file_error(path)
    assert f"表格列数超过 {MAX_COLUMNS}（第 2 行第 {MAX_COLUMNS + 1} 列仍有内容）" in message


def _highly_compressible(path: Path) -> Path:
    """A sound workbook whose one long cell packs about a thousand to one."""
    return _book(path, [HEADER, ["T-0001", "改" * 200_000, "县财政局", "2024年底前"]])


def test_a_part_packed_beyond_the_ratio_limit_is_refused_unparsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _highly_compressible(tmp_path / "packed.xlsx")
    assert read_task_list(path).errors != []  # a cell that long is an error at its cell …
    assert all(e.row == 2 for e in read_task_list(path).errors)
    monkeypatch.setattr(reader, "ZIP_LIMITS", ZipLimits(ratio=50))
    assert "压缩比" in _file_error(path)  # … and, past the ratio limit, never parsed at all


def test_an_archive_of_too_many_parts_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _book(tmp_path / "parts.xlsx", [HEADER, _task(1)])
    monkeypatch.setattr(reader, "ZIP_LIMITS", ZipLimits(parts=5))
    assert "超过 5 个" in _file_error(path)


def test_a_part_compressed_with_a_method_excel_never_uses_is_refused(tmp_path: Path) -> None:
    source = _book(tmp_path / "plain.xlsx", [HEADER, _task(1)])
    out = io.BytesIO()
    with zipfile.ZipFile(source) as book, zipfile.ZipFile(out, "w") as target:
        for item in book.infolist():
            target.writestr(item.filename, book.read(item.filename), zipfile.ZIP_BZIP2)
    (tmp_path / "bzip2.xlsx").write_bytes(out.getvalue())
    assert "压缩方式" in _file_error(tmp_path / "bzip2.xlsx")
