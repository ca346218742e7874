"""改革要点 import: the office's task table (CSV, XLSX or YAML) read into `AssignTask` commands.

Tables are read as offices make them: a title row above the header, a 序号 column, section rows
(一、在"稳增长"上…) that give the following tasks their area, merged cells, Excel dates, stray
and full-width spaces, CSV saved by Excel in GBK. Every problem becomes a `RowError` naming the
row as the file shows it and the column header as written; nothing stops at the first problem.
Importing all rows or none is the caller's decision.

Part of the application layer: `readers` (CSV, XLSX, YAML files → task records; XLSX bounded
and streaming in `xlsx`), `table` (the table's shape: title rows, header, section rows),
`fields` (the columns and their spellings), `rows` (records → `AssignTask`, deadlines, errors),
`records` (what they pass each other) and `units` (the lead and co-units checked against the
config's units, `[import] allow_new_units`).
Imports `domain`, `duban.app.commands`, `duban.app.validation_messages` (pydantic's errors in
Chinese) and (for `units`) the config only.
"""

from __future__ import annotations

from pathlib import Path

from duban.app.importer.fields import FIELD_LABELS
from duban.app.importer.readers import READERS, FileKind
from duban.app.importer.records import FileError, ImportResult, RowError
from duban.app.importer.rows import MAX_CELL_CHARS, tasks_of
from duban.app.importer.units import (
    checked_units,
    unchecked_units_warning,
    unit_message,
    unknown_units_in,
)

__all__ = [
    "FIELD_LABELS",
    "MAX_CELL_CHARS",
    "MAX_FILE_BYTES",
    "FileKind",
    "ImportResult",
    "RowError",
    "checked_units",
    "parse_task_list",
    "read_task_list",
    "unchecked_units_warning",
    "unit_message",
    "unknown_units_in",
]

MAX_FILE_BYTES = 20 * 1024 * 1024

_KINDS: dict[str, FileKind] = {
    ".csv": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".yaml": "yaml",
    ".yml": "yaml",
}


def read_task_list(path: Path) -> ImportResult:
    """Read a task list file (.csv, .xlsx, .yaml/.yml) into `AssignTask` rows and errors."""
    kind = _KINDS.get(path.suffix.lower())
    if kind is None:
        hint = "（.xls 请先在 Excel/WPS 中另存为 .xlsx）" if path.suffix.lower() == ".xls" else ""
        return _failed(f"不支持的文件类型「{path.suffix}」：请使用 .csv、.xlsx 或 .yaml{hint}")
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return _failed(_too_large(path.stat().st_size))
        data = path.read_bytes()
    except OSError as exc:
        return _failed(f"无法读取文件 {path}：{exc.strerror or exc}")
    return parse_task_list(data, kind)


def parse_task_list(data: bytes, kind: FileKind) -> ImportResult:
    """Read task list content already in memory (an upload), `kind` being its format."""
    if len(data) > MAX_FILE_BYTES:
        return _failed(_too_large(len(data)))
    try:
        found = READERS[kind](data)
    except FileError as exc:
        return _failed(exc.message)
    return tasks_of(found)


def _failed(message: str) -> ImportResult:
    return ImportResult(errors=[RowError(0, "", message)])


def _too_large(size: int) -> str:
    limit = MAX_FILE_BYTES // 1024 // 1024
    return f"文件过大（{size / 1024 / 1024:.1f} MB），任务清单文件不能超过 {limit} MB"
