"""What the readers find and what an import returns: rows of cells, task records naming their
columns as written, and the problems (`RowError`) found on the way."""

from __future__ import annotations

from dataclasses import dataclass, field

from duban.app.commands import AssignTask
from duban.app.importer.fields import FIELD_LABELS

__all__ = [
    "CellError",
    "FileError",
    "Found",
    "ImportResult",
    "Record",
    "Row",
    "RowError",
    "UncachedFormula",
]


@dataclass(frozen=True)
class RowError:
    """One problem: `row` as the file shows it (0 for the file as a whole), `column` as headed."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"第{self.row}行" if self.row else "文件"
        column = f"「{self.column}」" if self.column else ""
        return f"{where}{column}：{self.message}"


@dataclass
class ImportResult:
    """The tasks that could be read and every problem found; `ok` only when there are none.
    `origins[i]` is the record `rows[i]` was read from (its row and columns as written)."""

    rows: list[AssignTask] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    origins: list[Record] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class FileError(Exception):
    """The file as a whole cannot be read: wrong type, broken, undecodable."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CellError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class UncachedFormula:
    """A formula cell saved without its computed value (written by a program, never opened)."""

    formula: str


@dataclass(frozen=True)
class Row:
    number: int
    cells: tuple[object, ...]


@dataclass
class Record:
    """One task as found in the file: field → (column as written, raw cell value)."""

    row: int
    cells: dict[str, tuple[str, object]]
    english: bool = False  # a YAML task keyed in English names its missing fields in English

    def column(self, name: str) -> str:
        name = "deadline" if name == "deadline_text" else name
        if name in self.cells:
            return self.cells[name][0]
        return name if self.english else FIELD_LABELS.get(name, name)

    def raw(self, name: str) -> object:
        return self.cells[name][1] if name in self.cells else None


@dataclass
class Found:
    """What a reader found: task records, the year the file speaks of, and reading problems."""

    records: list[Record] = field(default_factory=list)
    year: int | None = None
    errors: list[RowError] = field(default_factory=list)
