"""The file readers: CSV (UTF-8, UTF-16 or GBK, comma or tab), XLSX (bounded and streaming, in
`xlsx`) and YAML (a task list, or a mapping with `tasks:`, each task's line known). Each turns
bytes into `Found` task records; a file that cannot be read at all raises `FileError`.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable
from contextlib import suppress
from typing import Literal

import yaml

from duban.app.importer.fields import FIELD_LABELS, FIELD_OF_HEADER, IGNORED_HEADERS, header_key
from duban.app.importer.records import FileError, Found, Record, Row, RowError
from duban.app.importer.table import HEADER_SEARCH_ROWS, table_of, year_in_title
from duban.app.importer.xlsx import read_xlsx

__all__ = ["READERS", "FileKind"]

FileKind = Literal["csv", "xlsx", "yaml"]


# ---- CSV -----------------------------------------------------------------------------------


def _read_csv(data: bytes) -> Found:
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    rows: list[Row] = []
    errors: list[RowError] = []
    number = 0
    while True:
        number += 1  # the row number a spreadsheet shows when it opens the file
        try:
            rows.append(Row(number, tuple(next(reader))))
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(RowError(number, "", _csv_problem(exc)))
    found = table_of(rows)
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
    raise FileError(
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
    return "这一行不是合法的 CSV（引号、分隔符有误），请检查引号是否成对"


# ---- YAML ----------------------------------------------------------------------------------

_TASKS_KEYS = ("tasks", "任务", "任务清单")


def _read_yaml(data: bytes) -> Found:
    text = _decode(data)
    try:
        document, node = _load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        column = f"第{mark.column + 1}列附近" if mark is not None else ""
        message = f"YAML 格式错误：{column}无法解析（检查缩进、冒号和引号）"
        return Found(errors=[RowError(line, "", message)])
    year: int | None = None
    if isinstance(document, dict) and isinstance(node, yaml.MappingNode):
        year = _yaml_year(document)
        document, node = _yaml_tasks(document, node)
    if not isinstance(document, list) or not isinstance(node, yaml.SequenceNode):
        message = "YAML 文件应是任务列表，或含 “tasks:” 任务列表的映射"
        return Found(errors=[RowError(0, "", message)])
    found = Found(year=year)
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
    return year_in_title(title) if isinstance(title, str) else None


def _yaml_tasks(
    document: dict[object, object], node: yaml.MappingNode
) -> tuple[object, yaml.Node | None]:
    for key_node, value_node in node.value:
        if key_node.value in _TASKS_KEYS:
            return document.get(key_node.value), value_node
    return None, None


def _yaml_record(item: object, line: int, found: Found) -> None:
    if not isinstance(item, dict):
        message = "这一项不是任务：每个任务应写成“编号: …  改革任务: …”这样的键值对"
        found.errors.append(RowError(line, "", message))
        return
    cells: dict[str, tuple[str, object]] = {}
    for key, value in item.items():
        written = str(key)
        name = FIELD_OF_HEADER.get(header_key(written))
        if name is None and header_key(written) not in IGNORED_HEADERS:
            known = "、".join(f"{key}/{label}" for key, label in FIELD_LABELS.items())
            found.errors.append(RowError(line, written, f"未知字段「{written}」（可用：{known}）"))
        elif name in cells:
            message = f"字段「{written}」与「{cells[name][0]}」是同一项，请只写一个"
            found.errors.append(RowError(line, written, message))
        elif name is not None:
            cells[name] = (written, value)
    english = all(str(key).isascii() for key in item)
    found.records.append(Record(line, cells, english=english))


READERS: dict[FileKind, Callable[[bytes], Found]] = {
    "csv": _read_csv,
    "xlsx": read_xlsx,
    "yaml": _read_yaml,
}
