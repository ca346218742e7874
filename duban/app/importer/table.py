"""The shape of an office's table (CSV and XLSX rows): title rows above a header found among the
first rows, headers recognised however they are spelled, section rows (一、在"稳增长"上…) that
give the following tasks their area, blank and note-only lines skipped. Merged cells are spread
by the XLSX reader before the rows get here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence

from duban.app.importer.fields import (
    FIELD_LABELS,
    FIELD_OF_HEADER,
    REQUIRED,
    TASK_FIELDS,
    header_key,
)
from duban.app.importer.records import Found, Record, Row, RowError

__all__ = ["HEADER_SEARCH_ROWS", "find_header", "table_of", "year_in_title"]

HEADER_SEARCH_ROWS = 10
_HEADING = re.compile(r"^\s*[一二三四五六七八九十]+\s*[、.．，,]\s*(?P<body>\S.*)$", re.DOTALL)
_NUMERAL = re.compile(r"^\s*[一二三四五六七八九十]+\s*[、.．]?\s*$")
_SUB_HEADING = re.compile(r"^\s*[（(][一二三四五六七八九十]+[)）]")
_QUOTED = re.compile(r"[“\"「『‘'](?P<name>[^“”\"「」『』‘’']{1,30})[”\"」』’']")
_TITLE_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")


def _header_fields(row: Row) -> set[str]:
    keys = (header_key(cell) for cell in row.cells if isinstance(cell, str))
    return {FIELD_OF_HEADER[key] for key in keys if key in FIELD_OF_HEADER}


def find_header(rows: Sequence[Row]) -> int | None:
    """The first of the top rows naming at least three known columns; above it: title rows."""
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if len(_header_fields(row)) >= 3:
            return index
    return None


def _columns(header: Row) -> tuple[dict[int, tuple[str, str]], list[RowError]]:
    """Column index → (field, header as written), and problems with the header itself."""
    columns: dict[int, tuple[str, str]] = {}
    written_for: dict[str, str] = {}
    errors: list[RowError] = []
    for index, cell in enumerate(header.cells):
        written = str(cell).strip() if cell is not None else ""
        name = FIELD_OF_HEADER.get(header_key(written))
        if name is None:
            continue  # 序号 and columns of the office's own
        if name in written_for:
            message = f"列「{written}」与列「{written_for[name]}」是同一项，请删除其中一列"
            errors.append(RowError(header.number, written, message))
            continue
        written_for[name] = written
        columns[index] = (name, written)
    for name in REQUIRED:
        if name not in written_for:
            label = FIELD_LABELS[name]
            errors.append(RowError(header.number, label, f"表头缺少“{label}”列"))
    return columns, errors


def table_of(rows: Sequence[Row]) -> Found:
    header_at = find_header(rows)
    if header_at is None:
        message = "未找到表头：前 10 行中没有含“编号”“改革任务”“牵头单位”“完成时限”等列名的行"
        return Found(errors=[RowError(0, "", message)])
    columns, errors = _columns(rows[header_at])
    if errors:
        return Found(errors=errors)
    records = list(_table_records(rows[header_at + 1 :], columns))
    return Found(records=records, year=_title_year(rows[:header_at]))


def _table_records(rows: Sequence[Row], columns: dict[int, tuple[str, str]]) -> Iterator[Record]:
    area: str | None = None
    for row in rows:
        cells = {
            name: (written, row.cells[index] if index < len(row.cells) else None)
            for index, (name, written) in columns.items()
        }
        heading = _section_heading(row)
        if heading is not None:
            area = heading or area
            continue
        if not any(_filled(cells[name][1]) for name in TASK_FIELDS if name in cells):
            continue  # blank line, or a note in a column of the office's own
        if area is not None and not _filled(cells.get("area", ("", None))[1]):
            cells["area"] = (cells.get("area", (FIELD_LABELS["area"], None))[0], area)
        yield Record(row.number, cells)


def _filled(value: object) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _section_heading(row: Row) -> str | None:
    """For a section row, the area it opens ("" for a sub-heading that keeps the area).

    A section row fills one cell ("一、在"稳增长"上…", often merged across the table) or two
    (序号 "一" and the heading beside it); a task fills more.
    """
    filled = [cell for cell in row.cells if _filled(cell)]
    texts = [cell for cell in filled if isinstance(cell, str)]
    if not texts or len(texts) > 2 or len(texts) < len(filled):
        return None
    first = texts[0]
    match = _HEADING.match(first)
    if match:
        return _area_name(match["body"])
    if _NUMERAL.match(first) and len(texts) == 2:
        return _area_name(texts[1])
    if _SUB_HEADING.match(first):
        return ""
    return None


def _area_name(heading: str) -> str:
    """`在"稳增长"上借助改革之势` → 稳增长; a heading without quotes is the area itself."""
    quoted = _QUOTED.search(heading)
    return (quoted["name"] if quoted else heading).strip().rstrip("。；;")


def _title_year(rows: Sequence[Row]) -> int | None:
    for row in rows:
        for cell in row.cells:
            year = year_in_title(cell) if isinstance(cell, str) else None
            if year is not None:
                return year
    return None


def year_in_title(title: str) -> int | None:
    """The year a title speaks of: "2024年全县改革工作要点" → 2024."""
    match = _TITLE_YEAR.search(unicodedata.normalize("NFKC", title))
    return int(match[1]) if match else None
