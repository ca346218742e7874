"""The safe-cell writer on the values the importer never lets through (a leading tab or
carriage return, control characters, an error value): each written, saved, and read back."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

from openpyxl import Workbook, load_workbook

from duban.app.safe_cells import Formula, append_row
from duban.cli.output import render_csv

HOSTILE = ["=1+1", "+1", "-1+1", "@SUM(1,1)", "\t=1+1", "\r=1+1", "＝1", "＋1", "－1", "＠1"]


def _written(tmp_path: Path, values: list[object]) -> list[tuple[object, str, bool]]:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    append_row(sheet, values)
    book.save(tmp_path / "cells.xlsx")
    row = load_workbook(tmp_path / "cells.xlsx").active[1]  # type: ignore[index]
    return [(c.value, c.data_type, bool(c.quotePrefix)) for c in row]


def test_text_that_starts_like_a_formula_is_quoted_text(tmp_path: Path) -> None:
    # XML reads a carriage return back as a line feed; the cell is quoted text all the same.
    expected = [(text.replace("\r", "\n"), "s", True) for text in HOSTILE]
    assert _written(tmp_path, list(HOSTILE)) == expected


def test_error_values_and_control_characters_stay_text(tmp_path: Path) -> None:
    assert _written(tmp_path, ["#N/A", "#DIV/0!", "响\x07铃\x1b[31m"]) == [
        ("#N/A", "s", False),
        ("#DIV/0!", "s", False),
        ("响\ufffd铃\ufffd[31m", "s", False),
    ]


def test_numbers_dates_and_our_own_formulas_are_left_as_they_are(tmp_path: Path) -> None:
    cells = _written(tmp_path, [-3, 2.5, dt.datetime(2024, 6, 30), Formula("=SUM(A1:B1)")])
    assert cells == [
        (-3, "n", False),
        (2.5, "n", False),
        (dt.datetime(2024, 6, 30), "d", False),
        ("=SUM(A1:B1)", "f", False),
    ]


def test_csv_cells_that_start_like_a_formula_get_a_leading_quote() -> None:
    rows = [{"text": text, "number": -3, "list": [text, "县财政局"]} for text in HOSTILE]
    columns = [("text", "文本"), ("number", "数"), ("list", "单位")]
    parsed = list(csv.reader(io.StringIO(render_csv(rows, columns), newline="")))
    assert parsed[0] == ["文本", "数", "单位"]
    for text, row in zip(HOSTILE, parsed[1:], strict=True):
        assert row == ["'" + text, "-3", f"'{text}、县财政局"]
