"""The XLSX reader, bounded: the active sheet first (then the others, for a cover sheet), merged
cells spread, formulas saved without a value named.

A workbook is a zip of XML parts, so a small file can claim anything: a declared dimension of
A1:XFD1048576, or gigabytes once unpacked. Nothing here trusts either. Before parsing, the
archive is checked against `ZIP_LIMITS` (parts, unpacked bytes, compression ratio, methods);
then each sheet is read once, streaming, row by row, keeping only the cells that hold a value,
and reading stops with a `FileError` at a row or column beyond `MAX_ROWS` / `MAX_COLUMNS` that
holds a value (empty formatted rows past the end are skipped). A sheet without a header in its
first rows is left after those rows.
"""

from __future__ import annotations

import datetime as dt
import io
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import openpyxl
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.worksheet._reader import FORMULA_TAG, WorkSheetParser
from openpyxl.worksheet.formula import ArrayFormula

from duban.app.importer.records import FileError, Found, Row, UncachedFormula
from duban.app.importer.table import HEADER_SEARCH_ROWS, find_header, table_of

__all__ = ["MAX_COLUMNS", "MAX_ROWS", "ZIP_LIMITS", "ZipLimits", "read_xlsx"]

MAX_ROWS = 5000  # a county's yearly list is hundreds of rows
MAX_COLUMNS = 200  # the task columns and a good many of the office's own
_MB = 1024 * 1024


@dataclass(frozen=True)
class ZipLimits:
    parts: int = 1000  # a workbook has a few dozen
    unpacked_bytes: int = 32 * _MB  # hundreds of rows unpack to well under 1 MB
    # Deflate packs at most about 1032:1; a part claiming more is forged or not deflate.
    ratio: int = 1100
    methods: frozenset[int] = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})


ZIP_LIMITS = ZipLimits()

_SAVE_AS = "请在 Excel/WPS 中打开并另存为 .xlsx 后重试"


def read_xlsx(data: bytes) -> Found:
    _check_archive(data, ZIP_LIMITS)
    book = _workbook(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # extensions of WPS/Excel openpyxl does not know
            for sheet in sorted(book.worksheets, key=lambda s: s is not book.active):
                if isinstance(sheet, ReadOnlyWorksheet):
                    rows = _table_rows(book, sheet)
                    if rows is not None:
                        return table_of(rows)
        return table_of([])
    finally:
        book.close()


def _check_archive(data: bytes, limits: ZipLimits) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise _unreadable(exc) from exc
    if len(parts) > limits.parts:
        raise FileError(f"导入文件异常：含 {len(parts)} 个部件，超过 {limits.parts} 个，{_SAVE_AS}")
    unpacked = sum(part.file_size for part in parts)
    if unpacked > limits.unpacked_bytes:
        raise FileError(
            f"导入文件过大：解压后 {unpacked / _MB:.0f} MB，超过 {limits.unpacked_bytes // _MB} MB"
            f"（可能是压缩炸弹），{_SAVE_AS}"
        )
    for part in parts:
        if part.compress_type not in limits.methods:
            raise FileError(
                f"导入文件异常：部件 {part.filename} 的压缩方式不是 Excel 所用，{_SAVE_AS}"
            )
        if part.file_size > limits.ratio * max(part.compress_size, 1):
            raise FileError(
                f"导入文件异常：部件 {part.filename} 的压缩比不可能出现（压缩炸弹），{_SAVE_AS}"
            )


def _unreadable(exc: BaseException) -> FileError:
    return FileError(f"无法读取 Excel 文件：文件可能已损坏或不是 .xlsx 格式，{_SAVE_AS}")


def _workbook(data: bytes) -> Workbook:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # a broken file fails deep in zipfile or the XML parser, any way
        raise _unreadable(exc) from exc


class _Parser(WorkSheetParser):
    """openpyxl's streaming sheet parser reading cached values (`data_only`), with a formula
    saved without one kept as an `UncachedFormula` instead of an empty cell, and rows' heights
    and styles (which it would keep, row by row) dropped."""

    def parse_row(self, row: Any) -> tuple[int, list[dict[str, Any]]]:
        parsed: tuple[int, list[dict[str, Any]]] = super().parse_row(row)
        self.row_dimensions.clear()
        return parsed

    def parse_cell(self, element: Any) -> dict[str, Any]:
        cell: dict[str, Any] = super().parse_cell(element)
        if cell["value"] is None and element.find(FORMULA_TAG) is not None:
            formula = self.parse_formula(element)  # type: ignore[no-untyped-call]
            text = formula.text if isinstance(formula, ArrayFormula) else formula
            cell["value"] = UncachedFormula(str(text))
        return cell


def _table_rows(book: Workbook, sheet: ReadOnlyWorksheet) -> list[Row] | None:
    """The sheet's rows (numbered as the sheet shows them), or None without a header."""
    rows: list[Row] = []
    try:
        with book._archive.open(sheet._worksheet_path) as source:  # type: ignore[attr-defined]
            parser = _Parser(
                source,
                sheet._shared_strings,  # type: ignore[attr-defined]
                data_only=True,
                epoch=book.epoch,
                date_formats=book._date_formats,  # type: ignore[attr-defined]
                timedelta_formats=book._timedelta_formats,  # type: ignore[attr-defined]
            )
            for row in _bounded(parser.parse()):
                rows.append(row)
                if len(rows) == HEADER_SEARCH_ROWS and find_header(rows) is None:
                    return None
            merges = (
                [str(m.ref) for m in parser.merged_cells.mergeCell] if parser.merged_cells else []
            )
    except FileError:
        raise
    except Exception as exc:  # broken XML inside a sound zip
        raise _unreadable(exc) from exc
    if find_header(rows) is None:
        return None
    return _spread_merged_cells(rows, merges)


def _bounded(parsed: Iterator[tuple[int, list[dict[str, Any]]]]) -> Iterator[Row]:
    """Every row from 1 to the last one holding a value, never past `MAX_ROWS`/`MAX_COLUMNS`."""
    number = 0
    for index, cells in parsed:
        if index > MAX_ROWS:
            if any(cell["value"] is not None for cell in cells):
                raise FileError(
                    f"表格超过 {MAX_ROWS} 行（第 {index} 行仍有内容）：任务清单只需一年的任务，"
                    "请删去多余的行后重试"
                )
            continue
        values = _values(index, cells)
        while number < index - 1:
            number += 1
            yield Row(number, ())
        if index > number:
            number = index
            yield Row(index, values)


def _values(index: int, cells: list[dict[str, Any]]) -> tuple[object, ...]:
    held = {c["column"]: _plain(c["value"]) for c in cells if c["value"] is not None}
    if not held:
        return ()
    last = max(held)
    if last > MAX_COLUMNS:
        raise FileError(
            f"表格列数超过 {MAX_COLUMNS}（第 {index} 行第 {last} 列仍有内容），请删去多余的列后重试"
        )
    return tuple(held.get(column) for column in range(1, last + 1))


def _plain(value: object) -> object:
    if isinstance(value, str | int | float | dt.date | UncachedFormula):
        return value
    return str(value)  # times, durations: only ever text to us


def _spread_merged_cells(rows: list[Row], merges: list[str]) -> list[Row]:
    """A cell merged down several rows (牵头单位, 专责小组) belongs to each of them.

    Merges within one row (the title, section rows) keep their value in the first cell only.
    Merges reach no further than the rows read and `MAX_COLUMNS`.
    """
    from openpyxl.utils.cell import range_boundaries

    grid = [list(row.cells) for row in rows]
    budget = MAX_ROWS * MAX_COLUMNS
    for ref in merges:
        min_col, min_row, max_col, max_row = range_boundaries(ref)
        if min_row is None or max_row is None or min_col is None or max_col is None:
            continue
        if min_row == max_row or min_row > len(grid) or min_col > MAX_COLUMNS:
            continue
        max_row, max_col = min(max_row, len(grid)), min(max_col, MAX_COLUMNS)
        first = grid[min_row - 1]
        value = first[min_col - 1] if min_col <= len(first) else None
        budget -= (max_row - min_row + 1) * (max_col - min_col + 1)
        if budget < 0:
            raise FileError(f"合并单元格过多，{_SAVE_AS}")
        for cells in grid[min_row - 1 : max_row]:
            if len(cells) < max_col:
                cells.extend([None] * (max_col - len(cells)))
            cells[min_col - 1 : max_col] = [value] * (max_col - min_col + 1)
    return [Row(row.number, tuple(cells)) for row, cells in zip(rows, grid, strict=True)]
