"""The product's one date range (`domain.dates`), and the importer's date parser held to it:
every date inside the range, in every form a task list writes it, reads back as itself; every
date outside it is refused naming the row and the column, with the range in the message."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.calendar import WorkingCalendar
from domain.dates import (
    EARLIEST,
    LATEST,
    RANGE_TEXT,
    DateOutOfRange,
    check_date,
    check_year,
    clamp,
    in_range,
)
from duban.app.importer.records import Found, Record
from duban.app.importer.rows import tasks_of

MESSAGE = "日期超出允许范围（2000年1月1日至2099年12月31日）"
inside = st.dates(min_value=EARLIEST, max_value=LATEST)
outside = st.dates(max_value=EARLIEST - dt.timedelta(days=1)) | st.dates(
    min_value=LATEST + dt.timedelta(days=1)
)


def test_the_range_is_2000_to_2099_as_the_module_says() -> None:
    assert dt.date(2000, 1, 1) == EARLIEST
    assert dt.date(2099, 12, 31) == LATEST
    assert f"日期超出允许范围（{RANGE_TEXT}）" == MESSAGE


@given(day=inside)
def test_a_date_inside_the_range_is_itself(day: dt.date) -> None:
    assert check_date(day, "完成时限") is day
    assert in_range(day)
    assert clamp(day) == day
    assert check_year(day.year) == day.year


@given(day=outside)
def test_a_date_outside_the_range_is_refused_naming_field_and_value(day: dt.date) -> None:
    with pytest.raises(DateOutOfRange) as refused:
        check_date(day, "完成时限")
    assert refused.value.message == f"完成时限：{MESSAGE}：{day.isoformat()}"
    assert refused.value.code == "date_out_of_range"
    assert clamp(day) in (EARLIEST, LATEST)
    with pytest.raises(DateOutOfRange):
        check_year(day.year)


@given(day=outside, hour=st.integers(0, 23))
def test_datetimes_are_checked_by_their_date(day: dt.date, hour: int) -> None:
    moment = dt.datetime.combine(day, dt.time(hour))
    assert not in_range(moment)
    with pytest.raises(DateOutOfRange):
        check_date(moment)
    inside_moment = dt.datetime.combine(LATEST, dt.time(hour))
    assert check_date(inside_moment) is inside_moment


# ---- the importer's date parser -----------------------------------------------------------------


# Years as a list writes them (four digits: "1年12月底" is no deadline at all, refused as such).
outside_written = st.dates(dt.date(1000, 1, 1), EARLIEST - dt.timedelta(days=1)) | st.dates(
    LATEST + dt.timedelta(days=1)
)


def _month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


# (how a cell holds the date, the date that form can name at all)
Form = tuple[Callable[[dt.date], object], Callable[[dt.date], dt.date]]
FORMS: dict[str, Form] = {
    "date cell (YAML, Excel)": (lambda d: d, lambda d: d),
    "Excel date-time cell": (lambda d: dt.datetime.combine(d, dt.time()), lambda d: d),
    "ISO": (lambda d: d.isoformat(), lambda d: d),
    "slashes": (lambda d: f"{d.year}/{d.month}/{d.day}", lambda d: d),
    "Chinese full date": (lambda d: f"{d.year}年{d.month}月{d.day}日前", lambda d: d),
    "month end": (lambda d: f"{d.year}年{d.month}月底前", _month_end),
    "year end": (lambda d: f"{d.year}年底", lambda d: d.replace(month=12, day=31)),
    "quarter": (
        lambda d: f"{d.year}年第{(d.month - 1) // 3 + 1}季度",
        lambda d: _month_end(d.replace(month=(d.month - 1) // 3 * 3 + 3, day=1)),
    ),
    "month end, the file's year": (lambda d: f"{d.month}月底", _month_end),
    "year end, the file's year": (lambda d: "年底", lambda d: d.replace(month=12, day=31)),
}


def _import(deadline: object, year: int | None) -> Found:
    cells = {
        "code": ("编号", "2024-01"),
        "title": ("改革任务", "任务"),
        "lead_unit": ("牵头单位", "县财政局"),
        "deadline": ("完成时限", deadline),
        "milestones": ("阶段节点", None),
    }
    return Found(records=[Record(row=3, cells=cells)], year=year)


@pytest.mark.parametrize("form", FORMS)
@given(day=inside)
def test_any_date_inside_the_range_in_each_form_reads_as_itself(form: str, day: dt.date) -> None:
    result = tasks_of(_import(FORMS[form][0](day), day.year))
    assert result.errors == []
    assert result.rows[0].deadline == FORMS[form][1](day)


@pytest.mark.parametrize("form", FORMS)
@given(day=outside_written)
def test_any_date_outside_the_range_in_each_form_is_refused(form: str, day: dt.date) -> None:
    result = tasks_of(_import(FORMS[form][0](day), day.year))
    assert result.rows == []
    assert [(e.row, e.column) for e in result.errors] == [(3, "完成时限")]
    assert MESSAGE in result.errors[0].message


@given(day=outside_written)
def test_a_milestone_outside_the_range_is_refused(day: dt.date) -> None:
    found = _import("2024年底", 2024)
    found.records[0].cells["milestones"] = ("阶段节点", f"{day.year}年{day.month}月底前完成方案")
    result = tasks_of(found)
    assert [(e.row, e.column) for e in result.errors] == [(3, "阶段节点")]
    assert MESSAGE in result.errors[0].message


# ---- the calendar: defence in depth for dates an older store still holds --------------------


def test_the_calendar_counts_no_working_day_outside_the_range() -> None:
    calendar = WorkingCalendar()
    start = dt.date(2024, 6, 3)
    assert calendar.working_days_between(start, dt.date(9999, 12, 31)) == (
        calendar.working_days_between(start, LATEST)
    )
    assert calendar.working_days_between(dt.date(1, 1, 1), start) == (
        calendar.working_days_between(EARLIEST - dt.timedelta(days=1), start)
    )
    assert calendar.uncovered_years
    assert min(calendar.uncovered_years) >= EARLIEST.year
    assert max(calendar.uncovered_years) <= LATEST.year


def test_day_arithmetic_beyond_the_range_saturates_instead_of_walking_to_year_9999() -> None:
    calendar = WorkingCalendar()
    far, ancient = dt.date(9999, 12, 31), dt.date(1, 1, 1)
    assert calendar.add_working_days(far, 5) == dt.date.max  # "never"
    assert calendar.add_working_days(LATEST, 1) == dt.date.max
    before_far = calendar.add_working_days(far, -1)
    assert before_far.year == LATEST.year
    assert calendar.add_working_days(before_far, 1) == dt.date.max
    assert calendar.add_working_days(ancient, -3) == dt.date.min
    assert calendar.add_working_days(ancient, 1).year == EARLIEST.year
    assert max(calendar.uncovered_years) <= LATEST.year


_SHARED = WorkingCalendar()  # computes each year once for all the examples


@given(
    a=st.dates(max_value=dt.date(2100, 12, 31)),
    b=st.dates(min_value=dt.date(2000, 1, 1)),
    c=st.dates(),
)
def test_counting_stays_additive_across_the_ends_of_the_range(
    a: dt.date, b: dt.date, c: dt.date
) -> None:
    between = _SHARED.working_days_between
    assert between(a, b) + between(b, c) == between(a, c)
    assert between(a, c) == -between(c, a)
