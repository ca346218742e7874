"""完成时限 and 阶段节点 as county offices write them in 改革要点 tables.

Pure text rules, no I/O: `parse_deadline` turns "2024年6月底前" into 2024-06-30 (or "持续推进"
into an ongoing task without a date), `parse_milestones` reads a 阶段节点 cell,
`split_units` reads a 配合单位 cell and `normalise_name` makes a unit or person's name
comparable however it was typed.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from domain.dates import EARLIEST, LATEST, RANGE_TEXT

__all__ = [
    "DeadlineError",
    "ParsedDeadline",
    "normalise_name",
    "parse_deadline",
    "parse_milestones",
    "split_units",
]

# Longer than any deadline anyone writes; keeps every regex below on short input.
MAX_DEADLINE_CHARS = 40
_OUT_OF_RANGE = f"日期超出允许范围（{RANGE_TEXT}）"
_HINT = "，请写成 2024-06-30、2024年6月30日、2024年6月底、2024年底前、2024年三季度末 或 持续推进"


class DeadlineError(ValueError):
    """A deadline or milestone that cannot be read; the message (Chinese) names the text.

    `english` keeps a short English name of the problem for logs and tests, never the message."""

    def __init__(self, text: str, problem: str, english: str, hint: str = "") -> None:
        self.text = text
        self.problem = problem
        self.english = english
        short = _shorten(text)
        if not short:
            super().__init__(f"{problem}{hint}")
            return
        super().__init__(f"{problem}：「{short}」{hint}")


class _MissingYear(DeadlineError):
    """A form written without a year ("6月底") and no default year to complete it."""


class _NoSuchDate(DeadlineError):
    """A recognised form naming a day that does not exist (2024年2月30日, 2024年13月底)."""


class _OutOfRange(DeadlineError):
    """A real day outside the product's range (`domain.dates`): 9999年12月31日, 1900年底."""


@dataclass(frozen=True)
class ParsedDeadline:
    """A deadline as read: `due` is None exactly when the task is ongoing (持续推进)."""

    due: dt.date | None
    ongoing: bool
    text: str


def _shorten(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


# ---- deadlines -----------------------------------------------------------------------------

_SUFFIXES = ("完成", "之前", "以前", "前")
_ONGOING = re.compile(
    r"(?:\d{4}年)?(?:持续推进|持续开展|持续|长期坚持推进|长期坚持|长期推进|长期|常态化推进|常态化开展|常态化)"
)
_YEAR = r"(?:(?P<year>\d{4})年)?"
_CN_DIGIT = {"一": 1, "二": 2, "三": 3, "四": 4}
_TEN_DAYS = {"上旬": 10, "中旬": 20}


def _normalise(text: str) -> str:
    """Full-width to ASCII, no spaces, upper case, and 前/之前/完成 dropped from the end."""
    squeezed = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).upper()
    shortened = True
    while shortened:
        shortened = False
        for suffix in _SUFFIXES:
            if squeezed.endswith(suffix) and len(squeezed) > len(suffix):
                squeezed = squeezed[: -len(suffix)]
                shortened = True
                break
    return squeezed


def _year(match: re.Match[str], default_year: int | None, text: str) -> int:
    if match["year"]:
        return int(match["year"])
    if default_year is None:
        raise _MissingYear(text, "时限没有写年份", "no year written and no default year", _HINT)
    return default_year


def _date(year: int, month: int, day: int, text: str) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise _NoSuchDate(text, "日期不存在", "no such date") from None


def _month_end(year: int, month: int, text: str) -> dt.date:
    if not 1 <= month <= 12 or not 1 <= year <= 9999:
        raise _NoSuchDate(text, "月份不存在", "no such month")
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _full_date(m: re.Match[str], year: int, text: str) -> dt.date:
    return _date(year, int(m["month"]), int(m["day"]), text)


def _month(m: re.Match[str], year: int, text: str) -> dt.date:
    return _month_end(year, int(m["month"]), text)


def _ten_days(m: re.Match[str], year: int, text: str) -> dt.date:
    end = _month_end(year, int(m["month"]), text)
    return end.replace(day=_TEN_DAYS.get(m["part"], end.day))


def _quarter(m: re.Match[str], year: int, text: str) -> dt.date:
    quarter = _CN_DIGIT.get(m["q"]) or int(m["q"])
    return _month_end(year, quarter * 3, text)


def _half(m: re.Match[str], year: int, text: str) -> dt.date:
    return _month_end(year, 6 if m["half"] == "上" else 12, text)


def _year_end(m: re.Match[str], year: int, text: str) -> dt.date:
    return _month_end(year, 12, text)


_Rule = Callable[[re.Match[str], int, str], dt.date]
_FORMS: tuple[tuple[re.Pattern[str], _Rule], ...] = (
    (
        re.compile(r"(?P<year>\d{4})(?P<s>[-/.])(?P<month>\d{1,2})(?P=s)(?P<day>\d{1,2})日?"),
        _full_date,
    ),
    (re.compile(r"(?P<year>\d{4})(?P<s>[-/.])(?P<month>\d{1,2})"), _month),
    (re.compile(_YEAR + r"(?P<month>\d{1,2})月(?P<day>\d{1,2})[日号]"), _full_date),
    (re.compile(_YEAR + r"(?P<month>\d{1,2})月份?(?P<part>上旬|中旬|下旬)末?"), _ten_days),
    (re.compile(_YEAR + r"(?P<month>\d{1,2})月份?(?:底|末)?"), _month),
    (re.compile(_YEAR + r"第?(?P<q>[一二三四1-4])季度(?:末|底)?"), _quarter),
    (re.compile(r"(?:(?P<year>\d{4})年?)?第?Q(?P<q>[1-4])(?:末|底)?"), _quarter),
    (re.compile(_YEAR + r"(?P<half>[上下])半年(?:末|底)?"), _half),
    (re.compile(r"(?P<year>\d{4})年(?:年底|年末|年内|全年|底|末|内)?"), _year_end),
    (re.compile(r"(?P<year>)(?:年底|年末|年内|全年)"), _year_end),
)


def parse_deadline(text: str, *, default_year: int | None = None) -> ParsedDeadline:
    """Read one 完成时限 cell; `default_year` completes forms written without a year (6月底前).

    Raises `DeadlineError` for anything that is not one of the forms offices use.
    """
    written = text.strip()
    if not written:
        raise DeadlineError(written, "完成时限为空", "empty deadline", _HINT)
    if len(written) > MAX_DEADLINE_CHARS:
        raise DeadlineError(written, "完成时限过长，无法识别", "deadline text too long")
    normal = _normalise(written)
    if _ONGOING.fullmatch(normal):
        return ParsedDeadline(due=None, ongoing=True, text=written)
    for pattern, rule in _FORMS:
        match = pattern.fullmatch(normal)
        if match:
            year = _year(match, default_year, written)
            # The range is whole years (domain.dates): checked before the rule, 0000年 is no date.
            if not EARLIEST.year <= year <= LATEST.year:
                raise _OutOfRange(written, _OUT_OF_RANGE, "date out of range")
            return ParsedDeadline(due=rule(match, year, written), ongoing=False, text=written)
    raise DeadlineError(written, "无法识别的完成时限", "unrecognised deadline", _HINT)


# ---- milestones ----------------------------------------------------------------------------

_ITEM_SEPARATORS = re.compile(r"[；;\r\n]+")
_ENUMERATION = re.compile(
    r"^\s*(?:[①-⑳]|[（(]\d{1,2}[)）]|\d{1,2}[、)）]|\d{1,2}\.(?=\s*\d{4}))\s*"
)
_NAME_LEADERS = " \t\u3000,，、:：.。"
# Longest deadline prefix worth trying: "2024 年 12 月 31 日之前" with stray spaces.
_MILESTONE_PREFIX_CHARS = 30
_MILESTONE_HINT = "，请写成“2024年3月底前完成方案制定”，多个节点用；分隔"


def parse_milestones(text: str, default_year: int | None) -> list[tuple[str, dt.date]]:
    """Read a 阶段节点 cell: items separated by ；; or new lines, each "时限 + 节点名称".

    "2024年3月底前完成方案制定" gives ("完成方案制定", 2024-03-31): the longest leading text that
    is a dated deadline is the date, the rest is the name. Raises `DeadlineError` naming the item.
    """
    items = (_ENUMERATION.sub("", item).strip() for item in _ITEM_SEPARATORS.split(text))
    return [_milestone(item, default_year) for item in items if item]


def _milestone(item: str, default_year: int | None) -> tuple[str, dt.date]:
    for end in range(min(len(item), _MILESTONE_PREFIX_CHARS), 0, -1):
        prefix = item[:end]
        if prefix.rstrip().endswith("完成"):
            continue  # "完成" belongs to the name: "6月底前完成试点" is the node 完成试点
        try:
            parsed = parse_deadline(prefix, default_year=default_year)
        except _MissingYear:
            raise DeadlineError(
                item, "节点时限没有写年份", "milestone without a year", _MILESTONE_HINT
            ) from None
        except _NoSuchDate:
            # "2024-06-31" must not fall back to its shorter prefix "2024-06-3".
            raise DeadlineError(item, "节点日期不存在", "no such date") from None
        except _OutOfRange as exc:
            raise DeadlineError(item, f"节点{exc.problem}", "date out of range") from None
        except DeadlineError:
            continue
        return _named_milestone(item, end, parsed)
    raise DeadlineError(
        item, "阶段节点应以时限开头", "a milestone starts with its date", _MILESTONE_HINT
    )


def _named_milestone(item: str, end: int, parsed: ParsedDeadline) -> tuple[str, dt.date]:
    if parsed.due is None:
        raise DeadlineError(item, "阶段节点需要具体日期", "milestone needs a date", _MILESTONE_HINT)
    name = item[end:].strip(_NAME_LEADERS)
    if not name:
        raise DeadlineError(item, "阶段节点缺少内容", "milestone has no name", _MILESTONE_HINT)
    return name, parsed.due


# ---- units and names -----------------------------------------------------------------------

_UNIT_SEPARATORS = re.compile(r"[、,，;；\r\n]")
_SPACE_BETWEEN_WIDE = re.compile(r"(?<=[^\x00-\x7f])\s+(?=[^\x00-\x7f])")


def split_units(text: str) -> list[str]:
    """Units of a 配合单位 cell, split on 、 , ， ; ； and new lines, trimmed, empties dropped."""
    return [unit.strip() for unit in _UNIT_SEPARATORS.split(text) if unit.strip()]


def normalise_name(text: str) -> str:
    """A unit, official or group name made comparable: full-width forms to ASCII (（）→()),
    and the spaces offices pad Chinese names with removed ("王  伟" → "王伟")."""
    return _SPACE_BETWEEN_WIDE.sub("", unicodedata.normalize("NFKC", text)).strip()
