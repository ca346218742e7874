"""节假日安排通知: the State Council's yearly holiday notice, read from its text and recorded.

`parse_notice(text)` reads 「国务院办公厅关于YYYY年部分节假日安排的通知」 as published or reposted
(full- or half-width punctuation, 周X or 星期X, lunar dates in parentheses, ranges within and
across months, single days, 补休, lists of working days, combined festivals). Only the
numbered items (一、二、…) carry dates; inside an item a sentence with 放假 or 补休 gives
holidays, one with 上班 gives working days, and sentences with neither (「鼓励……在除夕（2月9日）
休息」) are ignored. `共N天` is checked against the range it closes. A text it cannot read
fully is refused with `NoticeUnreadable`, naming the line.

`HolidayNotice` records a notice for one year (id: uuid5 of the year); a later corrected notice
for the same year is `Revised`. `CalendarOverrides` records the config's `[calendar]
extra_holidays / extra_workdays` whenever `duban init` sees them change.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate, DomainEvent, event

from domain.dates import EARLIEST, LATEST, in_range, out_of_range_message
from domain.errors import DomainError
from domain.ids import natural_id

__all__ = [
    "CalendarOverrides",
    "HolidayNotice",
    "NoticeDays",
    "NoticeUnreadable",
    "parse_notice",
]


class NoticeUnreadable(DomainError):
    """The notice text has a line that cannot be read fully: nothing is recorded."""

    code = "notice_unreadable"

    def __init__(self, line_no: int, line: str, reason: str) -> None:
        super().__init__(f"第{line_no}行无法识别（{reason}）：{line.strip()}")
        self.line_no = line_no
        self.line = line
        self.reason = reason


@dataclass(frozen=True)
class NoticeDays:
    """What a notice says for its year: the holidays and the official working days."""

    year: int
    holidays: frozenset[dt.date]
    workdays: frozenset[dt.date]
    sha256: str = ""  # of the recorded source text, once recorded

    def iso(self) -> tuple[list[str], list[str]]:
        """Both sets as sorted ISO dates, as the events store them."""
        return sorted(d.isoformat() for d in self.holidays), sorted(
            d.isoformat() for d in self.workdays
        )


# Reposts write the punctuation half-width; everything is read in that form.
_HALF = str.maketrans(
    {
        "：": ":",
        "，": ",",
        "。": ".",
        "、": ",",
        "（": "(",
        "）": ")",
        "；": ";",
        "　": " ",
        "～": "至",
        "~": "至",
        "—": "至",
        "－": "至",
    }
)
_TITLE = re.compile(r"关于\s*(\d{4})\s*年部分节假日安排的通知")
_ITEM = re.compile(r"^\s*([一二三四五六七八九十]+)\s*[,.．]\s*([^:]*?)\s*:(.*)$")
_ITEM_START = re.compile(r"^\s*[一二三四五六七八九十]+\s*[,.．]")
_DATE = (
    r"(?:(?P<{n}y>\d{{4}})年)?(?:(?P<{n}m>\d{{1,2}})月)?(?P<{n}d>\d{{1,2}})日"
    r"(?:\s*\((?P<{n}p>[^)]*)\))?"
)
_RANGE = re.compile(_DATE.format(n="a") + r"(?:\s*(?:至|到|-)\s*" + _DATE.format(n="b") + r")?")
_TOTAL = re.compile(r"共\s*(\d+)\s*天")
_WEEKDAY = re.compile(r"(?:周|星期|礼拜)([一二三四五六日天])")
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}


class _Line:
    """Where the reader is: the line (for errors), the year, the month last written."""

    def __init__(self, number: int, text: str, year: int) -> None:
        self.number = number
        self.text = text
        self.year = year
        self.month: int | None = None

    def refuse(self, reason: str) -> NoticeUnreadable:
        return NoticeUnreadable(self.number, self.text, reason)

    def date(self, match: re.Match[str], n: str) -> dt.date:
        year = int(match[f"{n}y"]) if match[f"{n}y"] else self.year
        if match[f"{n}m"]:
            self.month = int(match[f"{n}m"])
        if self.month is None:
            raise self.refuse(f"{match[f'{n}d']}日缺少月份")
        try:
            day = dt.date(year, self.month, int(match[f"{n}d"]))
        except ValueError:
            raise self.refuse(f"日期不存在：{self.month}月{match[f'{n}d']}日") from None
        if not in_range(day):
            raise self.refuse(out_of_range_message(day))
        self._check_weekday(day, match[f"{n}p"])
        return day

    def _check_weekday(self, day: dt.date, note: str | None) -> None:
        found = _WEEKDAY.search(note or "")
        if found and _WEEKDAYS[found[1]] != day.weekday():
            raise self.refuse(f"{day.month}月{day.day}日不是{found[0]}")


def _span(first: dt.date, last: dt.date, line: _Line) -> list[dt.date]:
    if last < first:
        raise line.refuse(f"日期范围倒置：{first.isoformat()} 至 {last.isoformat()}")
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def _sentence_days(sentence: str, line: _Line) -> tuple[list[dt.date], bool]:
    """The days of one sentence and whether they are holidays; no days if it carries none."""
    off = "放假" in sentence or "补休" in sentence
    on = "上班" in sentence
    if not (off or on):
        return [], False
    if off and on:
        raise line.refuse("同一句中既有放假又有上班")
    days: list[dt.date] = []
    ranges: list[int] = []
    rest = sentence
    for match in _RANGE.finditer(sentence):
        first = line.date(match, "a")
        last = line.date(match, "b") if match["bd"] else first
        span = _span(first, last, line)
        days += span
        if match["bd"]:
            ranges.append(len(span))
        rest = rest.replace(match[0], " ", 1)
    if not days:
        raise line.refuse("有放假或上班安排但没有日期")
    if re.search(r"\d+\s*[月日号]", _TOTAL.sub("", rest)):
        raise line.refuse("有未能识别的日期")
    total = _TOTAL.search(rest)
    if total:
        expected = int(total[1])
        counted = ranges[-1] if ranges else len(days)
        if counted != expected:
            raise line.refuse(f"写明共{expected}天，日期范围为{counted}天")
    return days, off


def _item_days(body: str, line: _Line, result: tuple[set[dt.date], set[dt.date]]) -> None:
    holidays, workdays = result
    found = False
    for sentence in re.split(r"[.;]", body):
        days, off = _sentence_days(sentence, line)
        (holidays if off else workdays).update(days)
        found = found or bool(days)
    if not found:
        raise line.refuse("该项没有可识别的放假或上班安排")


def parse_notice(text: str) -> NoticeDays:
    """The year, holidays and official working days of a notice; `NoticeUnreadable` if not."""
    lines = text.splitlines()
    year: int | None = None
    for number, raw in enumerate(lines, start=1):
        found = _TITLE.search(raw.translate(_HALF))
        if found:
            year = int(found[1])
            if not EARLIEST.year <= year <= LATEST.year:
                raise NoticeUnreadable(number, raw, out_of_range_message(f"{year}年"))
            break
    if year is None:
        first = next((x for x in lines if x.strip()), "")
        raise NoticeUnreadable(
            1, first, "没有找到标题「国务院办公厅关于YYYY年部分节假日安排的通知」"
        )
    holidays: set[dt.date] = set()
    workdays: set[dt.date] = set()
    items = 0
    for number, raw in enumerate(lines, start=1):
        normal = raw.translate(_HALF)
        if not _ITEM_START.match(normal):
            continue
        line = _Line(number, raw, year)
        item = _ITEM.match(normal)
        if item is None:
            raise line.refuse("编号项缺少「节日名：」")
        _item_days(item[3], line, (holidays, workdays))
        items += 1
    if items == 0:
        raise NoticeUnreadable(len(lines), lines[-1], "没有找到任何编号的节日安排")
    both = holidays & workdays
    if both:
        days = "、".join(sorted(d.isoformat() for d in both))
        raise NoticeUnreadable(len(lines), lines[-1], f"日期既放假又上班：{days}")
    return NoticeDays(year, frozenset(holidays), frozenset(workdays))


class HolidayNotice(Aggregate):
    """One year's recorded notice: its holidays and working days and the source's SHA-256."""

    # The event classes the @event decorators below create (typed for dispatch and scans).
    Recorded: ClassVar[type[DomainEvent]]
    Revised: ClassVar[type[DomainEvent]]

    @staticmethod
    def create_id(year: int) -> UUID:
        return natural_id("holiday-notice", str(year))

    @event("Recorded")
    def __init__(
        self,
        year: int,
        holidays: list[str],
        workdays: list[str],
        source_sha256: str,
        actor: str,
        at: dt.datetime,
    ) -> None:
        self.year = year
        self.holidays = list(holidays)
        self.workdays = list(workdays)
        self.source_sha256 = source_sha256

    def revise(
        self,
        holidays: list[str],
        workdays: list[str],
        source_sha256: str,
        actor: str,
        at: dt.datetime,
    ) -> bool:
        """Record a corrected notice; the same text again changes nothing (returns False)."""
        if source_sha256 == self.source_sha256:
            return False
        self._revised(
            year=self.year,
            holidays=list(holidays),
            workdays=list(workdays),
            source_sha256=source_sha256,
            previous_sha256=self.source_sha256,
            actor=actor,
            at=at,
        )
        return True

    @event("Revised")
    def _revised(
        self,
        year: int,
        holidays: list[str],
        workdays: list[str],
        source_sha256: str,
        previous_sha256: str,
        actor: str,
        at: dt.datetime,
    ) -> None:
        self.holidays = list(holidays)
        self.workdays = list(workdays)
        self.source_sha256 = source_sha256


class CalendarOverrides(Aggregate):
    """The config's `[calendar]` overrides as the ledger last saw them (one per store)."""

    Recorded: ClassVar[type[DomainEvent]]
    Changed: ClassVar[type[DomainEvent]]

    @staticmethod
    def create_id() -> UUID:
        return natural_id("calendar-overrides", "config")

    @event("Recorded")
    def __init__(
        self, extra_holidays: list[str], extra_workdays: list[str], actor: str, at: dt.datetime
    ) -> None:
        self.extra_holidays = list(extra_holidays)
        self.extra_workdays = list(extra_workdays)

    def reconcile(
        self, extra_holidays: list[str], extra_workdays: list[str], actor: str, at: dt.datetime
    ) -> None:
        if [extra_holidays, extra_workdays] != [self.extra_holidays, self.extra_workdays]:
            self._changed(
                extra_holidays=list(extra_holidays),
                extra_workdays=list(extra_workdays),
                previous={
                    "extra_holidays": self.extra_holidays,
                    "extra_workdays": self.extra_workdays,
                },
                actor=actor,
                at=at,
            )

    @event("Changed")
    def _changed(
        self,
        extra_holidays: list[str],
        extra_workdays: list[str],
        previous: dict[str, list[str]],
        actor: str,
        at: dt.datetime,
    ) -> None:
        self.extra_holidays = list(extra_holidays)
        self.extra_workdays = list(extra_workdays)
