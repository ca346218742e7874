"""The one safe-cell writer of every spreadsheet the project writes: XLSX rows and CSV cells.

Text a user typed (a title, a unit's or an official's name) that starts with a formula
character (`FORMULA_STARTS`: `= + - @`, tab, carriage return and the full-width `＝＋－＠`)
must reach Excel, WPS and LibreOffice as text, never as a formula or a DDE call:

* XLSX (`append_row`): every text value is written as a string cell (`data_type` "s"),
  never as a formula (openpyxl turns "=…" into one) or an error value ("#N/A"); text that
  starts with a formula character also gets the quote prefix (Excel's leading apostrophe,
  kept when the cell is edited). Characters XML cannot hold (control characters) become
  U+FFFD. Numbers and dates stay numbers and dates; a `Formula` the project writes itself
  stays a formula.
* CSV (`csv_text`): such text gets a leading single quote, as the OWASP CSV-injection
  guidance says; numbers are left as they are (a negative number is not a formula).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from numbers import Number
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # openpyxl is imported when a workbook is written, not by every CLI command
    from openpyxl.cell.cell import Cell
    from openpyxl.worksheet.worksheet import Worksheet

__all__ = ["FORMULA_STARTS", "Formula", "append_row", "csv_text", "formula_like", "xlsx_cell"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
_NOT_IN_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # openpyxl's ILLEGAL_CHARACTERS_RE


class Formula(str):
    """A formula the project itself puts in a sheet (`Formula("=SUM(B3:B9)")`)."""

    __slots__ = ()


def formula_like(text: str) -> bool:
    """Whether a spreadsheet could read `text` as a formula when it opens or imports it."""
    return text.startswith(FORMULA_STARTS)


def xlsx_cell(sheet: Worksheet, value: Any) -> Cell:
    """A cell of `sheet` holding `value` safely (see the module docstring); `sheet.append`
    gives it its place."""
    from openpyxl.cell.cell import Cell

    if isinstance(value, Formula):
        return Cell(sheet, 1, 1, value=str(value))
    if not isinstance(value, str):
        return Cell(sheet, 1, 1, value=value)
    text = _NOT_IN_XML.sub("\ufffd", value)
    cell = Cell(sheet, 1, 1, value=text)
    cell.data_type = "s"  # not "f" for "=…", not "e" for "#N/A"
    if formula_like(text):
        cell.quotePrefix = True
    return cell


def append_row(sheet: Worksheet, values: Iterable[Any]) -> None:
    """`sheet.append(values)`, every value through `xlsx_cell`."""
    sheet.append([xlsx_cell(sheet, value) for value in values])


def csv_text(value: Any, text: str) -> str:
    """The CSV field for `value` rendered as `text`: quoted with `'` when `value` is text that
    starts with a formula character."""
    if not isinstance(value, Number) and formula_like(text):
        return "'" + text
    return text
