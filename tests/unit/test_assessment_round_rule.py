"""The one round rule (`domain.report_round`): what the rounds and the reports both use."""

from __future__ import annotations

import datetime as dt

import pytest

import duban.app.monthly_rounds
import projections.assessment
import projections.report_monthly
import projections.report_outcomes
from domain.calendar import WorkingCalendar
from domain.report_round import report_timing, round_due_date, round_opening_date

CAL = WorkingCalendar()


@pytest.mark.parametrize(
    ("month", "opening", "due"),
    [
        # Fri 03-01 opens; 5 working days after it: 03-04, 05, 06, 07, 08.
        ("2024-03", dt.date(2024, 3, 1), dt.date(2024, 3, 8)),
        # Mon 04-01 opens; 04-02, 03, (04-04..06 清明), 04-07 (Sunday 调休), 08, 09.
        ("2024-04", dt.date(2024, 4, 1), dt.date(2024, 4, 9)),
        # 国庆 10-01..07: opens Tue 10-08; 10-09, 10, 11, 12 (Saturday 调休), 14.
        ("2024-10", dt.date(2024, 10, 8), dt.date(2024, 10, 14)),
        # 2024-06-01 is a Saturday: opens Mon 06-03; 06-04, 05, 06, 07, (10 端午) 11.
        ("2024-06", dt.date(2024, 6, 3), dt.date(2024, 6, 11)),
    ],
)
def test_a_round_is_dated_the_first_working_day_and_due_n_working_days_after_it(
    month: str, opening: dt.date, due: dt.date
) -> None:
    assert round_opening_date(month, CAL) == opening
    assert CAL.is_working_day(opening)
    assert round_due_date(month, CAL, 5) == due
    assert round_due_date(month, CAL, 1) == CAL.add_working_days(opening, 1)


def test_the_rounds_and_the_reports_share_the_one_rule() -> None:
    rounds, outcomes = vars(duban.app.monthly_rounds), vars(projections.report_outcomes)
    assert rounds["round_due_date"] is outcomes["round_due_date"] is round_due_date
    assert vars(projections.report_monthly)["round_due_date"] is round_due_date
    # on time or late: the rounds judge their reports, the assessment counts them, one rule
    assert rounds["report_timing"] is outcomes["report_timing"] is report_timing
    assert not hasattr(projections.assessment, "round_due")  # the second rule is gone


def test_a_report_counts_for_the_round_of_its_own_month() -> None:
    due = dt.date(2024, 3, 8)
    assert report_timing("2024-03", due, dt.date(2024, 2, 29)) is None
    assert report_timing("2024-03", due, dt.date(2024, 3, 1)) == "on_time"
    assert report_timing("2024-03", due, due) == "on_time"
    assert report_timing("2024-03", due, dt.date(2024, 3, 9)) == "late"
    assert report_timing("2024-03", due, dt.date(2024, 3, 31)) == "late"
    assert report_timing("2024-03", due, dt.date(2024, 4, 1)) is None
