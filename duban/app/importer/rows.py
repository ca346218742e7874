"""Task records → `AssignTask` commands: every cell converted (codes, units, names, deadlines
such as "2024年6月底前" or an Excel date, milestones), the year a deadline without one means
taken from the file, duplicate codes refused, and every problem collected as a `RowError`
naming the row and the column as written; nothing stops at the first problem.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Sequence
from contextlib import suppress

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from domain.dates import DateOutOfRange, check_date, in_range
from domain.deadlines import (
    DeadlineError,
    normalise_name,
    parse_deadline,
    parse_milestones,
    split_units,
)
from duban.app.commands import AssignTask, Milestone
from duban.app.importer.fields import header_key
from duban.app.importer.records import (
    CellError,
    Found,
    ImportResult,
    Record,
    RowError,
    UncachedFormula,
)
from duban.app.validation_messages import problem_message

__all__ = ["MAX_CELL_CHARS", "tasks_of"]

MAX_CELL_CHARS = 4000  # the longest text field of AssignTask (notes)


def tasks_of(found: Found) -> ImportResult:
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
            result.origins.append(record)
    if not found.records and not result.errors:
        result.errors.append(RowError(0, "", "文件中没有任务行：表头之下至少要有一项任务"))
    result.errors.sort(key=lambda error: error.row)
    return result


def _build_task(record: Record, year: int | None) -> tuple[AssignTask | None, list[RowError]]:
    values: dict[str, object] = {}
    errors: list[RowError] = []
    for name, convert in _CONVERTERS.items():
        try:
            values.update(convert(record.raw(name), year))
        except CellError as exc:
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


def _validation_error(record: Record, error: ErrorDetails) -> RowError:
    name = str(error["loc"][0]) if error["loc"] else ""
    return RowError(record.row, record.column(name), _pydantic_message(error))


def _pydantic_message(error: ErrorDetails) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "string_too_long":
        return f"内容过长，最多 {ctx.get('max_length')} 字"
    if kind == "string_too_short":
        return "不能为空"
    if kind == "date_out_of_range":  # duban.app.commands.Day: the message is already Chinese
        return error["msg"]
    if kind == "string_pattern_mismatch":
        return "编号只能由字母、数字和 - _ . 组成，如 2024-07"
    return problem_message(error, "")  # pydantic's English never reaches the office


def _code_or_none(record: Record) -> str | None:
    with suppress(CellError):
        return str(_code(record.raw("code"), None)["code"])
    return None


def _first_dated_year(records: Sequence[Record]) -> int | None:
    """The year of the first deadline written with one: the default for "6月底前"."""
    for record in records:
        raw = record.raw("deadline")
        if isinstance(raw, dt.date) and in_range(raw):
            return raw.year
        if isinstance(raw, str):
            with suppress(DeadlineError):
                due = parse_deadline(raw).due
                if due is not None:
                    return due.year
    return None


# ---- cell converters: raw cell → AssignTask fields, or CellError ---------------------------

_EXCEL_ERRORS = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"})


def _text(raw: object) -> str:
    """A cell as text, stripped: whole numbers without ".0", dates as 2024-06-30."""
    if raw is None:
        return ""
    if isinstance(raw, UncachedFormula):
        raise CellError(
            f"单元格是公式（{raw.formula[:40]}）但文件里没有保存计算结果："
            "请在 Excel/WPS 中打开并保存后再导入，或把公式改成数值"
        )
    if isinstance(raw, list | dict):
        raise CellError("这里应填一个值，不能是列表或映射")
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, dt.datetime) and raw.time() == dt.time():
        return raw.date().isoformat()
    if isinstance(raw, dt.date):
        return raw.isoformat()
    return _checked_length(str(raw).strip())


def _checked_length(text: str) -> str:
    if len(text) > MAX_CELL_CHARS:
        raise CellError(f"内容过长（{len(text)} 字），单元格最多 {MAX_CELL_CHARS} 字")
    if text in _EXCEL_ERRORS:
        raise CellError(f"单元格是 Excel 错误值 {text}，请先修正公式")
    return text


def _code(raw: object, _year: int | None) -> dict[str, object]:
    if isinstance(raw, bool):
        raise CellError("编号不能是 TRUE/FALSE，请填写如 2024-07 的编号")
    if isinstance(raw, float) and not raw.is_integer():
        raise CellError(
            f"编号 {raw:g} 是小数：编号应是文本，如 2024-07（请把这一列设为“文本”格式后重新填写）"
        )
    if isinstance(raw, dt.date):
        raise CellError(
            f"编号被识别成了日期（{raw:%Y-%m-%d}）：请把这一列设为“文本”格式后重新填写，如 2024-07"
        )
    code = re.sub(r"\s+", "", unicodedata.normalize("NFKC", _text(raw)))
    if not code:
        raise CellError("缺少编号，请填写任务编号，如 2024-07")
    return {"code": code}


def _title(raw: object, _year: int | None) -> dict[str, object]:
    title = _text(raw)
    if not title:
        raise CellError("缺少改革任务内容")
    return {"title": title}


def _lead_unit(raw: object, _year: int | None) -> dict[str, object]:
    units = split_units(_text(raw))
    if not units:
        raise CellError("缺少牵头单位：每项任务须有且只有一个牵头单位")
    if len(units) > 1:
        raise CellError(
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
        due = _in_range(raw.date() if isinstance(raw, dt.datetime) else raw)
        return {"deadline": due, "deadline_text": due.isoformat()}
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        raise CellError(
            f"完成时限是数字 {raw:g}：请把单元格设为日期格式，"
            "或写成 2024-06-30、2024年6月底、持续推进"
        )
    try:
        parsed = parse_deadline(_text(raw), default_year=year)
    except DeadlineError as exc:
        raise CellError(str(exc)) from None
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
        raise CellError("阶段节点要写明内容，如“2024年3月底前完成方案制定”")
    try:
        pairs = parse_milestones(_text(item), year)
    except DeadlineError as exc:
        raise CellError(str(exc)) from None
    return [_milestone(name, due) for name, due in pairs]


def _milestone_mapping(item: dict[object, object], year: int | None) -> Milestone:
    """A YAML milestone written as {name: 完成方案制定, due: 2024-03-31}."""
    keys = {header_key(key): value for key, value in item.items()}
    name = _text(next((keys[k] for k in ("name", "名称", "内容", "节点") if k in keys), None))
    due = next((keys[k] for k in ("due", "时限", "时间", "日期") if k in keys), None)
    if not isinstance(due, dt.date):
        try:
            due = parse_deadline(_text(due), default_year=year).due
        except DeadlineError as exc:
            raise CellError(str(exc)) from None
    if due is None:
        raise CellError(f"阶段节点「{name}」需要具体日期")
    return _milestone(name, _in_range(due.date() if isinstance(due, dt.datetime) else due))


def _in_range(day: dt.date) -> dt.date:
    """A date the file holds as a date (YAML, an Excel date cell or serial), in the range."""
    try:
        return check_date(day)
    except DateOutOfRange as exc:
        raise CellError(exc.message) from None


def _milestone(name: str, due: dt.date) -> Milestone:
    try:
        return Milestone(name=name, due=due)
    except ValidationError as exc:
        raise CellError(f"节点「{name[:30]}」{_pydantic_message(exc.errors()[0])}") from None


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
