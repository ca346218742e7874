"""WorkingCalendar against chinese_calendar's own answers, plus overrides, fallback and hours."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import chinese_calendar as cc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.calendar import WorkingCalendar
from domain.holiday_notice import NoticeDays

TZ = ZoneInfo("Asia/Shanghai")
D = dt.date
ONE = dt.timedelta(days=1)

# Dates well inside the years chinese_calendar covers (2004-2026), leaving room for |n| <= 40.
COVERED = st.dates(min_value=D(2004, 3, 1), max_value=D(2026, 10, 31))
STEPS = st.integers(min_value=-40, max_value=40)
FAST = settings(max_examples=200, deadline=None)

CAL = WorkingCalendar()
# Years no chinesecalendar release will cover while these tests live (they stay uncovered),
# each with the weekday layout the expectations below were worked out for.
UNCOVERED = 2087  # like 2031: starts on a Wednesday, not a leap year
UNCOVERED_LEAP = 2084  # like 2028: starts on a Saturday, a leap year
FIXED_HOLIDAYS = {(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)}  # 元旦, 劳动节, 国庆节


def last_covered_year() -> int:
    """The last year the installed chinesecalendar knows (2026 for 1.11; later releases more)."""
    year = 2004
    while True:
        try:
            cc.is_workday(D(year + 1, 6, 1))
        except NotImplementedError:
            return year
        year += 1


def at(day: dt.date, hour: int, minute: int = 0, tz: ZoneInfo = TZ) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=tz)


def oracle_count(after: dt.date, upto: dt.date) -> int:
    """Working days in (after, upto] per chinese_calendar."""
    if upto <= after:
        return 0
    return len(cc.get_workdays(after + ONE, upto))


# -- agreement with chinese_calendar --------------------------------------------------------


def test_every_covered_day_matches_chinese_calendar() -> None:
    day = D(2004, 1, 1)
    mismatches = []
    while day <= D(2026, 12, 31):
        if CAL.is_working_day(day) != cc.is_workday(day):
            mismatches.append(day)
        day += ONE
    assert mismatches == []
    assert CAL.uncovered_years == set()


@FAST
@given(COVERED, STEPS)
def test_add_working_days_lands_on_a_working_day(day: dt.date, n: int) -> None:
    assert cc.is_workday(CAL.add_working_days(day, n))


@FAST
@given(COVERED, STEPS)
def test_add_working_days_skips_exactly_n_working_days(day: dt.date, n: int) -> None:
    result = CAL.add_working_days(day, n)
    if n > 0:
        assert result > day
        assert oracle_count(day, result) == n
    elif n < 0:
        assert result < day
        # result itself, plus |n| - 1 working days strictly between result and day
        assert len(cc.get_workdays(result, day - ONE)) == -n
    else:
        assert result >= day
        assert cc.get_workdays(day, result) == [result]


@FAST
@given(
    st.dates(min_value=D(2004, 8, 1), max_value=D(2026, 6, 1)),
    st.integers(min_value=-200, max_value=200),
)
def test_between_matches_oracle_and_is_antisymmetric(a: dt.date, span: int) -> None:
    b = a + ONE * span
    expected = oracle_count(a, b) if a <= b else -oracle_count(b, a)
    assert CAL.working_days_between(a, b) == expected
    assert CAL.working_days_between(b, a) == -expected


@FAST
@given(COVERED, COVERED, COVERED)
def test_between_is_additive(a: dt.date, b: dt.date, c: dt.date) -> None:
    total = CAL.working_days_between(a, b) + CAL.working_days_between(b, c)
    assert total == CAL.working_days_between(a, c)


@FAST
@given(COVERED, STEPS)
def test_round_trip_add_then_between(day: dt.date, n: int) -> None:
    result = CAL.add_working_days(day, n)
    between = CAL.working_days_between(day, result)
    if cc.is_workday(day) or n > 0:
        assert between == n
    elif n == 0:
        assert between == 1  # rounded forward to the next working day
    else:
        assert between == n + 1  # a non-working start is not counted going back


@FAST
@given(COVERED, st.dates(min_value=D(2004, 6, 1), max_value=D(2026, 6, 30)))
def test_round_trip_between_then_add(start: dt.date, end: dt.date) -> None:
    end = CAL.add_working_days(end, 0)  # any working day
    back = CAL.add_working_days(start, CAL.working_days_between(start, end))
    if cc.is_workday(start) or end >= start:
        assert back == end
    else:
        assert back == CAL.add_working_days(end, 1)


# -- the cases everyone checks by hand ------------------------------------------------------


@pytest.mark.parametrize(
    "day",
    [D(2024, 2, 4), D(2024, 2, 18), D(2024, 9, 29), D(2024, 10, 12)],
    ids=["spring-sun-before", "spring-sun-after", "national-sun-before", "national-sat-after"],
)
def test_adjusted_weekends_are_working_days(day: dt.date) -> None:
    assert day.weekday() >= 5
    assert CAL.is_working_day(day)


def test_national_day_and_spring_festival_blocks_are_off() -> None:
    national = [D(2024, 10, 1) + ONE * i for i in range(7)]
    spring = [D(2024, 2, 10) + ONE * i for i in range(8)]
    assert [d for d in national + spring if CAL.is_working_day(d)] == []


def test_counting_across_the_national_day_block() -> None:
    assert CAL.add_working_days(D(2024, 10, 8), -1) == D(2024, 9, 30)
    assert CAL.add_working_days(D(2024, 9, 30), 1) == D(2024, 10, 8)
    # 2024-09-29 (Sunday) was worked in exchange for the holiday
    assert CAL.add_working_days(D(2024, 10, 8), -2) == D(2024, 9, 29)
    assert CAL.add_working_days(D(2024, 10, 8), -5) == D(2024, 9, 25)
    assert CAL.add_working_days(D(2024, 10, 8), 4) == D(2024, 10, 12)
    assert CAL.working_days_between(D(2024, 9, 30), D(2024, 10, 8)) == 1
    assert CAL.add_working_days(D(2024, 10, 3), 0) == D(2024, 10, 8)


def test_counting_across_the_spring_festival_block() -> None:
    assert CAL.add_working_days(D(2024, 2, 9), 1) == D(2024, 2, 18)
    assert CAL.add_working_days(D(2024, 2, 18), -1) == D(2024, 2, 9)
    assert CAL.working_days_between(D(2024, 2, 9), D(2024, 2, 18)) == 1
    assert CAL.add_working_days(D(2024, 2, 3), 1) == D(2024, 2, 4)


def test_zero_keeps_a_working_day_and_rounds_others_forward() -> None:
    assert CAL.add_working_days(D(2024, 10, 8), 0) == D(2024, 10, 8)
    assert CAL.add_working_days(D(2024, 6, 29), 0) == D(2024, 7, 1)  # Saturday
    assert CAL.working_days_between(D(2024, 6, 29), D(2024, 6, 29)) == 0


def test_large_steps_cross_years() -> None:
    start = D(2015, 6, 1)
    target = CAL.add_working_days(start, 2000)
    assert oracle_count(start, target) == 2000
    assert CAL.add_working_days(target, -2000) == start


# -- years without data, overrides ----------------------------------------------------------


def test_uncovered_year_falls_back_to_weekdays_and_reports_once() -> None:
    calls: list[int] = []
    cal = WorkingCalendar(on_uncovered_year=calls.append)
    fixed = FIXED_HOLIDAYS
    y = UNCOVERED
    day = D(y, 1, 1)
    while day.year == y:
        assert cal.is_working_day(day) == (day.weekday() < 5 and (day.month, day.day) not in fixed)
        day += ONE
    assert cal.add_working_days(D(y, 10, 3), 1) == D(y, 10, 6)
    # 261 weekdays in the year (it starts on a Wednesday), less the start day and the five other
    # fixed-date holidays on weekdays (5-1 Thu, 5-2 Fri, 10-1 Wed, 10-2 Thu, 10-3 Fri).
    assert cal.working_days_between(D(y, 1, 1), D(y, 12, 31)) == 255
    assert calls == [y]
    assert cal.uncovered_years == {y}


def test_counting_into_an_uncovered_year_never_raises() -> None:
    calls: list[int] = []
    cal = WorkingCalendar(on_uncovered_year=calls.append)
    last = last_covered_year()  # whichever it is: the step into the next one is the point

    def official_then_fallback(day: dt.date) -> bool:
        if day.year <= last:
            return bool(cc.is_workday(day))
        return day.weekday() < 5 and (day.month, day.day) not in FIXED_HOLIDAYS

    expected, left = D(last, 12, 30), 3
    while left:
        expected += ONE
        left -= official_then_fallback(expected)
    assert expected.year == last + 1  # 元旦 is off even without the notice
    assert cal.add_working_days(D(last, 12, 30), 3) == expected
    assert cal.add_working_days(D(2004, 1, 2), -2) == D(2003, 12, 30)  # 01-01 is off
    assert sorted(calls) == [2003, last + 1]
    assert cal.uncovered_years == {2003, last + 1}


def test_uncovered_year_without_callback_still_works() -> None:
    cal = WorkingCalendar()
    assert cal.is_working_day(D(UNCOVERED, 3, 5))  # a Wednesday
    assert cal.uncovered_years == {UNCOVERED}


def test_overrides_win_over_the_official_schedule() -> None:
    cal = WorkingCalendar(
        extra_holidays=frozenset({D(2024, 10, 8), D(UNCOVERED, 3, 3)}),
        extra_workdays=frozenset({D(2024, 10, 3), D(UNCOVERED, 3, 1)}),
    )
    assert not cal.is_working_day(D(2024, 10, 8))
    assert cal.is_working_day(D(2024, 10, 3))
    assert not cal.is_working_day(D(UNCOVERED, 3, 3))  # a Monday in a fallback year
    assert cal.is_working_day(D(UNCOVERED, 3, 1))  # a Saturday in a fallback year
    assert cal.add_working_days(D(2024, 9, 30), 1) == D(2024, 10, 3)
    assert cal.add_working_days(D(2024, 9, 30), 2) == D(2024, 10, 9)


def test_a_date_cannot_be_both_holiday_and_workday() -> None:
    with pytest.raises(ValueError, match="2024-10-08"):
        WorkingCalendar(
            extra_holidays=frozenset({D(2024, 10, 8)}),
            extra_workdays=frozenset({D(2024, 10, 8)}),
        )


def naive_add(cal: WorkingCalendar, day: dt.date, n: int) -> dt.date:
    """Day-by-day reference for add_working_days, using only is_working_day."""
    if n == 0:
        while not cal.is_working_day(day):
            day += ONE
        return day
    step = ONE if n > 0 else -ONE
    left = abs(n)
    while left:
        day += step
        if cal.is_working_day(day):
            left -= 1
    return day


@settings(max_examples=60, deadline=None)
@given(
    st.frozensets(st.dates(min_value=D(2025, 11, 1), max_value=D(2027, 3, 1)), max_size=30),
    st.frozensets(st.dates(min_value=D(2025, 11, 1), max_value=D(2027, 3, 1)), max_size=30),
    st.dates(min_value=D(2025, 6, 1), max_value=D(2027, 6, 1)),
    st.integers(min_value=-400, max_value=400),
)
def test_fast_arithmetic_matches_a_day_by_day_walk(
    holidays: frozenset[dt.date], workdays: frozenset[dt.date], day: dt.date, n: int
) -> None:
    cal = WorkingCalendar(extra_holidays=holidays - workdays, extra_workdays=workdays)
    result = cal.add_working_days(day, n)
    assert result == naive_add(cal, day, n)
    assert cal.is_working_day(result)


# -- working hours --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (at(D(2024, 10, 9), 9), True),
        (at(D(2024, 10, 9), 8, 59), False),
        (at(D(2024, 10, 9), 17, 59), True),
        (at(D(2024, 10, 9), 18), False),
        (at(D(2024, 10, 12), 10), True),  # adjusted Saturday
        (at(D(2024, 10, 13), 10), False),  # ordinary Sunday
        (at(D(2024, 10, 3), 10), False),  # National Day
        (at(D(2024, 10, 12), 2, tz=ZoneInfo("UTC")), True),  # 10:00 in Shanghai
        (at(D(2024, 10, 9), 10, tz=ZoneInfo("UTC")), False),  # 18:00 in Shanghai
    ],
)
def test_is_working_time(moment: dt.datetime, expected: bool) -> None:
    assert CAL.is_working_time(moment) is expected


def test_naive_datetimes_are_rejected() -> None:
    with pytest.raises(ValueError, match="时区"):
        CAL.is_working_time(dt.datetime(2024, 10, 9, 10))
    with pytest.raises(ValueError, match="时区"):
        CAL.next_working_time(dt.datetime(2024, 10, 9, 10))


def test_next_working_time_defers_to_the_next_working_period() -> None:
    inside = at(D(2024, 10, 9), 10, 30)
    assert CAL.next_working_time(inside) == inside
    assert CAL.next_working_time(at(D(2024, 10, 9), 7)) == at(D(2024, 10, 9), 9)
    # Friday evening before National Day: Sunday 09-29 is worked
    assert CAL.next_working_time(at(D(2024, 9, 27), 20)) == at(D(2024, 9, 29), 9)
    assert CAL.next_working_time(at(D(2024, 9, 30), 18)) == at(D(2024, 10, 8), 9)
    utc_evening = at(D(2024, 10, 9), 12, tz=ZoneInfo("UTC"))  # 20:00 in Shanghai
    deferred = CAL.next_working_time(utc_evening)
    assert deferred == at(D(2024, 10, 10), 9)
    assert deferred.tzinfo == TZ


def test_custom_hours() -> None:
    cal = WorkingCalendar(work_start=dt.time(8, 30), work_end=dt.time(17, 30))
    assert cal.is_working_time(at(D(2024, 10, 9), 8, 30))
    assert not cal.is_working_time(at(D(2024, 10, 9), 17, 30))
    assert cal.next_working_time(at(D(2024, 10, 9), 17, 30)) == at(D(2024, 10, 10), 8, 30)
    with pytest.raises(ValueError, match="早于"):
        WorkingCalendar(work_start=dt.time(18), work_end=dt.time(9))


@FAST
@given(
    st.datetimes(
        min_value=dt.datetime(2004, 3, 1),
        max_value=dt.datetime(2026, 10, 31),
        timezones=st.sampled_from([TZ, ZoneInfo("UTC"), ZoneInfo("America/New_York")]),
    )
)
def test_next_working_time_is_the_first_working_moment(moment: dt.datetime) -> None:
    result = CAL.next_working_time(moment)
    assert result >= moment
    assert CAL.is_working_time(result)
    if CAL.is_working_time(moment):
        assert result == moment
    else:
        assert result.timetz().replace(tzinfo=None) == dt.time(9)
        # no working day lies strictly between the moment's local date and the result
        local = moment.astimezone(TZ)
        day = local.date() + ONE
        while day < result.date():
            assert not cc.is_workday(day)
            day += ONE


# -- recorded notices: the order of authority -------------------------------------------------

NOTICE_2027 = NoticeDays(
    2027,
    holidays=frozenset({D(2026, 12, 31), D(2027, 10, 7)}),  # a notice may name December days
    workdays=frozenset({D(2027, 9, 26)}),
    sha256="ab" * 32,
)
NOTICE_2024 = NoticeDays(2024, frozenset({D(2024, 3, 5)}), frozenset(), sha256="cd" * 32)


def test_a_recorded_notice_decides_its_year() -> None:
    calendar = WorkingCalendar(notices={2027: NOTICE_2027})
    assert calendar.is_working_day(D(2027, 9, 26))  # a 调休 Sunday
    assert not calendar.is_working_day(D(2027, 10, 7))  # a holiday Thursday
    assert calendar.is_working_day(D(2027, 10, 8))
    assert not calendar.is_working_day(D(2027, 10, 9))
    assert not calendar.is_working_day(D(2026, 12, 31))  # named by next year's notice
    assert calendar.uncovered_years == set()
    assert calendar.add_working_days(D(2027, 9, 27), -1) == D(2027, 9, 26)
    assert calendar.add_working_days(D(2027, 10, 6), 1) == D(2027, 10, 8)


def test_a_notice_comes_before_chinesecalendar_and_the_config_before_both() -> None:
    calendar = WorkingCalendar(
        notices={2024: NOTICE_2024},
        extra_workdays=frozenset({D(2024, 3, 5)}),
        extra_holidays=frozenset({D(2024, 3, 6)}),
    )
    assert calendar.is_working_day(D(2024, 3, 5))  # config over the notice
    assert not calendar.is_working_day(D(2024, 3, 6))
    assert calendar.is_working_day(D(2024, 10, 1))  # the notice, not chinesecalendar, decides
    assert not WorkingCalendar(notices={2024: NOTICE_2024}).is_working_day(D(2024, 3, 5))


def test_each_day_names_its_source_and_the_version_names_the_data() -> None:
    calendar = WorkingCalendar(
        notices={2027: NOTICE_2027},
        extra_holidays=frozenset({D(2027, 2, 1), D(UNCOVERED_LEAP, 1, 3)}),
    )
    days = {(d.day, d.kind, d.source) for d in calendar.year_days(2027)}
    assert days == {
        (D(2027, 10, 7), "holiday", "notice"),
        (D(2027, 9, 26), "workday", "notice"),
        (D(2027, 2, 1), "holiday", "config"),
    }
    assert {d.source for d in calendar.year_days(2026)} == {"chinesecalendar", "notice"}
    assert (D(2026, 12, 31), "holiday", "notice") in {
        (d.day, d.kind, d.source) for d in calendar.year_days(2026)
    }
    # UNCOVERED_LEAP falls back: the fixed-date holidays on weekdays (5-1, 5-2, 10-2, 10-3)
    # and 1-3 from the config.
    y = UNCOVERED_LEAP
    assert [(d.day, d.source) for d in calendar.year_days(y)] == [
        (D(y, 1, 3), "config"),
        (D(y, 5, 1), "fallback"),
        (D(y, 5, 2), "fallback"),
        (D(y, 10, 2), "fallback"),
        (D(y, 10, 3), "fallback"),
    ]
    assert [calendar.source_of_year(y) for y in (2026, 2027, UNCOVERED_LEAP)] == [
        "chinesecalendar",
        "notice",
        "fallback",
    ]
    version = calendar.version([2027, 2026, UNCOVERED_LEAP])
    assert version.startswith("2026:chinesecalendar 1.")
    assert f"2027:通知{'ab' * 6}；{UNCOVERED_LEAP}:周一至周五；配置" in version
    assert WorkingCalendar().version([2024]).startswith("2024:chinesecalendar")
    assert WorkingCalendar().fingerprint() == ""
    assert calendar.fingerprint() == f"2027:{'ab' * 32}"


@FAST
@given(st.dates(min_value=D(2027, 1, 1), max_value=D(2027, 12, 31)))
def test_a_notice_year_without_the_day_is_monday_to_friday(day: dt.date) -> None:
    calendar = WorkingCalendar(notices={2027: NOTICE_2027})
    if day in NOTICE_2027.holidays or day in NOTICE_2027.workdays:
        assert calendar.is_working_day(day) == (day in NOTICE_2027.workdays)
    else:
        assert calendar.is_working_day(day) == (day.weekday() < 5)
