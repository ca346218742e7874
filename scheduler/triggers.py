"""Schedules in working-day terms, beside plain cron: one entry point, ``parse_schedule``.

A schedule is either a five-field crontab (``scheduler.cron``) or a working-day rule, read
against the office calendar (``domain.calendar.WorkingCalendar``), so 调休 working weekend days
are served and holidays are not::

    every workday 09:00                    each working day at 09:00
    every workday 09:00,12:00,17:30        several times a day
    every workday 09:00-17:45/15m          from 09:00 to 17:45 every 15 minutes
    workday 1 of month 09:00               the first working day of every month
    workday 3 of month 10:00               its third working day
    workday 5 of quarter 10:00             the fifth working day of each quarter
    workday 10 of year 10:00               the tenth working day of the year (in January)
    workday -1 of month 16:00              the last working day of every month

Words are case-insensitive and spaces free. ``n`` counts the working days of the period from
1 (negative: from its end, -1 the last); a period with fewer working days than ``|n|`` is
skipped. Times are local ``HH:MM`` in the schedule's zone; a range ``HH:MM-HH:MM/Nm`` covers
its first time and every N minutes up to and including its last. Anything else is a
``CronError`` (a ``ValueError``) naming the problem, as for cron.

``WorkdayTrigger`` is an APScheduler trigger: its ``get_next_fire_time`` asks the calendar,
so ``scheduler run`` fires it, and ``next_fire_times`` lists it like a cron trigger.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger

from domain.calendar import WorkingCalendar
from scheduler.cron import CronError, describe_cron, parse_cron

__all__ = [
    "PERIODS",
    "WorkdayRule",
    "WorkdayTrigger",
    "check_schedule",
    "describe_schedule",
    "is_workday_rule",
    "parse_schedule",
    "parse_workday_rule",
]

PERIODS: dict[str, int] = {"month": 1, "quarter": 3, "year": 12}
"""Each period a rule may count in, with its length in months."""

_MAX_N = {"month": 23, "quarter": 66, "year": 260}  # no period has more working days
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_RANGE = re.compile(r"^(?P<first>[0-9:]+)-(?P<last>[0-9:]+)/(?P<step>[0-9]+)m$")
_EVERY = re.compile(r"^every\s+workday\s+(?P<times>\S+)$")
_NTH = re.compile(r"^workday\s+(?P<n>[+-]?[0-9]+)\s+of\s+(?P<period>[a-z]+)\s+(?P<times>\S+)$")
_SEARCH_DAYS = 800  # a working day is always found well within this (covers any gap)


@dataclass(frozen=True)
class WorkdayRule:
    """A working-day schedule: ``n``-th working day of ``period`` (``None``: every working
    day) at each of ``times`` (local, sorted, distinct)."""

    period: str | None
    n: int
    times: tuple[dt.time, ...]

    def on(self, day: dt.date, calendar: WorkingCalendar) -> bool:
        """Whether the rule fires on ``day``."""
        if self.period is None:
            return calendar.is_working_day(day)
        return day == self.day_in(_period_start(day, self.period), calendar)

    def day_in(self, start: dt.date, calendar: WorkingCalendar) -> dt.date | None:
        """The rule's day in the period beginning ``start``, or ``None`` if it has too few."""
        assert self.period is not None
        end = _add_months(start, PERIODS[self.period])
        days = [
            start + dt.timedelta(days=i)
            for i in range((end - start).days)
            if calendar.is_working_day(start + dt.timedelta(days=i))
        ]
        index = self.n - 1 if self.n > 0 else self.n
        return days[index] if -len(days) <= index < len(days) else None


def _period_start(day: dt.date, period: str) -> dt.date:
    months = PERIODS[period]
    return dt.date(day.year, (day.month - 1) // months * months + 1, 1)


def _add_months(start: dt.date, months: int) -> dt.date:
    index = start.year * 12 + start.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _fail(expr: str, problem: str) -> CronError:
    return CronError(f"计划 {expr!r} 无效：{problem}", expr)


def _clock(text: str, expr: str) -> dt.time:
    match = _TIME.match(text)
    if match is None:
        raise _fail(expr, f"时刻 {text!r} 应写成 HH:MM（00:00-23:59）")
    return dt.time(int(match.group(1)), int(match.group(2)))


def _times(text: str, expr: str) -> tuple[dt.time, ...]:
    """``09:00,12:00`` and ``09:00-17:45/15m`` into the sorted distinct times they name."""
    found: set[dt.time] = set()
    for item in text.split(","):
        if not item:
            raise _fail(expr, f"时刻列表 {text!r} 中有空项")
        ranged = _RANGE.match(item)
        if ranged is None:
            found.add(_clock(item, expr))
            continue
        first, last = _clock(ranged["first"], expr), _clock(ranged["last"], expr)
        step = int(ranged["step"])
        if not 1 <= step <= 720:
            raise _fail(expr, f"间隔 {step} 分钟应在 1-720 之间（{item!r}）")
        if last < first:
            raise _fail(expr, f"时段 {item!r} 起点晚于终点")
        start = first.hour * 60 + first.minute
        stop = last.hour * 60 + last.minute
        found |= {dt.time(m // 60, m % 60) for m in range(start, stop + 1, step)}
    return tuple(sorted(found))


def is_workday_rule(expr: str) -> bool:
    """Whether ``expr`` is meant as a working-day rule (it starts with a letter word)."""
    words = expr.strip().lower().split()
    return bool(words) and words[0] in {"every", "workday"}


def parse_workday_rule(expr: str) -> WorkdayRule:
    """The rule ``expr`` states (see the module doc), or a ``CronError`` saying what is wrong."""
    text = " ".join(expr.strip().lower().split())
    every = _EVERY.match(text)
    if every is not None:
        return WorkdayRule(None, 0, _times(every["times"], expr))
    nth = _NTH.match(text)
    if nth is None:
        raise _fail(
            expr,
            "应写成 'every workday HH:MM' 或 'workday N of month|quarter|year HH:MM'"
            "（如 'workday 1 of month 09:00'）",
        )
    period, n = nth["period"], int(nth["n"])
    if period not in PERIODS:
        raise _fail(expr, f"周期 {period!r} 应为 month、quarter 或 year")
    if n == 0 or abs(n) > _MAX_N[period]:
        raise _fail(expr, f"第 {n} 个工作日超出范围：应为 1..{_MAX_N[period]}，或负数从期末倒数")
    return WorkdayRule(period, n, _times(nth["times"], expr))


class WorkdayTrigger(BaseTrigger):  # type: ignore[misc]  # APScheduler 3 has no type hints
    """Fires at ``rule``'s times on the days the office ``calendar`` says the rule holds."""

    __slots__ = ("calendar", "expr", "rule", "timezone")

    def __init__(self, rule: WorkdayRule, calendar: WorkingCalendar, tz: ZoneInfo, expr: str):
        self.rule = rule
        self.calendar = calendar
        self.timezone = tz
        self.expr = expr

    def get_next_fire_time(
        self, previous_fire_time: dt.datetime | None, now: dt.datetime
    ) -> dt.datetime | None:
        """The first fire time at or after ``now``, or after ``previous_fire_time`` if that is
        earlier (so APScheduler sees the runs it missed, as with its ``CronTrigger``)."""
        start = now
        if previous_fire_time is not None:
            start = min(now, previous_fire_time + dt.timedelta(microseconds=1))
        local = start.astimezone(self.timezone)
        day = local.date()
        for _ in range(_SEARCH_DAYS):
            if self.rule.on(day, self.calendar):
                for clock in self.rule.times:
                    fire = dt.datetime.combine(day, clock, tzinfo=self.timezone)
                    if fire >= local:
                        return fire
            day = self._next_candidate(day)
        return None

    def _next_candidate(self, day: dt.date) -> dt.date:
        """The next day that may fire: tomorrow, or the rule's day of a later period."""
        if self.rule.period is None:
            return day + dt.timedelta(days=1)
        start = _period_start(day, self.rule.period)
        here = self.rule.day_in(start, self.calendar)
        if here is not None and here > day:
            return here
        following = _add_months(start, PERIODS[self.rule.period])
        return self.rule.day_in(following, self.calendar) or following

    def __str__(self) -> str:
        return f"workday[{self.expr}]"

    def __repr__(self) -> str:
        return f"<WorkdayTrigger ({self.expr!r}, timezone={self.timezone.key!r})>"


def check_schedule(expr: str, tz: ZoneInfo) -> None:
    """Raise ``CronError`` if ``expr`` is neither a valid crontab nor a valid working-day rule."""
    if is_workday_rule(expr):
        parse_workday_rule(expr)
    else:
        parse_cron(expr, tz)


_PERIOD_WORDS = {"month": "每月", "quarter": "每季度", "year": "每年"}


def describe_schedule(expr: str) -> str:
    """A valid schedule as an admin reads it in Chinese (the expression itself is config
    syntax, kept for ``--format json``): ``every workday 09:00-17:45/15m`` →
    「每个工作日 09:00至17:45每15分钟」, ``workday 3 of month 10:00`` → 「每月第3个工作日 10:00」,
    ``workday -1 of month 16:00`` → 「每月最后一个工作日 16:00」, a crontab as ``describe_cron``.
    Raises ``CronError`` for an invalid one."""
    if not is_workday_rule(expr):
        return describe_cron(expr)
    rule = parse_workday_rule(expr)  # validates
    text = " ".join(expr.strip().lower().split())
    times = "、".join(_times_text(item) for item in text.rsplit(" ", 1)[-1].split(","))
    if rule.period is None:
        return f"每个工作日 {times}"
    if rule.n == -1:
        nth = "最后一个"
    elif rule.n < 0:
        nth = f"倒数第{-rule.n}个"
    else:
        nth = f"第{rule.n}个"
    return f"{_PERIOD_WORDS[rule.period]}{nth}工作日 {times}"


def _times_text(item: str) -> str:
    """``09:00`` as is; ``09:00-17:45/15m`` as 「09:00至17:45每15分钟」."""
    ranged = _RANGE.match(item)
    if ranged is None:
        return item
    step = int(ranged["step"])
    return f"{ranged['first']}至{ranged['last']}每{step if step > 1 else ''}分钟"


def parse_schedule(expr: str, tz: ZoneInfo, calendar: WorkingCalendar | None = None) -> BaseTrigger:
    """The trigger for ``expr``: a working-day rule read against ``calendar`` (default: the
    official calendar in ``tz``), else a crontab. ``CronError`` if it is neither."""
    if is_workday_rule(expr):
        return WorkdayTrigger(
            parse_workday_rule(expr), calendar or WorkingCalendar(tz=tz), tz, expr
        )
    return parse_cron(expr, tz)
