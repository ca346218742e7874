"""Crontab expressions as office admins know them, turned into APScheduler triggers.

Why not ``CronTrigger.from_crontab``: it counts weekday 0 as Monday, so the familiar
``0 9 * * 1-5`` would fire Tuesday to Saturday. This module parses the five standard fields
itself (minute hour day-of-month month day-of-week), with standard weekday numbering
(0 and 7 = Sunday, 1 = Monday, names ``sun``..``sat``), and hands APScheduler weekday
*names*, which cannot be misnumbered.

Accepted per field: ``*``, numbers, names (months ``jan``..``dec``, weekdays ``sun``..``sat``,
case-insensitive), ranges ``a-b``, steps ``*/s``, ``a-b/s`` and ``a/s`` (= ``a``-max``/s``),
and comma lists of these; plus the macros ``@yearly`` ``@annually`` ``@monthly`` ``@weekly``
``@daily`` ``@midnight`` ``@hourly``. A weekday range may end on Sunday (``fri-sun``, ``5-0``).

Rejected with a ``CronError`` naming the problem: a wrong number of fields, garbage, values
out of range, reversed ranges, zero steps, dates that never exist (``0 9 30 2 *``), and a
day-of-month restricted together with a weekday: classic cron fires when EITHER matches,
APScheduler only when BOTH do, so such an expression would silently mean something else.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

__all__ = ["CronError", "describe_cron", "next_fire_times", "parse_cron"]

_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}

_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_WEEKDAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
# APScheduler's names for standard weekday numbers 0..6 (0 = Sunday).
_APS_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_MAX_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

_ITEM = re.compile(r"^(?P<base>\*|[a-z0-9]+(?:-[a-z0-9]+)?)(?:/(?P<step>[0-9]+))?$")


class CronError(ValueError):
    """An expression that is not a valid five-field crontab; the message says what is wrong."""

    def __init__(self, message: str, expr: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.expr = expr
        self.field = field


@dataclass(frozen=True)
class _FieldSpec:
    label: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    name_base: int = 0


_FIELDS = (
    _FieldSpec("分钟", 0, 59),
    _FieldSpec("小时", 0, 23),
    _FieldSpec("日期", 1, 31),
    _FieldSpec("月份", 1, 12, _MONTH_NAMES, 1),
    _FieldSpec("星期", 0, 7, _WEEKDAY_NAMES, 0),
)
_WEEKDAY = 4


@dataclass(frozen=True)
class _Parsed:
    values: frozenset[int]
    star: bool  # the field starts with "*": unrestricted for the day-of-month/weekday rule


def _fail(expr: str, spec: _FieldSpec | None, problem: str) -> CronError:
    """Build the error; every message quotes the expression and, if known, the field."""
    where = f"{spec.label}字段" if spec is not None else ""
    return CronError(
        f"cron 表达式 {expr!r} 无效：{where}{problem}", expr, spec.label if spec else None
    )


def _value(token: str, spec: _FieldSpec, expr: str) -> int:
    """One number or name of a field, range-checked."""
    if token.isdigit():
        number = int(token)
    elif token in spec.names:
        number = spec.names.index(token) + spec.name_base
    else:
        allowed = f"（可用名称 {','.join(spec.names)}）" if spec.names else ""
        raise _fail(expr, spec, f"无法识别 {token!r}{allowed}")
    if not spec.low <= number <= spec.high:
        raise _fail(expr, spec, f"取值 {number} 超出范围 {spec.low}-{spec.high}")
    return number


def _bounds(base: str, has_step: bool, spec: _FieldSpec, expr: str) -> tuple[int, int]:
    """The first and last value an item covers, before stepping."""
    if base == "*":
        return spec.low, spec.high
    first_text, _, last_text = base.partition("-")
    first = _value(first_text, spec, expr)
    if not last_text:
        return (first, spec.high) if has_step else (first, first)
    last = _value(last_text, spec, expr)
    if spec is _FIELDS[_WEEKDAY] and last == 0 and first > 0:
        last = 7  # "fri-sun" / "5-0": a week ending on Sunday
    if last < first:
        raise _fail(expr, spec, f"范围 {base!r} 起点大于终点")
    return first, last


def _item(item: str, spec: _FieldSpec, expr: str) -> set[int]:
    """Expand one comma-separated item of a field."""
    match = _ITEM.match(item)
    if match is None:
        raise _fail(expr, spec, f"无法解析 {item!r}")
    step_text = match.group("step")
    step = 1 if step_text is None else int(step_text)
    if step == 0:
        raise _fail(expr, spec, f"步长不能为 0（{item!r}）")
    first, last = _bounds(match.group("base"), step_text is not None, spec, expr)
    return set(range(first, last + 1, step))


def _field(text: str, spec: _FieldSpec, expr: str) -> _Parsed:
    """Expand a whole field into the set of values it matches."""
    values: set[int] = set()
    for item in text.lower().split(","):
        if not item:
            raise _fail(expr, spec, f"列表 {text!r} 中有空项")
        values |= _item(item, spec, expr)
    if spec is _FIELDS[_WEEKDAY] and 7 in values:
        values = (values - {7}) | {0}
    return _Parsed(frozenset(values), text.startswith("*"))


def _split_fields(expr: str) -> list[str]:
    """The five fields of ``expr`` (macros expanded) or a ``CronError`` naming the count."""
    text = expr.strip()
    text = _MACROS.get(text.lower(), text)
    if text.startswith("@"):
        known = "、".join(_MACROS)
        raise _fail(expr, None, f"不支持的简写 {text!r}（可用 {known}）")
    fields = text.split()
    if len(fields) != len(_FIELDS):
        raise _fail(expr, None, f"应为 5 个字段（分 时 日 月 周），实际 {len(fields)} 个")
    return fields


def _check_days(expr: str, day: _Parsed, month: _Parsed, weekday: _Parsed) -> None:
    """Refuse day-of-month plus weekday (OR in cron, AND here) and dates that never exist."""
    if not day.star and not weekday.star:
        raise _fail(
            expr,
            None,
            "不能同时限定日期和星期：标准 crontab 在两者任一满足时触发，"
            "本系统要求两者同时满足，含义会不同；请拆成两条计划",
        )
    if not any(d <= _MAX_DAYS_IN_MONTH[m - 1] for d in day.values for m in month.values):
        raise _fail(expr, _FIELDS[2], "所选日期在所选月份中不存在，计划永远不会触发")


def _aps(parsed: _Parsed, spec: _FieldSpec) -> str:
    """APScheduler text for a field: ``*`` when unrestricted, else an explicit list."""
    full = len(parsed.values) == spec.high - spec.low + (0 if spec is _FIELDS[_WEEKDAY] else 1)
    if full:
        return "*"
    if spec is _FIELDS[_WEEKDAY]:
        return ",".join(_APS_WEEKDAYS[v] for v in sorted(parsed.values))
    return ",".join(str(v) for v in sorted(parsed.values))


def parse_cron(expr: str, tz: ZoneInfo) -> CronTrigger:
    """A trigger for a standard five-field crontab expression, evaluated in ``tz``.

    Weekdays use crontab numbering (0 and 7 = Sunday); see the module doc for the syntax
    and what is refused. Raises ``CronError`` (a ``ValueError``) with a message naming
    the field and the problem.
    """
    texts = _split_fields(expr)
    minute, hour, day, month, weekday = (
        _field(text, spec, expr) for text, spec in zip(texts, _FIELDS, strict=True)
    )
    _check_days(expr, day, month, weekday)
    try:
        return CronTrigger(
            minute=_aps(minute, _FIELDS[0]),
            hour=_aps(hour, _FIELDS[1]),
            day=_aps(day, _FIELDS[2]),
            month=_aps(month, _FIELDS[3]),
            day_of_week=_aps(weekday, _FIELDS[4]),
            timezone=tz,
        )
    except ValueError as exc:  # defensive: our own checks should have caught it
        raise _fail(expr, None, str(exc)) from exc


_CN_WEEKDAYS = ("周日", "周一", "周二", "周三", "周四", "周五", "周六")
_MAX_TIMES_LISTED = 6


def describe_cron(expr: str) -> str:
    """A valid crontab as an admin reads it in Chinese: ``0 9 * * 1-5`` → 「周一至周五 09:00」,
    ``*/15 9-17 * * *`` → 「每天 09:00至17:45每15分钟」, ``0 0 1 1 *`` → 「1月1日 00:00」.
    Raises ``CronError`` for an invalid one (as ``parse_cron``)."""
    texts = _split_fields(expr)
    minute, hour, day, month, weekday = (
        _field(text, spec, expr) for text, spec in zip(texts, _FIELDS, strict=True)
    )
    return f"{_cn_days(day, month, weekday)} {_cn_times(minute.values, hour.values)}"


def _runs(values: list[int]) -> list[tuple[int, int]]:
    """Sorted values as runs of consecutive numbers."""
    runs: list[tuple[int, int]] = []
    for value in values:
        if runs and value == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], value)
        else:
            runs.append((value, value))
    return runs


def _cn_list(values: frozenset[int], name: Callable[[int], str], order: list[int]) -> str:
    """「周一至周五」「1、4、7、10月」: runs of three or more as 「a至b」, the rest listed."""
    parts: list[str] = []
    for first, last in _runs([v for v in order if v in values]):
        if last - first >= 2:
            parts.append(f"{name(first)}至{name(last)}")
        else:
            parts.extend(name(v) for v in range(first, last + 1))
    return "、".join(parts)


def _cn_days(day: _Parsed, month: _Parsed, weekday: _Parsed) -> str:
    all_months, all_days, all_weekdays = (
        len(month.values) == 12,
        len(day.values) == 31,
        len(weekday.values) == 7,
    )
    months = "" if all_months else _cn_list(month.values, lambda m: f"{m}月", list(range(1, 13)))
    if not all_weekdays:
        week_order = [1, 2, 3, 4, 5, 6, 0]  # Monday first, as an office calendar reads
        names = _cn_list(weekday.values, lambda d: _CN_WEEKDAYS[d], week_order)
        return f"{months}每{names}" if months else names
    if not all_days:
        days = _cn_list(day.values, lambda d: f"{d}日", list(range(1, 32)))
        return f"{months}{days}" if months else f"每月{days}"
    return f"{months}每天" if months else "每天"


def _cn_times(minutes: frozenset[int], hours: frozenset[int]) -> str:
    mins, hrs = sorted(minutes), sorted(hours)
    if len(mins) * len(hrs) <= _MAX_TIMES_LISTED:
        return "、".join(f"{h:02d}:{m:02d}" for h in hrs for m in mins)
    if len(mins) == 1 and len(hrs) == 24:
        return f"每小时第{mins[0]}分"
    steps = {b - a for a, b in itertools.pairwise(mins)}
    step = steps.pop() if len(steps) == 1 else 0
    whole_hour = step and mins[0] < step and 60 - mins[-1] <= step
    if whole_hour and len(_runs(hrs)) == 1:
        first, last = f"{hrs[0]:02d}:{mins[0]:02d}", f"{hrs[-1]:02d}:{mins[-1]:02d}"
        return f"{first}至{last}每{step if step > 1 else ''}分钟"
    hour_text = _cn_list(hours, lambda h: f"{h}时", list(range(24)))
    minute_text = "、".join(str(m) for m in mins)
    return f"{hour_text}的第{minute_text}分"


def next_fire_times(trigger: BaseTrigger, after: dt.datetime, count: int = 3) -> list[dt.datetime]:
    """The next ``count`` fire times strictly after ``after`` (aware), in the trigger's zone.

    Shown next to every configured schedule so that a mistaken expression is visible
    before it silently fires on the wrong days. Fewer are returned if the trigger ends.
    """
    if after.tzinfo is None or after.utcoffset() is None:
        msg = f"需要带时区的时间（aware datetime），收到无时区时间 {after.isoformat()}"
        raise ValueError(msg)
    times: list[dt.datetime] = []
    moment = after
    while len(times) < count:
        fire = trigger.get_next_fire_time(None, moment + dt.timedelta(microseconds=1))
        if fire is None:
            break
        times.append(fire)
        moment = fire
    return times
