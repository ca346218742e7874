"""Crontab parsing: standard weekday numbering onto APScheduler, and clear errors."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.cron import CronError, next_fire_times, parse_cron

TZ = ZoneInfo("Asia/Shanghai")
SUNDAY = dt.datetime(2024, 6, 2, 0, 0, tzinfo=TZ)  # a known Sunday
FAST = settings(max_examples=200, deadline=None)


def crontab_weekday(moment: dt.datetime) -> int:
    """Python's weekday in crontab numbering (0 = Sunday)."""
    return moment.isoweekday() % 7


def fires(expr: str, count: int = 7, after: dt.datetime = SUNDAY) -> list[dt.datetime]:
    return next_fire_times(parse_cron(expr, TZ), after, count)


def test_weekdays_one_to_five_are_monday_to_friday() -> None:
    times = fires("0 9 * * 1-5", 6)
    assert [t.strftime("%a %m-%d %H:%M") for t in times] == [
        "Mon 06-03 09:00",
        "Tue 06-04 09:00",
        "Wed 06-05 09:00",
        "Thu 06-06 09:00",
        "Fri 06-07 09:00",
        "Mon 06-10 09:00",
    ]
    assert all(t.utcoffset() == dt.timedelta(hours=8) for t in times)


def test_the_library_shortcut_really_is_off_by_one() -> None:
    # Why parse_cron exists: from_crontab reads 1-5 as Tuesday..Saturday.
    trap = CronTrigger.from_crontab("0 9 * * 1-5", timezone=TZ)
    assert next_fire_times(trap, SUNDAY, 1)[0].strftime("%a") == "Tue"


@pytest.mark.parametrize("weekday", ["0", "7", "sun", "SUN", "Sun"])
def test_sunday_spellings(weekday: str) -> None:
    times = fires(f"0 9 * * {weekday}", 3)
    assert [t.date() for t in times] == [
        dt.date(2024, 6, 2),
        dt.date(2024, 6, 9),
        dt.date(2024, 6, 16),
    ]
    assert all(t.hour == 9 and t.minute == 0 for t in times)


@pytest.mark.parametrize(
    ("weekday", "expected"),
    [
        ("mon-fri", {1, 2, 3, 4, 5}),
        ("mon,wed,fri", {1, 3, 5}),
        ("sat-sun", {6, 0}),
        ("5-7", {5, 6, 0}),
        ("fri-0", {5, 6, 0}),
        ("0-6", {0, 1, 2, 3, 4, 5, 6}),
        ("1-7", {0, 1, 2, 3, 4, 5, 6}),
        ("*/2", {0, 2, 4, 6}),
        ("1-5/2", {1, 3, 5}),
        ("6", {6}),
        ("tue,4", {2, 4}),
        ("3/2", {3, 5, 0}),  # 3-7/2: wed, fri, sun
    ],
)
def test_weekday_forms(weekday: str, expected: set[int]) -> None:
    times = fires(f"30 8 * * {weekday}", 14)
    assert {crontab_weekday(t) for t in times} == expected


@FAST
@given(
    st.sets(st.integers(min_value=0, max_value=7), min_size=1),
    st.sets(st.integers(min_value=0, max_value=59), min_size=1, max_size=3),
    st.sets(st.integers(min_value=0, max_value=23), min_size=1, max_size=3),
)
def test_fire_times_match_the_standard_meaning(
    weekdays: set[int], minutes: set[int], hours: set[int]
) -> None:
    expr = (
        f"{','.join(map(str, sorted(minutes)))} {','.join(map(str, sorted(hours)))} * * "
        f"{','.join(map(str, sorted(weekdays)))}"
    )
    wanted = {d % 7 for d in weekdays}
    times = fires(expr, count=len(minutes) * len(hours) * len(wanted) * 2)
    assert {crontab_weekday(t) for t in times} == wanted
    assert {t.minute for t in times} == minutes
    assert {t.hour for t in times} == hours
    assert times == sorted(times)
    assert len(set(times)) == len(times)
    assert times[0] > SUNDAY
    # the window spans exactly two weeks of matches: nothing beyond 14 days out
    assert times[-1] - times[0] < dt.timedelta(days=14)


def test_months_days_and_macros() -> None:
    assert [t.date() for t in fires("0 9 1 jan,jul *", 3)] == [
        dt.date(2024, 7, 1),
        dt.date(2025, 1, 1),
        dt.date(2025, 7, 1),
    ]
    assert [t.date() for t in fires("0 9 31 * *", 2)] == [
        dt.date(2024, 7, 31),
        dt.date(2024, 8, 31),
    ]
    assert fires("0 9 29 2 *", 1)[0].date() == dt.date(2028, 2, 29)
    assert fires("@daily", 1)[0] == dt.datetime(2024, 6, 3, 0, 0, tzinfo=TZ)
    assert fires("@weekly", 1)[0] == dt.datetime(2024, 6, 9, 0, 0, tzinfo=TZ)
    assert fires("@monthly", 1)[0] == dt.datetime(2024, 7, 1, 0, 0, tzinfo=TZ)
    assert [t.minute for t in fires("*/20 9 * * *", 3)] == [0, 20, 40]
    # a stepped day-of-month with a weekday is allowed: both classic cron and APScheduler AND them
    assert {t.day % 2 for t in fires("0 9 */2 * mon", 5)} == {1}


def test_timezone_is_the_given_one() -> None:
    utc = ZoneInfo("UTC")
    [first] = next_fire_times(parse_cron("0 9 * * *", utc), SUNDAY, 1)
    assert first == dt.datetime(2024, 6, 2, 9, 0, tzinfo=utc)
    assert first.utcoffset() == dt.timedelta(0)


def test_next_fire_times_are_strictly_after() -> None:
    trigger = parse_cron("0 9 * * *", TZ)
    exactly = dt.datetime(2024, 6, 3, 9, 0, tzinfo=TZ)
    assert next_fire_times(trigger, exactly, 1) == [dt.datetime(2024, 6, 4, 9, 0, tzinfo=TZ)]
    just_before = exactly - dt.timedelta(microseconds=1)
    assert next_fire_times(trigger, just_before, 1) == [exactly]
    assert next_fire_times(trigger, exactly, 0) == []
    assert len(next_fire_times(trigger, exactly)) == 3


def test_next_fire_times_rejects_naive() -> None:
    with pytest.raises(ValueError, match="时区"):
        next_fire_times(parse_cron("0 9 * * *", TZ), dt.datetime(2024, 6, 2), 1)


@pytest.mark.parametrize(
    ("expr", "fragments"),
    [
        ("0 9 * *", ["5 个字段", "4 个"]),
        ("0 9 * * 1-5 2024", ["5 个字段", "6 个"]),
        ("", ["5 个字段", "0 个"]),
        ("0 9 * * 8", ["星期", "8", "0-7"]),
        ("60 9 * * *", ["分钟", "60", "0-59"]),
        ("0 24 * * *", ["小时", "24"]),
        ("0 9 0 * *", ["日期", "0", "1-31"]),
        ("0 9 * 13 *", ["月份", "13"]),
        ("0 9 * * funday", ["星期", "funday"]),
        ("x 9 * * *", ["分钟", "'x'"]),
        ("0 9 * * 5-1", ["星期", "5-1", "起点大于终点"]),
        ("*/0 9 * * *", ["分钟", "步长"]),
        ("0 9 * * 1,", ["星期", "空项"]),
        ("0 9 ? * *", ["日期", "'?'"]),
        ("0 9 L * *", ["日期", "'l'"]),
        ("0 9 1 * 1", ["同时限定日期和星期"]),
        ("0 9 30 2 *", ["永远不会触发"]),
        ("0 9 31 4,6 *", ["永远不会触发"]),
        ("@reboot", ["@reboot"]),
        ("-1 9 * * *", ["分钟", "'-1'"]),
        ("0 9 * * 1-", ["星期", "'1-'"]),
    ],
)
def test_invalid_expressions_say_what_is_wrong(expr: str, fragments: list[str]) -> None:
    with pytest.raises(CronError) as caught:
        parse_cron(expr, TZ)
    message = str(caught.value)
    assert repr(expr) in message
    for fragment in fragments:
        assert fragment in message
    assert isinstance(caught.value, ValueError)
    assert caught.value.expr == expr
