"""Working-day schedules (`scheduler.triggers`): the parser and the APScheduler trigger.

The trigger is checked against a day-by-day reference that only asks the calendar
`is_working_day`: the next fire time is always a working day at one of the rule's times, is
the n-th working day of its period, and no earlier moment after the start would have fired.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.calendar import WorkingCalendar
from scheduler.cron import CronError, next_fire_times
from scheduler.jobs import JobSpec, Schedule
from scheduler.triggers import (
    PERIODS,
    WorkdayRule,
    WorkdayTrigger,
    check_schedule,
    parse_schedule,
    parse_workday_rule,
)

TZ = ZoneInfo("Asia/Shanghai")
CAL = WorkingCalendar(tz=TZ)
D = dt.date
ONE = dt.timedelta(days=1)


def at(day: dt.date, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


def fires(expr: str, after: dt.datetime, count: int = 3, cal: WorkingCalendar = CAL) -> list[str]:
    trigger = parse_schedule(expr, TZ, cal)
    return [f"{t:%Y-%m-%d %H:%M}" for t in next_fire_times(trigger, after, count)]


# ---- the reference: day by day, asking only is_working_day ------------------------------------


def period_start(day: dt.date, period: str) -> dt.date:
    months = PERIODS[period]
    return D(day.year, (day.month - 1) // months * months + 1, 1)


def working_days_of_period(day: dt.date, period: str, cal: WorkingCalendar) -> list[dt.date]:
    start = period_start(day, period)
    found, cursor = [], start
    while cursor == start or period_start(cursor, period) == start:
        if cal.is_working_day(cursor):
            found.append(cursor)
        cursor += ONE
    return found


def reference_on(rule: WorkdayRule, day: dt.date, cal: WorkingCalendar) -> bool:
    if not cal.is_working_day(day):
        return False
    if rule.period is None:
        return True
    days = working_days_of_period(day, rule.period, cal)
    index = rule.n - 1 if rule.n > 0 else len(days) + rule.n
    return 0 <= index < len(days) and days[index] == day


def reference_next(rule: WorkdayRule, after: dt.datetime, cal: WorkingCalendar) -> dt.datetime:
    day = after.date()
    while True:
        if reference_on(rule, day, cal):
            later = [
                at(day, t.hour, t.minute) for t in rule.times if at(day, t.hour, t.minute) > after
            ]
            if later:
                return later[0]
        day += ONE


# ---- the parser ---------------------------------------------------------------------------------


def test_the_documented_forms_parse() -> None:
    assert parse_workday_rule("every workday 09:00") == WorkdayRule(None, 0, (dt.time(9),))
    assert parse_workday_rule("  Workday  3  OF  Month 10:00 ") == WorkdayRule(
        "month", 3, (dt.time(10),)
    )
    assert parse_workday_rule("workday -1 of quarter 16:30").n == -1
    assert parse_workday_rule("workday 10 of year 10:00").period == "year"
    rule = parse_workday_rule("every workday 17:30,09:00,12:00,09:00")
    assert rule.times == (dt.time(9), dt.time(12), dt.time(17, 30))


def test_a_time_range_covers_its_ends_at_the_step() -> None:
    rule = parse_workday_rule("every workday 09:00-17:45/15m")
    assert len(rule.times) == 36
    assert (rule.times[0], rule.times[1], rule.times[-1]) == (
        dt.time(9),
        dt.time(9, 15),
        dt.time(17, 45),
    )
    every_minute = parse_workday_rule("every workday 09:00-18:59/1m")
    assert len(every_minute.times) == 10 * 60


@pytest.mark.parametrize(
    ("expr", "words"),
    [
        ("every day 09:00", "every workday"),
        ("every workday", "every workday"),
        ("every workday 9:00", "HH:MM"),
        ("every workday 24:00", "HH:MM"),
        ("every workday 09:00,,10:00", "空项"),
        ("every workday 17:00-09:00/15m", "起点晚于终点"),
        ("every workday 09:00-17:00/0m", "间隔"),
        ("every workday 09:00-17:00/15", "HH:MM"),
        ("workday 0 of month 09:00", "超出范围"),
        ("workday 24 of month 09:00", "超出范围"),
        ("workday 1 of week 09:00", "month、quarter 或 year"),
        ("workday one of month 09:00", "workday N of"),
        ("workday 1 of month", "workday N of"),
    ],
)
def test_a_bad_rule_is_refused_with_what_is_wrong(expr: str, words: str) -> None:
    with pytest.raises(CronError) as caught:
        check_schedule(expr, TZ)
    assert words in caught.value.message
    assert repr(expr) in caught.value.message


def test_a_plain_crontab_stays_accepted_and_checked() -> None:
    check_schedule("0 9 * * 1-5", TZ)
    with pytest.raises(CronError, match="1-8"):
        check_schedule("0 9 * * 1-8", TZ)
    assert fires("0 9 * * 1-5", at(D(2024, 10, 11), 10), 1) == ["2024-10-14 09:00"]


@given(st.text(max_size=40))
def test_any_text_is_a_schedule_or_a_named_refusal(text: str) -> None:
    try:
        check_schedule(text, TZ)
    except CronError as exc:  # never another exception
        message = exc.message
    else:
        message = "accepted"
    assert message


# ---- the trigger, on the official calendar ------------------------------------------------------


def test_a_working_weekend_day_is_served_and_a_holiday_is_not() -> None:
    friday_evening = at(D(2024, 10, 11), 17, 50)
    assert fires("every workday 09:00-17:45/15m", friday_evening, 2) == [
        "2024-10-12 09:00",  # Saturday, an official working day (调休)
        "2024-10-12 09:15",
    ]
    assert fires("every workday 17:30", at(D(2024, 9, 30), 18)) == [
        "2024-10-08 17:30",  # National Day 10-01..07 is skipped
        "2024-10-09 17:30",
        "2024-10-10 17:30",
    ]


def test_the_default_jobs_land_on_the_right_working_days_in_2024() -> None:
    start = at(D(2024, 9, 20))
    assert fires("workday 1 of month 09:00", start, 2) == ["2024-10-08 09:00", "2024-11-01 09:00"]
    assert fires("workday 3 of month 10:00", start, 1) == ["2024-10-10 10:00"]
    assert fires("workday 5 of quarter 10:00", start, 2) == ["2024-10-12 10:00", "2025-01-08 10:00"]
    assert fires("workday 10 of year 10:00", start, 1) == ["2025-01-15 10:00"]
    assert fires("workday -1 of month 16:00", start, 2) == ["2024-09-30 16:00", "2024-10-31 16:00"]


def test_a_fire_time_itself_is_due_and_the_next_is_strictly_later() -> None:
    trigger = parse_schedule("workday 1 of month 09:00", TZ, CAL)
    nine = at(D(2024, 10, 8), 9)
    assert trigger.get_next_fire_time(None, nine) == nine
    a_second_later = nine + dt.timedelta(seconds=1)
    assert trigger.get_next_fire_time(nine, a_second_later) == at(D(2024, 11, 1), 9)
    missed = trigger.get_next_fire_time(at(D(2024, 9, 2), 9), at(D(2024, 10, 20)))
    assert missed == nine  # what APScheduler counts as missed while it was down


def test_overrides_move_the_rule_with_the_calendar() -> None:
    cal = WorkingCalendar(extra_holidays=frozenset({D(2024, 11, 1)}), tz=TZ)
    assert fires("workday 1 of month 09:00", at(D(2024, 10, 9)), 1, cal) == ["2024-11-04 09:00"]


def test_a_period_too_short_for_n_is_skipped() -> None:
    cal = WorkingCalendar(extra_holidays=frozenset(D(2024, 2, d) for d in range(1, 30)), tz=TZ)
    assert fires("workday 1 of month 09:00", at(D(2024, 1, 31), 10), 1, cal) == ["2024-03-01 09:00"]


def test_the_trigger_is_an_apscheduler_trigger_in_the_zone() -> None:
    schedule = Schedule([JobSpec("round", "workday 1 of month 09:00", lambda now: None)], TZ, CAL)
    scheduler = BackgroundScheduler(timezone=TZ)
    schedule.add_to(scheduler, lambda job: None)
    (job,) = scheduler.get_jobs()
    assert isinstance(job.trigger, WorkdayTrigger)
    assert job.trigger.timezone == TZ
    assert "workday 1 of month 09:00" in repr(job.trigger)


# ---- properties against the reference -----------------------------------------------------------

rules = st.one_of(
    st.builds(
        WorkdayRule,
        st.sampled_from(["month", "quarter", "year"]),
        st.one_of(st.integers(1, 15), st.integers(-15, -1)),
        st.just((dt.time(9),)),
    ),
    st.builds(WorkdayRule, st.none(), st.just(0), st.just((dt.time(9), dt.time(17, 30)))),
)
moments = st.datetimes(min_value=dt.datetime(2019, 6, 1), max_value=dt.datetime(2028, 6, 1)).map(
    lambda m: m.replace(tzinfo=TZ)
)


@settings(max_examples=150, deadline=None)
@given(rules, moments)
def test_the_next_fire_is_the_first_working_day_of_the_rule_at_its_time(
    rule: WorkdayRule, after: dt.datetime
) -> None:
    trigger = WorkdayTrigger(rule, CAL, TZ, "generated")
    (fire,) = next_fire_times(trigger, after, 1)
    assert fire > after
    assert CAL.is_working_day(fire.date())
    assert fire.timetz().replace(tzinfo=None) in rule.times
    assert reference_on(rule, fire.date(), CAL)  # the n-th working day of its period
    assert fire == reference_next(rule, after, CAL)  # and nothing earlier would have fired


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 12),
    st.sampled_from(["month", "quarter", "year"]),
    st.integers(2019, 2027),
    st.frozensets(st.dates(min_value=D(2024, 1, 1), max_value=D(2024, 12, 31)), max_size=40),
)
def test_with_any_overrides_the_fire_day_is_the_nth_working_day(
    n: int, period: str, year: int, holidays: frozenset[dt.date]
) -> None:
    cal = WorkingCalendar(extra_holidays=holidays, tz=TZ)
    rule = WorkdayRule(period, n, (dt.time(10),))
    (fire,) = next_fire_times(WorkdayTrigger(rule, cal, TZ, "generated"), at(D(year, 1, 1)), 1)
    days = working_days_of_period(fire.date(), period, cal)
    assert days.index(fire.date()) == n - 1
    assert fire.hour == 10


def test_a_started_apscheduler_asks_the_trigger_for_its_next_run() -> None:
    """What `scheduler run` does with the rule: the job's next run time is the trigger's answer,
    a working day of the calendar at the rule's time."""
    schedule = Schedule([JobSpec("round", "workday 1 of month 09:00", lambda now: None)], TZ, CAL)
    scheduler = BackgroundScheduler(timezone=TZ)
    schedule.add_to(scheduler, lambda job: None)
    scheduler.start(paused=True)
    try:
        (job,) = scheduler.get_jobs()
        planned = job.next_run_time
    finally:
        scheduler.shutdown(wait=False)
    assert planned is not None
    assert CAL.is_working_day(planned.date())
    assert planned.time() == dt.time(9)
    day_before = planned - dt.timedelta(days=1)
    assert schedule.next_fire_times(schedule.jobs[0], day_before, 1) == [planned]
