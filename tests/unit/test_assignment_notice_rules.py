"""The 签收 deadline of a 交办 notice: `claim_within_working_days` working days of the office
calendar after the day of the assignment (a pure rule over the calendar)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from duban.app.assignment_notices import claim_deadline
from duban.app.services import calendar_from_config
from duban.settings.config import parse_config
from tests.conftest import TZ

CALENDAR = calendar_from_config(
    parse_config({"channels": [{"name": n, "platform": "console"} for n in ("office", "leaders")]})
)


@settings(max_examples=200, deadline=None)
@given(
    day=st.dates(dt.date(2024, 1, 1), dt.date(2026, 12, 31)),
    hour=st.integers(0, 23),
    days=st.integers(1, 15),
)
def test_the_claim_deadline_is_the_nth_working_day_after_the_assignment(
    day: dt.date, hour: int, days: int
) -> None:
    at = dt.datetime(day.year, day.month, day.day, hour, tzinfo=TZ)

    deadline = claim_deadline(at, CALENDAR, days)

    assert CALENDAR.is_working_day(deadline)
    assert CALENDAR.working_days_between(day, deadline) == days
    assert deadline > day


def test_the_day_is_the_office_s_own_not_utc() -> None:
    """23:30 UTC on Tuesday is Wednesday morning in Shanghai: three working days from Wednesday."""
    at = dt.datetime(2026, 12, 1, 23, 30, tzinfo=dt.UTC)

    assert claim_deadline(at, CALENDAR, 3) == dt.date(2026, 12, 7)


def test_national_day_is_skipped() -> None:
    """Assigned on 2024-09-30: 10-01…10-07 are holidays, Saturday 10-12 is a 调休 working day."""
    at = dt.datetime(2024, 9, 30, 10, tzinfo=TZ)

    assert claim_deadline(at, CALENDAR, 1) == dt.date(2024, 10, 8)
    assert claim_deadline(at, CALENDAR, 5) == dt.date(2024, 10, 12)
