"""pydantic's validation errors in Chinese, per error type, with the field's Chinese name.

``translate(errors, names)`` turns the ``ErrorDetails`` of a ``ValidationError`` (or the
dicts of FastAPI's ``RequestValidationError``) into problems a person can act on:
「进度不能大于100」「缺少必填项：完成时限」「完成时限不是有效日期（应为 2026-12-31 格式）」.
The field's label comes from ``names`` by its ``loc`` (the most specific dotted key first:
``milestones.due`` before ``due``; list positions become 「第2行」「第1项」). Messages our own
validators raise (already Chinese) keep their text without pydantic's "Value error, " prefix;
an error type this module does not know gets a generic Chinese sentence, never pydantic's
English. Identifiers stay in each problem's ``field``/``loc``/``type``, for programs.

It lives in `duban.settings` so that the config (which may not import the application) uses
it too; the application re-exports it (`duban.app.validation_messages`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any, Final, get_args

from pydantic_core.core_schema import ErrorType

from domain.vocabulary import (
    AUDIENCE_LABELS,
    LIGHT_LABELS,
    PLATFORM_LABELS,
    RECOGNITION_LABELS,
    ROLE_LABELS,
)

__all__ = [
    "ASCII_WORD",
    "GENERIC",
    "VALUE_LABELS",
    "has_chinese",
    "label_of",
    "problem_message",
    "translate",
]

ASCII_WORD: Final = re.compile(r"[A-Za-z]{3,}")
"""An English word (or identifier) of three letters or more: none in what we translate."""
_CJK: Final = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_IDENTIFIER: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_WHERE: Final = frozenset({"body", "query", "path", "header", "cookie"})
_ROW_CONTAINERS: Final = frozenset({"rows"})
_LEADING_ROW: Final = re.compile(r"^(第\d+行)[：:]")

GENERIC: Final = "内容不符合要求"
_OURS: Final = frozenset({"value_error", "assertion_error"})

VALUE_LABELS: Mapping[str, str] = MappingProxyType(
    {
        **LIGHT_LABELS,
        **ROLE_LABELS,
        **AUDIENCE_LABELS,
        **RECOGNITION_LABELS,
        **PLATFORM_LABELS,
        "pilot": "改革试点",
        "exemplar": "改革典型",
        "opinion": "提出审核意见",
        "approve": "通过初审",
        "return": "退回",
        "create": "新增",
        "revise": "修改",
        "unchanged": "无变化",
    }
)
"""The Chinese label of each literal value an input may take (for 「应为……之一」)."""


def has_chinese(text: str) -> bool:
    return bool(_CJK.search(text))


def label_of(loc: Iterable[str | int], names: Mapping[str, str]) -> str:
    """The field's Chinese label by its loc: 「完成时限」, 「第2行完成时限」, 「第1项佐证材料」
    ("" when `names` has none: the caller names the place another way, e.g. a config key)."""
    parts = list(loc)
    if parts and parts[0] in _WHERE:
        parts = parts[1:]
    keys = [p for p in parts if isinstance(p, str) and _IDENTIFIER.match(p)]
    base = next((names[k] for k in _suffixes(keys) if k in names), "")
    positions: list[str] = []
    for index, part in enumerate(parts):
        if isinstance(part, int) and not isinstance(part, bool):
            container = parts[index - 1] if index else ""
            unit = "行" if container in _ROW_CONTAINERS else "项"
            positions.append(f"第{part + 1}{unit}")
    return "".join(positions) + base if base else ""


def _suffixes(keys: list[str]) -> list[str]:
    """`a.b.c`, `b.c`, `c`: the most specific key first."""
    return [".".join(keys[i:]) for i in range(len(keys))]


def translate(
    errors: Iterable[Mapping[str, Any]], names: Mapping[str, str], *, codes: bool = False
) -> list[dict[str, Any]]:
    """Each error as {loc, field, label, message, type}: `message` is the Chinese sentence
    (with the field's label), `field` the dotted loc (an identifier, for programs).

    `codes`: list allowed values with their codes beside the labels (「wecom（企业微信）」), for
    readers who must type the code (the admin's config); off for the API's callers.
    """
    problems: list[dict[str, Any]] = []
    for error in errors:
        loc = tuple(error.get("loc", ()))
        label = label_of(loc, names)
        problems.append(
            {
                "loc": loc,
                "field": ".".join(str(p) for p in loc),
                "label": label,
                "message": problem_message(error, label, codes=codes),
                "type": str(error.get("type", "")),
            }
        )
    return problems


def problem_message(error: Mapping[str, Any], label: str, *, codes: bool = False) -> str:
    """One error's Chinese sentence, `label` (may be "") naming the field.

    A message in Chinese was written by us (a validator, or the API's own checks), never by
    pydantic: it is kept (prefixed by the label); pydantic's English is replaced by the rule of
    its type, or by a generic sentence."""
    kind = str(error.get("type", ""))
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    msg = str(error.get("msg", ""))
    rule = _RULES.get(kind)
    if rule is not None and not (has_chinese(msg) and not ASCII_WORD.search(msg)):
        return rule(label, ctx, codes)
    if rule is not None or kind in _OURS or kind not in _PYDANTIC_TYPES:
        return _own_message(label, msg)
    return f"{label}{GENERIC}" if label else GENERIC


def _own_message(label: str, msg: str) -> str:
    """A message our own validators wrote (Chinese): its text, pydantic's prefix removed."""
    text = msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if not has_chinese(text):
        return f"{label}{GENERIC}" if label else GENERIC
    row = _LEADING_ROW.match(text)
    if row and label.startswith(row[1]):
        text = text[row.end() :]
    if not label or text.startswith(label):
        return text
    return f"{label}：{text}"


# ---- the rules, by error type ----------------------------------------------------------

_Rule = Callable[[str, Mapping[str, Any], bool], str]


def _fixed(template: str) -> _Rule:
    """A sentence "{L}…" where L is the label (may be empty)."""
    return lambda label, _ctx, _codes: template.format(L=label)


def _bound(template: str, key: str) -> _Rule:
    return lambda label, ctx, _codes: template.format(L=label, n=_number(ctx.get(key)))


def _number(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _missing(label: str, _ctx: Mapping[str, Any], _codes: bool) -> str:
    return f"缺少必填项：{label}" if label else "缺少必填项"


def _too_short_text(label: str, ctx: Mapping[str, Any], _codes: bool) -> str:
    least = ctx.get("min_length", 1)
    return f"{label}不能为空" if least in (None, 1) else f"{label}至少{least}个字"


def _too_few(label: str, ctx: Mapping[str, Any], _codes: bool) -> str:
    least = ctx.get("min_length", 1)
    return f"{label}不能为空" if least in (None, 1) else f"{label}至少要有{least}项"


def _one_of(label: str, ctx: Mapping[str, Any], codes: bool) -> str:
    values = _expected_values(str(ctx.get("expected", "")))
    if not values:
        return f"{label}不是可选的值"
    return f"{label}应为{_choices(values, codes)}之一"


def _expected_values(expected: str) -> list[str]:
    """pydantic's `'red', 'yellow' or 'green'` → the values."""
    return re.findall(r"'([^']*)'", expected) or re.findall(r"\b(\w+)\b", expected)


def _choices(values: list[str], codes: bool) -> str:
    shown = [
        (f"{v}（{VALUE_LABELS[v]}）" if codes else VALUE_LABELS[v])
        if v in VALUE_LABELS
        else (v if codes or not ASCII_WORD.search(v) else "")
        for v in values
    ]
    shown = [s for s in shown if s]
    if not shown:
        return "可选的值"
    return "、".join(f"「{s}」" for s in shown)


_PATTERN_HINTS: Mapping[str, str] = MappingProxyType(
    {
        r"^[0-9A-Za-z\-_.]+$": "只能由字母、数字和 - _ . 组成（如 2024-07）",
        r"^\d{4}-\d{2}-\d{2}$": "应为 2026-12-31 格式的日期",
        r"^[0-9a-f]{12}$": "应为12位编号（数字0-9和字母a-f）",
    }
)
_ALTERNATIVES: Final = re.compile(r"^\^\((?P<values>[\w|]+)\)\$$")


def _pattern(label: str, ctx: Mapping[str, Any], codes: bool) -> str:
    pattern = str(ctx.get("pattern", ""))
    if pattern in _PATTERN_HINTS:
        return f"{label}{_PATTERN_HINTS[pattern]}"
    listed = _ALTERNATIVES.match(pattern)
    if listed:
        return f"{label}应为{_choices(listed['values'].split('|'), codes)}之一"
    return f"{label}格式不正确"


_DATE = "{L}不是有效日期（应为 2026-12-31 格式）"
_DATETIME = "{L}不是有效的日期时间（应为 2026-12-31T09:00:00 格式）"
_INTEGER = "{L}应为整数"
_NUMBER = "{L}应为数字"
_BOOLEAN = "{L}应为布尔值（是或否）"
_LIST = "{L}应为列表"
_MAPPING = "{L}应为对象（键值对）"
_TEXT = "{L}应为文本"
_URL = "{L}不是有效的网址"

_RULES: Mapping[str, _Rule] = MappingProxyType(
    {
        "missing": _missing,
        "missing_argument": _missing,
        "missing_keyword_only_argument": _missing,
        "missing_positional_only_argument": _missing,
        "extra_forbidden": _fixed("{L}不是可填写的项（请检查拼写或删除）"),
        "unexpected_keyword_argument": _fixed("{L}不是可填写的项（请检查拼写或删除）"),
        "unexpected_positional_argument": _fixed("{L}多余（请删除）"),
        "less_than_equal": _bound("{L}不能大于{n}", "le"),
        "less_than": _bound("{L}应小于{n}", "lt"),
        "greater_than_equal": _bound("{L}不能小于{n}", "ge"),
        "greater_than": _bound("{L}应大于{n}", "gt"),
        "multiple_of": _bound("{L}应为{n}的整数倍", "multiple_of"),
        "finite_number": _fixed("{L}应为有限的数值"),
        "string_too_short": _too_short_text,
        "string_too_long": _bound("{L}不能超过{n}个字", "max_length"),
        "too_short": _too_few,
        "too_long": _bound("{L}最多{n}项", "max_length"),
        "string_type": _fixed(_TEXT),
        "string_sub_type": _fixed(_TEXT),
        "string_unicode": _fixed("{L}含有无法保存的字符（控制字符或残缺的编码）"),
        "string_pattern_mismatch": _pattern,
        "bytes_type": _fixed(_TEXT),
        "bytes_too_short": _fixed("{L}过短"),
        "bytes_too_long": _fixed("{L}过长"),
        "int_type": _fixed(_INTEGER),
        "int_parsing": _fixed(_INTEGER),
        "int_from_float": _fixed(_INTEGER),
        "int_parsing_size": _fixed("{L}数值过大"),
        "float_type": _fixed(_NUMBER),
        "float_parsing": _fixed(_NUMBER),
        "decimal_type": _fixed(_NUMBER),
        "decimal_parsing": _fixed(_NUMBER),
        "bool_type": _fixed(_BOOLEAN),
        "bool_parsing": _fixed(_BOOLEAN),
        "date_type": _fixed(_DATE),
        "date_parsing": _fixed(_DATE),
        "date_from_datetime_parsing": _fixed(_DATE),
        "date_from_datetime_inexact": _fixed("{L}应为日期，不能带时间（应为 2026-12-31 格式）"),
        "date_past": _fixed("{L}应为今天以前的日期"),
        "date_future": _fixed("{L}应为今天以后的日期"),
        "datetime_type": _fixed(_DATETIME),
        "datetime_parsing": _fixed(_DATETIME),
        "datetime_from_date_parsing": _fixed(_DATETIME),
        "datetime_object_invalid": _fixed(_DATETIME),
        "datetime_past": _fixed("{L}应为过去的时间"),
        "datetime_future": _fixed("{L}应为将来的时间"),
        "timezone_naive": _fixed("{L}不能带时区"),
        "timezone_aware": _fixed("{L}应带时区"),
        "time_type": _fixed("{L}不是有效时刻（应为 09:00 格式）"),
        "time_parsing": _fixed("{L}不是有效时刻（应为 09:00 格式）"),
        "time_delta_type": _fixed("{L}不是有效的时长"),
        "time_delta_parsing": _fixed("{L}不是有效的时长"),
        "list_type": _fixed(_LIST),
        "tuple_type": _fixed(_LIST),
        "set_type": _fixed(_LIST),
        "frozen_set_type": _fixed(_LIST),
        "iterable_type": _fixed(_LIST),
        "set_item_not_hashable": _fixed("{L}中有无法比较的项"),
        "dict_type": _fixed(_MAPPING),
        "mapping_type": _fixed(_MAPPING),
        "model_type": _fixed(_MAPPING),
        "model_attributes_type": _fixed(_MAPPING),
        "dataclass_type": _fixed(_MAPPING),
        "literal_error": _one_of,
        "enum": _one_of,
        "none_required": _fixed("{L}应为空"),
        "is_instance_of": _fixed("{L}类型不正确"),
        "is_subclass_of": _fixed("{L}类型不正确"),
        "callable_type": _fixed("{L}类型不正确"),
        "union_tag_invalid": _fixed("{L}类型不正确"),
        "union_tag_not_found": _fixed("{L}缺少类型标记"),
        "url_type": _fixed(_URL),
        "url_parsing": _fixed(_URL),
        "url_syntax_violation": _fixed(_URL),
        "url_too_long": _fixed("{L}网址过长"),
        "url_scheme": _fixed("{L}网址应以允许的协议开头"),
        "uuid_type": _fixed("{L}格式不正确"),
        "uuid_parsing": _fixed("{L}格式不正确"),
        "uuid_version": _fixed("{L}格式不正确"),
        "json_invalid": _fixed("{L}内容无法解析（格式有误）"),
        "json_type": _fixed("{L}应为可解析的文本"),
        "frozen_field": _fixed("{L}不能修改"),
        "frozen_instance": _fixed("{L}不能修改"),
        "recursion_loop": _fixed("{L}嵌套过深"),
        "complex_type": _fixed(_NUMBER),
        "complex_str_parsing": _fixed(_NUMBER),
        "no_such_attribute": _fixed("{L}不是可填写的项"),
        "get_attribute_error": _fixed(f"{{L}}{GENERIC}"),
        "arguments_type": _fixed(f"{{L}}{GENERIC}"),
        "model_fields_type": _fixed(_MAPPING),
        "invalid_key": _fixed("{L}的键应为文本"),
        "needs_python_object": _fixed(f"{{L}}{GENERIC}"),
        "default_factory_not_called": _fixed(f"{{L}}{GENERIC}"),
    }
)

# pydantic's own types: one of these with no rule above gets the generic sentence; any other
# type is one of ours (PydanticCustomError), whose message is already Chinese.
_PYDANTIC_TYPES: frozenset[str] = frozenset(get_args(ErrorType))
