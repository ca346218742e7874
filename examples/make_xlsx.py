"""Build examples/tasks-2024.xlsx from tasks-2024.csv the way a county office lays out the table.

The title row is merged across the columns, each section row (一、在"稳增长"上…) too; runs of
tasks with the same 牵头单位 or 专责小组 share one merged cell; ISO deadlines become real Excel
dates; 编号 is a text column. Run: `.venv/bin/python examples/make_xlsx.py [CSV] [XLSX]`.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

HERE = Path(__file__).resolve().parent
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_WIDTHS = {"序号": 6, "编号": 10, "改革任务": 60, "牵头单位": 22, "配合单位": 40, "阶段节点": 40}
_MERGED_DOWN = ("牵头单位", "专责小组")


def build(source: Path, target: Path) -> None:
    with source.open(encoding="utf-8-sig", newline="") as handle:
        title, header, *body = list(csv.reader(handle))
    book = Workbook()
    sheet = book.active
    assert isinstance(sheet, Worksheet)
    sheet.title = "任务分解表"
    _title(sheet, title[0], len(header))
    sheet.append(header)
    for row in body:
        sheet.append(_typed(row, header))
        if not row[1]:  # a section row: only its heading is filled
            _span_row(sheet, sheet.max_row, len(header))
    for name in _MERGED_DOWN:
        _merge_runs(sheet, header.index(name) + 1, first_row=3)
    _layout(sheet, header)
    book.save(target)


def _title(sheet: Worksheet, text: str, width: int) -> None:
    sheet.append([text])
    _span_row(sheet, 1, width)
    sheet.cell(1, 1).font = Font(bold=True, size=16)
    sheet.cell(1, 1).alignment = Alignment(horizontal="center")


def _span_row(sheet: Worksheet, row: int, width: int) -> None:
    sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
    sheet.cell(row, 1).font = Font(bold=True)


def _typed(row: Sequence[str], header: Sequence[str]) -> list[object]:
    cells: list[object] = list(row)
    if row[0].isdigit():
        cells[0] = int(row[0])
    deadline = header.index("完成时限")
    if _ISO_DATE.match(row[deadline]):
        cells[deadline] = dt.datetime.fromisoformat(row[deadline])
    return cells


def _merge_runs(sheet: Worksheet, column: int, *, first_row: int) -> None:
    """Merge each run of equal values in `column` between section rows into one cell."""
    start = first_row
    for row in range(first_row, sheet.max_row + 2):
        value = sheet.cell(row, column).value if row <= sheet.max_row else None
        if value is not None and value == sheet.cell(start, column).value:
            continue
        if row - start > 1 and sheet.cell(start, column).value is not None:
            sheet.merge_cells(
                start_row=start, start_column=column, end_row=row - 1, end_column=column
            )
        start = row


def _layout(sheet: Worksheet, header: Sequence[str]) -> None:
    for index, name in enumerate(header, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = _WIDTHS.get(name, 16)
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="center")
    for (cell,) in sheet.iter_rows(min_row=3, min_col=2, max_col=2):
        cell.number_format = "@"
    deadline = header.index("完成时限") + 1
    for (cell,) in sheet.iter_rows(min_row=3, min_col=deadline, max_col=deadline):
        if isinstance(cell.value, dt.datetime):
            cell.number_format = 'yyyy"年"m"月"d"日"'


def main(argv: Sequence[str]) -> None:
    source = Path(argv[0]) if argv else HERE / "tasks-2024.csv"
    target = Path(argv[1]) if len(argv) > 1 else HERE / "tasks-2024.xlsx"
    build(source, target)


if __name__ == "__main__":
    main(sys.argv[1:])
