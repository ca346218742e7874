"""改革要点 import: the office's task table (CSV, XLSX or YAML) read into `AssignTask` commands.

Tables are read as offices make them: a title row above the header, a 序号 column, section rows
(一、在"稳增长"上…) that give the following tasks their area, merged cells, Excel dates, stray
and full-width spaces, CSV saved by Excel in GBK. Every problem becomes a `RowError` naming the
row as the file shows it and the column header as written; nothing stops at the first problem.
Importing all rows or none is the caller's decision.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import unicodedata
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import openpyxl
import yaml
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from domain.deadlines import (
    DeadlineError,
    normalise_name,
    parse_deadline,
    parse_milestones,
    split_units,
)
from duban.app.commands import AssignTask, Milestone

__all__ = [
    "FIELD_LABELS",
    "MAX_CELL_CHARS",
    "MAX_FILE_BYTES",
    "FileKind",
    "ImportResult",
    "RowError",
    "parse_task_list",
    "read_task_list",
]

FileKind = Literal["csv", "xlsx", "yaml"]

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_CELL_CHARS = 4000  # the longest text field of AssignTask (notes)
HEADER_SEARCH_ROWS = 10

FIELD_LABELS = {
    "code": "编号",
    "title": "改革任务",
    "lead_unit": "牵头单位",
    "co_units": "配合单位",
    "official": "领衔领导",
    "deadline": "完成时限",
    "milestones": "阶段节点",
    "group": "专责小组",
    "area": "领域",
    "notes": "备注",
}
_ALIASES = {
    "code": ("编号", "任务编号", "code"),
    "title": ("改革任务", "任务", "任务名称", "改革事项", "重点改革任务", "title", "task"),
    "lead_unit": ("牵头单位", "牵头部门", "lead_unit", "lead"),
    "co_units": ("配合单位", "配合部门", "协同单位", "co_units"),
    "official": ("领衔领导", "牵头领导", "责任领导", "official"),
    "deadline": ("完成时限", "完成时间", "时限", "deadline"),
    "milestones": ("阶段节点", "节点", "时间节点", "milestones"),
    "group": ("专责小组", "所属专责小组", "group"),
    "area": ("领域", "改革领域", "所属领域", "area"),
    "notes": ("备注", "notes", "note", "remarks"),
}
_REQUIRED = ("code", "title", "lead_unit", "deadline")
# Columns that decide whether a row holds a task at all (专责小组 or 备注 alone do not).
_TASK_FIELDS = ("code", "title", "lead_unit", "co_units", "official", "deadline", "milestones")
_KINDS: dict[str, FileKind] = {
    ".csv": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".yaml": "yaml",
    ".yml": "yaml",
}


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
    """The tasks that could be read and every problem found; `ok` only when there are none."""

    rows: list[AssignTask] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class _FileError(Exception):
    """The file as a whole cannot be read: wrong type, broken, undecodable."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _CellError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class _UncachedFormula:
    """A formula cell saved without its computed value (written by a program, never opened)."""

    formula: str


@dataclass(frozen=True)
class _Row:
    number: int
    cells: tuple[object, ...]


@dataclass
class _Record:
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
class _Found:
    """What a reader found: task records, the year the file speaks of, and reading problems."""

    records: list[_Record] = field(default_factory=list)
    year: int | None = None
    errors: list[RowError] = field(default_factory=list)


# ---- entry points --------------------------------------------------------------------------


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
        found = _READERS[kind](data)
    except _FileError as exc:
        return _failed(exc.message)
    return _tasks(found)


def _failed(message: str) -> ImportResult:
    return ImportResult(errors=[RowError(0, "", message)])


def _too_large(size: int) -> str:
    limit = MAX_FILE_BYTES // 1024 // 1024
    return f"文件过大（{size / 1024 / 1024:.1f} MB），任务清单文件不能超过 {limit} MB"


# ---- records to tasks ----------------------------------------------------------------------


def _tasks(found: _Found) -> ImportResult:
    year = found.year or _first_dated_year(found.records)
    result = ImportResult(errors=list(found.errors))
    first_row_of: dict[str, int] = {}
    for record in found.records:
        task, problems = _build_task(record, year)
        code = _code_or_none(record)
        if code is not None and code in first_row_of:
            message = f"编号「{code}」与第{first_row_of[code]}行重复"
            problems.insert(0, RowError(record.row, record.column("code"), message))
            task = None
        elif code is not None:
            first_row_of[code] = record.row
        result.errors += problems
        if task is not None:
            result.rows.append(task)
    if not found.records and not result.errors:
        result.errors.append(RowError(0, "", "文件中没有任务行：表头之下至少要有一项任务"))
    result.errors.sort(key=lambda error: error.row)
    return result


def _build_task(record: _Record, year: int | None) -> tuple[AssignTask | None, list[RowError]]:
    values: dict[str, object] = {}
    errors: list[RowError] = []
    for name, convert in _CONVERTERS.items():
        try:
            values.update(convert(record.raw(name), year))
        except _CellError as exc:
            errors.append(RowError(record.row, record.column(name), exc.message))
    lead = values.get("lead_unit")
    co_units = values.get("co_units", ())
    if lead is not None and isinstance(co_units, tuple) and lead in co_units:
        message = f"牵头单位「{lead}」不应同时列为配合单位"
        errors.append(RowError(record.row, record.column("co_units"), message))
    if errors:
        return None, errors
    try:
        return AssignTask.model_validate(values), []
    except ValidationError as exc:
        return None, [_validation_error(record, error) for error in exc.errors()]


def _validation_error(record: _Record, error: ErrorDetails) -> RowError:
    name = str(error["loc"][0]) if error["loc"] else ""
    return RowError(record.row, record.column(name), _pydantic_message(error))


def _pydantic_message(error: ErrorDetails) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "string_too_long":
        return f"内容过长，最多 {ctx.get('max_length')} 字"
    if kind == "string_too_short":
        return "不能为空"
    if kind == "string_pattern_mismatch":
        return "编号只能由字母、数字和 - _ . 组成，如 2024-07"
    return f"内容不符合要求（{error['msg']}）"


def _code_or_none(record: _Record) -> str | None:
    with suppress(_CellError):
        return str(_code(record.raw("code"), None)["code"])
    return None


def _first_dated_year(records: Sequence[_Record]) -> int | None:
    """The year of the first deadline written with one: the default for "6月底前"."""
    for record in records:
        raw = record.raw("deadline")
        if isinstance(raw, dt.date):
            return raw.year
        if isinstance(raw, str):
            with suppress(DeadlineError):
                due = parse_deadline(raw).due
                if due is not None:
                    return due.year
    return None


# ---- cell converters: raw cell → AssignTask fields, or _CellError --------------------------

_EXCEL_ERRORS = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"})


def _text(raw: object) -> str:
    """A cell as text, stripped: whole numbers without ".0", dates as 2024-06-30."""
    if raw is None:
        return ""
    if isinstance(raw, _UncachedFormula):
        raise _CellError(
            f"单元格是公式（{raw.formula[:40]}）但文件里没有保存计算结果："
            "请在 Excel/WPS 中打开并保存后再导入，或把公式改成数值"
        )
    if isinstance(raw, list | dict):
        raise _CellError("这里应填一个值，不能是列表或映射")
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, dt.datetime) and raw.time() == dt.time():
        return raw.date().isoformat()
    if isinstance(raw, dt.date):
        return raw.isoformat()
    return _checked_length(str(raw).strip())


def _checked_length(text: str) -> str:
    if len(text) > MAX_CELL_CHARS:
        raise _CellError(f"内容过长（{len(text)} 字），单元格最多 {MAX_CELL_CHARS} 字")
    if text in _EXCEL_ERRORS:
        raise _CellError(f"单元格是 Excel 错误值 {text}，请先修正公式")
    return text


def _code(raw: object, _year: int | None) -> dict[str, object]:
    if isinstance(raw, bool):
        raise _CellError("编号不能是 TRUE/FALSE，请填写如 2024-07 的编号")
    if isinstance(raw, float) and not raw.is_integer():
        raise _CellError(
            f"编号 {raw:g} 是小数：编号应是文本，如 2024-07（请把这一列设为“文本”格式后重新填写）"
        )
    if isinstance(raw, dt.date):
        raise _CellError(
            f"编号被识别成了日期（{raw:%Y-%m-%d}）：请把这一列设为“文本”格式后重新填写，如 2024-07"
        )
    code = re.sub(r"\s+", "", unicodedata.normalize("NFKC", _text(raw)))
    if not code:
        raise _CellError("缺少编号，请填写任务编号，如 2024-07")
    return {"code": code}


def _title(raw: object, _year: int | None) -> dict[str, object]:
    title = _text(raw)
    if not title:
        raise _CellError("缺少改革任务内容")
    return {"title": title}


def _lead_unit(raw: object, _year: int | None) -> dict[str, object]:
    units = split_units(_text(raw))
    if not units:
        raise _CellError("缺少牵头单位：每项任务须有且只有一个牵头单位")
    if len(units) > 1:
        raise _CellError(
            f"牵头单位只能有一个（这里有 {len(units)} 个：{'、'.join(units)}），其余请填到配合单位"
        )
    return {"lead_unit": normalise_name(units[0])}


def _co_units(raw: object, _year: int | None) -> dict[str, object]:
    items = raw if isinstance(raw, list) else [raw]
    text = "、".join(_text(item) for item in items)
    return {"co_units": tuple(normalise_name(unit) for unit in split_units(text))}


def _optional_name(name: str) -> Callable[[object, int | None], dict[str, object]]:
    def convert(raw: object, _year: int | None) -> dict[str, object]:
        value = normalise_name(_text(raw))
        return {name: value} if value else {}

    return convert


def _notes(raw: object, _year: int | None) -> dict[str, object]:
    return {"notes": _text(raw)}


def _deadline(raw: object, year: int | None) -> dict[str, object]:
    if isinstance(raw, dt.date):
        due = raw.date() if isinstance(raw, dt.datetime) else raw
        return {"deadline": due, "deadline_text": due.isoformat()}
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        raise _CellError(
            f"完成时限是数字 {raw:g}：请把单元格设为日期格式，"
            "或写成 2024-06-30、2024年6月底、持续推进"
        )
    try:
        parsed = parse_deadline(_text(raw), default_year=year)
    except DeadlineError as exc:
        raise _CellError(str(exc)) from None
    return {"deadline": parsed.due, "deadline_text": parsed.text}


def _milestones(raw: object, year: int | None) -> dict[str, object]:
    items = raw if isinstance(raw, list) else [raw]
    milestones: list[Milestone] = []
    for item in items:
        milestones += _milestone_item(item, year)
    return {"milestones": tuple(milestones)}


def _milestone_item(item: object, year: int | None) -> list[Milestone]:
    if isinstance(item, dict):
        return [_milestone_mapping(item, year)]
    if isinstance(item, dt.date):
        raise _CellError("阶段节点要写明内容，如“2024年3月底前完成方案制定”")
    try:
        pairs = parse_milestones(_text(item), year)
    except DeadlineError as exc:
        raise _CellError(str(exc)) from None
    return [_milestone(name, due) for name, due in pairs]


def _milestone_mapping(item: dict[object, object], year: int | None) -> Milestone:
    """A YAML milestone written as {name: 完成方案制定, due: 2024-03-31}."""
    keys = {_header_key(key): value for key, value in item.items()}
    name = _text(next((keys[k] for k in ("name", "名称", "内容", "节点") if k in keys), None))
    due = next((keys[k] for k in ("due", "时限", "时间", "日期") if k in keys), None)
    if not isinstance(due, dt.date):
        try:
            due = parse_deadline(_text(due), default_year=year).due
        except DeadlineError as exc:
            raise _CellError(str(exc)) from None
    if due is None:
        raise _CellError(f"阶段节点「{name}」需要具体日期")
    return _milestone(name, due.date() if isinstance(due, dt.datetime) else due)


def _milestone(name: str, due: dt.date) -> Milestone:
    try:
        return Milestone(name=name, due=due)
    except ValidationError as exc:
        raise _CellError(f"节点「{name[:30]}」{_pydantic_message(exc.errors()[0])}") from None


_Converter = Callable[[object, int | None], dict[str, object]]
_CONVERTERS: dict[str, _Converter] = {
    "code": _code,
    "title": _title,
    "lead_unit": _lead_unit,
    "co_units": _co_units,
    "official": _optional_name("official"),
    "deadline": _deadline,
    "milestones": _milestones,
    "group": _optional_name("group"),
    "area": _optional_name("area"),
    "notes": _notes,
}


# ---- headers -------------------------------------------------------------------------------


def _header_key(value: object) -> str:
    """A header spelled any of the usual ways: "牵头单位（部门）", " Lead unit ", "*编号"."""
    text = unicodedata.normalize("NFKC", str(value)).lower()
    return re.sub(r"\(.*?\)|[\s_\-*:\ufeff]", "", text)


_FIELD_OF_HEADER = {_header_key(a): name for name, aliases in _ALIASES.items() for a in aliases}
_IGNORED_HEADERS = frozenset(_header_key(h) for h in ("序号", "no", "no.", "index", "#"))


def _header_fields(row: _Row) -> set[str]:
    keys = (_header_key(cell) for cell in row.cells if isinstance(cell, str))
    return {_FIELD_OF_HEADER[key] for key in keys if key in _FIELD_OF_HEADER}


def _find_header(rows: Sequence[_Row]) -> int | None:
    """The first of the top rows naming at least three known columns; above it: title rows."""
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if len(_header_fields(row)) >= 3:
            return index
    return None


def _columns(header: _Row) -> tuple[dict[int, tuple[str, str]], list[RowError]]:
    """Column index → (field, header as written), and problems with the header itself."""
    columns: dict[int, tuple[str, str]] = {}
    written_for: dict[str, str] = {}
    errors: list[RowError] = []
    for index, cell in enumerate(header.cells):
        written = str(cell).strip() if cell is not None else ""
        name = _FIELD_OF_HEADER.get(_header_key(written))
        if name is None:
            continue  # 序号 and columns of the office's own
        if name in written_for:
            message = f"列「{written}」与列「{written_for[name]}」是同一项，请删除其中一列"
            errors.append(RowError(header.number, written, message))
            continue
        written_for[name] = written
        columns[index] = (name, written)
    for name in _REQUIRED:
        if name not in written_for:
            label = FIELD_LABELS[name]
            errors.append(RowError(header.number, label, f"表头缺少“{label}”列"))
    return columns, errors


# ---- tables (CSV and XLSX rows) ------------------------------------------------------------

_HEADING = re.compile(r"^\s*[一二三四五六七八九十]+\s*[、.．，,]\s*(?P<body>\S.*)$", re.DOTALL)
_NUMERAL = re.compile(r"^\s*[一二三四五六七八九十]+\s*[、.．]?\s*$")
_SUB_HEADING = re.compile(r"^\s*[（(][一二三四五六七八九十]+[)）]")
_QUOTED = re.compile(r"[“\"「『‘'](?P<name>[^“”\"「」『』‘’']{1,30})[”\"」』’']")
_TITLE_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")


def _table(rows: Sequence[_Row]) -> _Found:
    header_at = _find_header(rows)
    if header_at is None:
        message = "未找到表头：前 10 行中没有含“编号”“改革任务”“牵头单位”“完成时限”等列名的行"
        return _Found(errors=[RowError(0, "", message)])
    columns, errors = _columns(rows[header_at])
    if errors:
        return _Found(errors=errors)
    records = list(_table_records(rows[header_at + 1 :], columns))
    return _Found(records=records, year=_title_year(rows[:header_at]))


def _table_records(rows: Sequence[_Row], columns: dict[int, tuple[str, str]]) -> Iterator[_Record]:
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
        if not any(_filled(cells[name][1]) for name in _TASK_FIELDS if name in cells):
            continue  # blank line, or a note in a column of the office's own
        if area is not None and not _filled(cells.get("area", ("", None))[1]):
            cells["area"] = (cells.get("area", (FIELD_LABELS["area"], None))[0], area)
        yield _Record(row.number, cells)


def _filled(value: object) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _section_heading(row: _Row) -> str | None:
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


def _title_year(rows: Sequence[_Row]) -> int | None:
    for row in rows:
        for cell in row.cells:
            match = (
                _TITLE_YEAR.search(unicodedata.normalize("NFKC", cell))
                if isinstance(cell, str)
                else None
            )
            if match:
                return int(match[1])
    return None


# ---- CSV -----------------------------------------------------------------------------------


def _read_csv(data: bytes) -> _Found:
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    rows: list[_Row] = []
    errors: list[RowError] = []
    number = 0
    while True:
        number += 1  # the row number a spreadsheet shows when it opens the file
        try:
            rows.append(_Row(number, tuple(next(reader))))
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(RowError(number, "", _csv_problem(exc)))
    found = _table(rows)
    found.errors = errors + found.errors
    return found


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM (Excel "Unicode text"), else GB18030/GBK."""
    if data.startswith(codecs.BOM_UTF8):
        encodings: tuple[str, ...] = ("utf-8-sig",)
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ("utf-16",)
    else:
        encodings = ("utf-8", "gb18030")
    for encoding in encodings:
        with suppress(UnicodeDecodeError):
            return data.decode(encoding)
    raise _FileError(
        "无法识别文件编码（既不是 UTF-8，也不是 GBK/GB18030）："
        "请在 Excel/WPS 中“另存为 → CSV UTF-8（逗号分隔）”后重试"
    )


def _delimiter(text: str) -> str:
    head = "\n".join(text.splitlines()[:HEADER_SEARCH_ROWS])
    return "\t" if head.count("\t") > head.count(",") else ","


def _csv_problem(exc: csv.Error) -> str:
    if "field larger" in str(exc):
        return f"这一行有单元格内容过长（超过 {csv.field_size_limit()} 字），无法读取"
    if "NUL" in str(exc):
        return "这一行含有空字符（NUL），文件可能不是文本 CSV"
    return f"这一行不是合法的 CSV（{exc}），请检查引号是否成对"


# ---- XLSX ----------------------------------------------------------------------------------


def _read_xlsx(data: bytes) -> _Found:
    values = _workbook(data, data_only=True)
    formulas = _workbook(data, data_only=False)
    sheets = sorted(values.worksheets, key=lambda sheet: sheet is not values.active)
    tables = (
        _sheet_rows(sheet, formulas[sheet.title])
        for sheet in sheets
        if isinstance(sheet, Worksheet) and isinstance(formulas[sheet.title], Worksheet)
    )
    rows = next((t for t in tables if _find_header(t) is not None), [])
    return _table(rows)


def _workbook(data: bytes, *, data_only: bool) -> Workbook:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # extensions of WPS/Excel openpyxl does not know
            return openpyxl.load_workbook(io.BytesIO(data), data_only=data_only)
    except Exception as exc:  # a broken file fails deep in zipfile or the XML parser, any way
        raise _FileError(
            f"无法读取 Excel 文件（{type(exc).__name__}）：文件可能已损坏或不是 .xlsx 格式，"
            "请在 Excel/WPS 中打开并另存为 .xlsx 后重试"
        ) from exc


def _sheet_rows(values: Worksheet, formulas: object) -> list[_Row]:
    grid: list[list[object]] = [
        [_plain(value) for value in row]
        for row in values.iter_rows(
            min_row=1,
            max_row=values.max_row,
            min_col=1,
            max_col=values.max_column,
            values_only=True,
        )
    ]
    _spread_merged_cells(values, grid)
    if isinstance(formulas, Worksheet):
        _mark_uncached_formulas(formulas, grid)
    return [_Row(index + 1, tuple(cells)) for index, cells in enumerate(grid)]


def _plain(value: object) -> object:
    if value is None or isinstance(value, str | int | float | dt.date):
        return value
    return str(value)  # times, durations: only ever text to us


def _spread_merged_cells(sheet: Worksheet, grid: list[list[object]]) -> None:
    """A cell merged down several rows (牵头单位, 专责小组) belongs to each of them.

    Merges within one row (the title, section rows) keep their value in the first cell only.
    """
    for merged in sheet.merged_cells.ranges:
        if merged.min_row == merged.max_row:
            continue
        value = grid[merged.min_row - 1][merged.min_col - 1]
        for row in range(merged.min_row, merged.max_row + 1):
            for column in range(merged.min_col, merged.max_col + 1):
                grid[row - 1][column - 1] = value


def _mark_uncached_formulas(sheet: Worksheet, grid: list[list[object]]) -> None:
    for row in sheet.iter_rows():
        for cell in row:
            if cell.data_type != "f" or cell.row is None or cell.column is None:
                continue
            r, c = cell.row - 1, cell.column - 1
            if r < len(grid) and c < len(grid[r]) and grid[r][c] is None:
                grid[r][c] = _UncachedFormula(str(cell.value))


# ---- YAML ----------------------------------------------------------------------------------

_TASKS_KEYS = ("tasks", "任务", "任务清单")


def _read_yaml(data: bytes) -> _Found:
    text = _decode(data)
    try:
        document, node = _load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        return _Found(errors=[RowError(line, "", f"YAML 格式错误：{exc}")])
    year: int | None = None
    if isinstance(document, dict) and isinstance(node, yaml.MappingNode):
        year = _yaml_year(document)
        document, node = _yaml_tasks(document, node)
    if not isinstance(document, list) or not isinstance(node, yaml.SequenceNode):
        message = "YAML 文件应是任务列表，或含 “tasks:” 任务列表的映射"
        return _Found(errors=[RowError(0, "", message)])
    found = _Found(year=year)
    for item, item_node in zip(document, node.value, strict=True):
        _yaml_record(item, item_node.start_mark.line + 1, found)
    return found


class _YamlLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The safe loader (libyaml when present: fast on huge input) with dates left as text, so
    that an impossible date such as 2024-02-30 is named by row and column like any other."""


_YamlLoader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_yaml_str)


def _load_yaml(text: str) -> tuple[object, yaml.Node | None]:
    """The document and its node tree: the nodes know each task's line in the file."""
    loader = _YamlLoader(text)
    try:
        node = loader.get_single_node()
        return (loader.construct_document(node) if node is not None else None), node
    finally:
        loader.dispose()


def _yaml_year(document: dict[object, object]) -> int | None:
    year = document.get("year", document.get("年度"))
    if isinstance(year, int) and not isinstance(year, bool):
        return year
    title = document.get("title", document.get("标题"))
    match = (
        _TITLE_YEAR.search(unicodedata.normalize("NFKC", title)) if isinstance(title, str) else None
    )
    return int(match[1]) if match else None


def _yaml_tasks(
    document: dict[object, object], node: yaml.MappingNode
) -> tuple[object, yaml.Node | None]:
    for key_node, value_node in node.value:
        if key_node.value in _TASKS_KEYS:
            return document.get(key_node.value), value_node
    return None, None


def _yaml_record(item: object, line: int, found: _Found) -> None:
    if not isinstance(item, dict):
        message = "这一项不是任务：每个任务应写成“编号: …  改革任务: …”这样的键值对"
        found.errors.append(RowError(line, "", message))
        return
    cells: dict[str, tuple[str, object]] = {}
    for key, value in item.items():
        written = str(key)
        name = _FIELD_OF_HEADER.get(_header_key(written))
        if name is None and _header_key(written) not in _IGNORED_HEADERS:
            known = "、".join(f"{key}/{label}" for key, label in FIELD_LABELS.items())
            found.errors.append(RowError(line, written, f"未知字段「{written}」（可用：{known}）"))
        elif name in cells:
            message = f"字段「{written}」与「{cells[name][0]}」是同一项，请只写一个"
            found.errors.append(RowError(line, written, message))
        elif name is not None:
            cells[name] = (written, value)
    english = all(str(key).isascii() for key in item)
    found.records.append(_Record(line, cells, english=english))


_READERS: dict[FileKind, Callable[[bytes], _Found]] = {
    "csv": _read_csv,
    "xlsx": _read_xlsx,
    "yaml": _read_yaml,
}
