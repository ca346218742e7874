"""工作日历: the working-day calendar every deadline and reminder is measured on.

Working days follow the official Chinese schedule, including the weekends that are worked
in exchange for a holiday block (调休). The order of authority for a year: the State Council's
notice for that year as recorded in the ledger (``notices``, see ``domain.holiday_notice``),
then the ``chinese_calendar`` package, then Monday-Friday. Office admins can override single
dates both ways, on top of all three. For a year the package does not cover yet
(next year's schedule is published around November) the calendar falls back to Monday-Friday
and reports the year once through a callback, so the caller can warn; it never raises.

Conventions (all dates are local dates in the calendar's time zone):

* ``add_working_days(d, n)`` with ``n > 0`` is the n-th working day strictly after ``d``;
  with ``n < 0`` the |n|-th working day strictly before ``d``; ``d`` itself is never counted,
  whether or not it is a working day. ``n == 0`` is ``d`` if it is a working day, else the
  next working day. Example: 2024-10-01..07 is the National Day block and 2024-09-29 (a
  Sunday) was worked, so 1 working day before 2024-10-08 is 2024-09-30 and 1 working day
  after 2024-09-30 is 2024-10-08.
* ``working_days_between(a, b)`` counts the working days in the half-open interval
  ``(a, b]`` when ``a <= b`` and is ``-working_days_between(b, a)`` otherwise. It is
  antisymmetric and additive: ``between(a, b) + between(b, c) == between(a, c)``.
  The two round-trip exactly from a working day ``d``:
  ``working_days_between(d, add_working_days(d, n)) == n`` and, for a working day ``e``,
  ``add_working_days(d, working_days_between(d, e)) == e``. From a non-working ``d`` they
  do so going forward (``n > 0``, ``e > d``); going back, ``d`` itself is not counted, so
  the count is one less in magnitude (``-2`` working days from Saturday reaches Thursday,
  and Thursday is ``-1`` from Saturday).
* Working hours are ``[work_start, work_end)`` on working days: 18:00 itself is outside.

The module does no I/O. Per-date answers of ``chinese_calendar`` are cached module-wide and
each calendar keeps, per year, the sorted list of its working days, so day arithmetic is a
binary search instead of a day-by-day walk: sweeps ask these questions for every task.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar

from domain.dates import EARLIEST, LATEST
from domain.holiday_notice import NoticeDays

__all__ = ["SHANGHAI", "SOURCE_LABELS", "CalendarDay", "WorkingCalendar"]

SOURCE_LABELS = {
    "notice": "已导入通知",
    "chinesecalendar": "内置节假日数据",
    "config": "配置",
    "fallback": "周一至周五推算",
}
"""Where a year's (or a day's) working status comes from, as people read it."""

CHINESE_CALENDAR_VERSION = str(getattr(chinese_calendar, "__version__", "?"))

SHANGHAI = ZoneInfo("Asia/Shanghai")

_SATURDAY = 5


@lru_cache(maxsize=65536)
def _official_workday(day: dt.date) -> bool | None:
    """Whether ``day`` is worked per the official schedule; ``None`` if the year is not covered.

    Cached at module level because the answer depends on the date alone, so every calendar
    instance (and every sweep) shares it.
    """
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None


def _require_aware(moment: dt.datetime) -> None:
    """Refuse naive datetimes: 'now' without a zone is ambiguous by up to a day of hours."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        msg = f"需要带时区的时间（aware datetime），收到无时区时间 {moment.isoformat()}"
        raise ValueError(msg)


@dataclass(frozen=True, order=True)
class CalendarDay:
    """A day that differs from the Monday-Friday week: ``holiday`` or a ``workday`` on a
    weekend, and where that comes from (a key of ``SOURCE_LABELS``)."""

    day: dt.date
    kind: str
    source: str


class WorkingCalendar:
    """Working days and working hours of the office, with admin overrides.

    ``extra_holidays`` are dates that are NOT worked even if the official schedule says so;
    ``extra_workdays`` are dates that ARE worked. A date in both is a configuration error.
    ``notices`` are the recorded notices by year: they take precedence over ``chinese_calendar``.
    ``on_uncovered_year(year)`` is called once per year neither covers, the
    first time that year is consulted; the years seen are also kept in ``uncovered_years``.
    """

    def __init__(
        self,
        extra_holidays: frozenset[dt.date] = frozenset(),
        extra_workdays: frozenset[dt.date] = frozenset(),
        work_start: dt.time = dt.time(9),
        work_end: dt.time = dt.time(18),
        tz: ZoneInfo = SHANGHAI,
        on_uncovered_year: Callable[[int], None] | None = None,
        notices: Mapping[int, NoticeDays] | None = None,
    ) -> None:
        both = extra_holidays & extra_workdays
        if both:
            days = "、".join(sorted(d.isoformat() for d in both))
            msg = f"日期不能同时设为节假日和工作日：{days}"
            raise ValueError(msg)
        if work_start.tzinfo is not None or work_end.tzinfo is not None:
            msg = "工作时间请写成不带时区的时刻（时区由 tz 指定）"
            raise ValueError(msg)
        if not work_start < work_end:
            msg = f"工作时间开始 {work_start} 必须早于结束 {work_end}"
            raise ValueError(msg)
        self._extra_holidays = frozenset(extra_holidays)
        self._extra_workdays = frozenset(extra_workdays)
        self._work_start = work_start
        self._work_end = work_end
        self._tz = tz
        self._on_uncovered_year = on_uncovered_year
        self.uncovered_years: set[int] = set()
        self._lock = threading.Lock()
        self._years: dict[int, list[int]] = {}
        self._notices: dict[int, NoticeDays] = {}
        self._notice_days: dict[dt.date, bool] = {}
        self.revision = 0  # +1 for each notice recorded after construction
        for notice in (notices or {}).values():
            self.record_notice(notice)
        self.revision = 0

    def record_notice(self, notice: NoticeDays) -> None:
        """Take ``notice`` (a year's recorded or revised notice) from now on, in place, so that
        every holder of this calendar (triggers, views, the deliverer) follows it."""
        with self._lock:
            notices = {**self._notices, notice.year: notice}
            # A notice may name days of the year before (元旦 from 12月31日): look days up directly.
            days: dict[dt.date, bool] = {}
            for year in sorted(notices):
                days.update(dict.fromkeys(notices[year].holidays, False))
                days.update(dict.fromkeys(notices[year].workdays, True))
            self._notices, self._notice_days, self._years = notices, days, {}
            self.uncovered_years.discard(notice.year)
            self.revision += 1

    # -- read-only configuration -------------------------------------------------------

    @property
    def tz(self) -> ZoneInfo:
        """The office's time zone: all dates are local dates in it."""
        return self._tz

    @property
    def work_start(self) -> dt.time:
        """Start of working hours (inclusive)."""
        return self._work_start

    @property
    def work_end(self) -> dt.time:
        """End of working hours (exclusive)."""
        return self._work_end

    # -- days --------------------------------------------------------------------------

    def is_working_day(self, day: dt.date) -> bool:
        """Whether ``day`` is worked: overrides, then the official schedule, then Mon-Fri.

        Never raises for a year without official data: it falls back to Monday-Friday less the
        statutory holidays whose dates never move (元旦 1 January, 劳动节 1-2 May, 国庆节 1-3
        October) and reports the year once, because a missing schedule must not stop reminders.
        """
        if day in self._extra_workdays:
            return True
        if day in self._extra_holidays:
            return False
        noticed = self._notice_days.get(day)
        if noticed is not None:
            return noticed
        if day.year in self._notices:
            return day.weekday() < _SATURDAY
        official = _official_workday(day)
        if official is None:
            self._note_uncovered(day.year)
            return _fallback_workday(day)
        return official

    # -- sources -----------------------------------------------------------------------

    def source_of_year(self, year: int) -> str:
        """``notice``, ``chinesecalendar`` or ``fallback``: who says which days of ``year``
        are worked (config overrides aside; see ``SOURCE_LABELS``)."""
        if year in self._notices:
            return "notice"
        if _official_workday(dt.date(year, 1, 1)) is not None:
            return "chinesecalendar"
        return "fallback"

    def notice(self, year: int) -> NoticeDays | None:
        """The recorded notice for ``year``, if any."""
        return self._notices.get(year)

    def version(self, years: Iterable[int]) -> str:
        """A short label of the calendar data ``years`` were computed with, for the record:
        the notice's SHA-256 (first 12), the chinesecalendar version or the fallback, and
        a hash of the config overrides when there are any."""
        parts = []
        for year in sorted(set(years)):
            source = self.source_of_year(year)
            if source == "notice":
                parts.append(f"{year}:通知{self._notices[year].sha256[:12]}")
            elif source == "chinesecalendar":
                parts.append(f"{year}:chinesecalendar {CHINESE_CALENDAR_VERSION}")
            else:
                parts.append(f"{year}:周一至周五")
        if self._extra_holidays or self._extra_workdays:
            text = repr((sorted(self._extra_holidays), sorted(self._extra_workdays)))
            parts.append(f"配置{hashlib.sha256(text.encode()).hexdigest()[:8]}")
        return "；".join(parts)

    def fingerprint(self) -> str:
        """What the recorded notices add to the calendar (empty without any): for caches."""
        return ";".join(f"{y}:{n.sha256}" for y, n in sorted(self._notices.items()))

    def year_days(self, year: int) -> list[CalendarDay]:
        """The holidays and the working weekend days of ``year`` with their sources, by date
        (the fallback's are the fixed-date statutory holidays on weekdays, and the config's)."""
        holidays: dict[dt.date, str] = {}
        workdays: dict[dt.date, str] = {}
        source = self.source_of_year(year)
        if source == "chinesecalendar":
            holidays = {d: source for d in chinese_calendar.holidays if d.year == year}
            workdays = {
                d: source
                for d in chinese_calendar.workdays
                if d.year == year and d.weekday() >= _SATURDAY
            }
        elif source == "fallback":
            holidays = {
                day: source
                for month, number in sorted(FIXED_DATE_HOLIDAYS)
                if (day := dt.date(year, month, number)).weekday() < _SATURDAY
            }
        for day, worked in self._notice_days.items():  # a notice may name December days
            if day.year == year:
                (workdays if worked else holidays)[day] = "notice"
                (holidays if worked else workdays).pop(day, None)
        for day in self._extra_holidays:
            if day.year == year:
                workdays.pop(day, None)
                holidays[day] = "config"
        for day in self._extra_workdays:
            if day.year == year:
                holidays.pop(day, None)
                workdays[day] = "config"
        days = [CalendarDay(d, "holiday", s) for d, s in holidays.items()]
        days += [CalendarDay(d, "workday", s) for d, s in workdays.items()]
        return sorted(days)

    def _note_uncovered(self, year: int) -> None:
        """Record a year without official data and tell the callback, once per year."""
        with self._lock:
            if year in self.uncovered_years:
                return
            self.uncovered_years.add(year)
        if self._on_uncovered_year is not None:
            self._on_uncovered_year(year)

    def _year_workdays(self, year: int) -> list[int]:
        """Sorted ordinals of the working days of ``year``, computed once per notice revision
        (into the cache it started with: a notice recorded meanwhile drops that cache)."""
        cache = self._years
        cached = cache.get(year) if EARLIEST.year <= year <= LATEST.year else []
        if cached is not None:
            return cached
        day = dt.date(year, 1, 1)
        days: list[int] = []
        while day.year == year:
            if self.is_working_day(day):
                days.append(day.toordinal())
            day += dt.timedelta(days=1)
        cache[year] = days
        return days

    def add_working_days(self, day: dt.date, n: int) -> dt.date:
        """The n-th working day after (n > 0) or before (n < 0) ``day``; see the module doc.

        ``day`` itself never counts; ``n == 0`` rounds a non-working ``day`` forward.
        Runs in O(log 366) per year crossed, not O(n) per call.
        """
        if n == 0:
            return day if self.is_working_day(day) else self._forward(day, 1)
        if n > 0:
            return self._forward(day, n)
        return self._backward(day, -n)

    def _forward(self, day: dt.date, n: int) -> dt.date:
        """The n-th (n >= 1) working day strictly after ``day``."""
        year = day.year
        days = self._year_workdays(year)
        index = bisect_right(days, day.toordinal())
        remaining = n
        while index + remaining > len(days):
            remaining -= len(days) - index
            if (year := year + 1) > LATEST.year:
                return dt.date.max  # nothing is worked outside domain.dates' range: "never"
            days = self._year_workdays(year)
            index = 0
        return dt.date.fromordinal(days[index + remaining - 1])

    def _backward(self, day: dt.date, n: int) -> dt.date:
        """The n-th (n >= 1) working day strictly before ``day``."""
        year = day.year
        days = self._year_workdays(year)
        index = bisect_left(days, day.toordinal())
        remaining = n
        while remaining > index:
            remaining -= index
            if (year := year - 1) < EARLIEST.year:
                return dt.date.min  # no working day before the range: saturate
            days = self._year_workdays(year)
            index = len(days)
        return dt.date.fromordinal(days[index - remaining])

    def working_days_between(self, a: dt.date, b: dt.date) -> int:
        """Signed count of working days in ``(a, b]``; ``-between(b, a)`` when ``b < a``.

        Half-open so that counts add up over consecutive spans and so that "how many
        working days overdue is the task today" is 1 on the first working day after the
        deadline.
        """
        if b < a:
            return -self.working_days_between(b, a)
        if a == b:
            return 0
        count = 0
        for year in range(a.year, b.year + 1):
            days = self._year_workdays(year)
            low = bisect_right(days, a.toordinal()) if year == a.year else 0
            high = bisect_right(days, b.toordinal()) if year == b.year else len(days)
            count += high - low
        return count

    # -- hours -------------------------------------------------------------------------

    def is_working_time(self, moment: dt.datetime) -> bool:
        """Whether ``moment`` (aware) falls in working hours of a working day, locally."""
        _require_aware(moment)
        local = moment.astimezone(self._tz)
        return self.is_working_day(local.date()) and self._within_hours(local.time())

    def _within_hours(self, clock: dt.time) -> bool:
        """Whether a naive local clock time lies in ``[work_start, work_end)``."""
        return self._work_start <= clock < self._work_end

    def start_of_work(self, day: dt.date) -> dt.datetime:
        """The aware moment working hours begin on ``day`` (whether or not it is worked)."""
        return dt.datetime.combine(day, self._work_start, tzinfo=self._tz)

    def next_working_time(self, moment: dt.datetime) -> dt.datetime:
        """``moment`` itself if it is working time, else the start of the next working period.

        The result is expressed in the calendar's time zone. Messages are deferred with this,
        so a reminder due at 20:00 on Friday goes out at 09:00 on the next working day.
        """
        _require_aware(moment)
        local = moment.astimezone(self._tz)
        today = local.date()
        if self.is_working_day(today):
            clock = local.time()
            if self._within_hours(clock):
                return local
            if clock < self._work_start:
                return self.start_of_work(today)
        return self.start_of_work(self._forward(today, 1))


FIXED_DATE_HOLIDAYS: frozenset[tuple[int, int]] = frozenset(
    {(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)}
)
"""(month, day) of the statutory holidays fixed in the solar calendar (全国年节及纪念日放假办法):
the fallback keeps them, since they are holidays whatever a year's notice will say."""


def _fallback_workday(day: dt.date) -> bool:
    """Monday to Friday, less the fixed-date statutory holidays (no 调休 can be known)."""
    return day.weekday() < _SATURDAY and (day.month, day.day) not in FIXED_DATE_HOLIDAYS
