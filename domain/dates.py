"""日期范围: the one range of calendar dates the product accepts, for every date input.

The range is 2000-01-01 to 2099-12-31, both included: whole calendar years, so a year alone
(a holiday notice's, a report's, "2024年底") is checked with ``check_year``. Why:

* The dates people give are deadlines, milestones and extensions of a county's yearly 改革要点
  list, the days boards, reports and sweeps are asked about, and the office's calendar
  overrides: all of them lie within a few years of now.
* The oldest working-day data that exists are the State Council's holiday notices, published
  from 2004 on; ``chinese_calendar`` covers 2004 onward too. 2000 leaves room for stores and
  lists older than that without reaching back to dates nobody can mean.
* 2099 is far beyond any plausible deadline, and keeps every day-counting question bounded to
  about a century of calendar years (``domain.calendar`` computes working days year by year:
  ``9999-12-31`` meant one uncovered year per year up to it and a minute per board load).

Out of the range a date is refused at the edge (importer, API, CLI, config, holiday notices)
with ``DateOutOfRange`` and a message naming the field; the calendar clamps what an older store
may still hold (``clamp``). Pure: no I/O, no clock.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TypeVar

from domain.errors import DomainError

__all__ = [
    "EARLIEST",
    "LATEST",
    "RANGE_TEXT",
    "DateOutOfRange",
    "check_date",
    "check_year",
    "chinese_date",
    "clamp",
    "in_range",
    "out_of_range_message",
]

EARLIEST = dt.date(2000, 1, 1)
LATEST = dt.date(2099, 12, 31)


_ISO_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_ISO_TIME = re.compile(r"[T ]\d{2}:\d{2}")
_NUMERALS = "〇一二三四五六七八九"


def chinese_date(value: dt.date | str | None, missing: str = "", *, numerals: bool = False) -> str:
    """A day as a person reads it: 「2024年6月30日」; with ``numerals``, as a 公文 dates itself:
    「二〇二四年六月三十日」. The one function every message, report and document writes a
    day with.

    * a date, or a datetime (its day, in the zone it carries);
    * an ISO day or moment as text (``2024-06-30``, ``2024-06-26T10:00:00+08:00``): the same;
    * a text that starts with an ISO day (a last report's ``2024-05-10 40%``): that day
      written so, the rest kept;
    * ``None`` or ``""``: ``missing``;
    * any other text (「2024年底」「持续推进」): unchanged.
    """
    if value is None or value == "":
        return missing
    rest = ""
    if isinstance(value, dt.date):
        day = value
    else:
        found = _day_prefix(value)
        if found is None:
            return value
        day, rest = found
    if numerals:
        year = "".join(_NUMERALS[int(c)] for c in str(day.year))
        text = f"{year}年{_numeral(day.month)}月{_numeral(day.day)}日"
    else:
        text = f"{day.year}年{day.month}月{day.day}日"
    return text + rest


def _day_prefix(value: str) -> tuple[dt.date, str] | None:
    """The day a text starts with and what follows it (nothing after an ISO moment's day)."""
    found = _ISO_DAY.match(value)
    if found is None:
        return None
    try:
        day = dt.date(*(int(part) for part in found.groups()))
    except ValueError:
        return None
    rest = value[found.end() :]
    if _ISO_TIME.match(rest):
        try:
            dt.datetime.fromisoformat(value)
        except ValueError:
            return day, rest
        return day, ""
    return day, rest


def _numeral(n: int) -> str:
    """1 … 31 in Chinese numerals: 一, 十, 十二, 二十, 三十一."""
    if n < 10:
        return _NUMERALS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _NUMERALS[tens]) + "十" + (_NUMERALS[ones] if ones else "")


RANGE_TEXT = f"{chinese_date(EARLIEST)}至{chinese_date(LATEST)}"


_D = TypeVar("_D", bound=dt.date)


class DateOutOfRange(DomainError):
    """A date (or a year) outside ``EARLIEST`` … ``LATEST``; ``field`` names where it was given."""

    code = "date_out_of_range"

    def __init__(self, value: object, field: str = "") -> None:
        self.value = value
        self.field = field
        super().__init__(out_of_range_message(value, field))


def _written(value: object) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def out_of_range_message(value: object, field: str = "") -> str:
    """「完成时限：日期超出允许范围（2000年1月1日至2099年12月31日）：9999-12-31」."""
    prefix = f"{field}：" if field else ""
    return f"{prefix}日期超出允许范围（{RANGE_TEXT}）：{_written(value)}"


def in_range(day: dt.date) -> bool:
    """Whether ``day`` (a date, or the date of a datetime) lies in the product's range."""
    as_date = day.date() if isinstance(day, dt.datetime) else day
    return EARLIEST <= as_date <= LATEST


def check_date(value: _D, field: str = "") -> _D:
    """``value`` itself if it lies in the range, else ``DateOutOfRange`` naming ``field``.

    Takes datetimes too (their date is checked) and returns them unchanged.
    """
    if not in_range(value):
        raise DateOutOfRange(value, field)
    return value


def check_year(year: int, field: str = "") -> int:
    """``year`` if its every day lies in the range (2000 … 2099), else ``DateOutOfRange``."""
    if not EARLIEST.year <= year <= LATEST.year:
        raise DateOutOfRange(f"{year}年", field)
    return year


def clamp(day: dt.date) -> dt.date:
    """``day`` moved into the range: for arithmetic on dates an older store may still hold."""
    return min(max(day, EARLIEST), LATEST)
