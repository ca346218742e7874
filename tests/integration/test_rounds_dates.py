"""A round's dates come from its month alone (`domain.report_round`), not from the day the
scheduler happened to open it: dated the month's first working day, due N working days later.
"""

from __future__ import annotations

import datetime as dt

from domain.report_round import round_due_date
from duban.app.monthly_rounds import open_round
from duban.app.sweep import calendar_from_config
from tests.integration.test_rounds_month import _at, _county
from tests.support.sweep import stored


def test_a_round_opened_on_a_holiday_is_dated_the_first_working_day(store_url: str) -> None:
    svc, _ = _county(store_url)
    result = open_round(svc, None, _at(10, 1, 9))  # 国庆: the scheduler runs on the 1st
    assert result is not None
    assert result.month == "2024-10"
    (opened,) = stored(svc, "ReportRound.Opened")
    assert opened.opened_on == dt.date(2024, 10, 8)  # the first working day after 国庆
    # 10-09, 10, 11, 12 (Saturday 调休), 14
    assert opened.due_date == dt.date(2024, 10, 14)
    assert all("2024年10月14日" in m.parts[0] for m in result.messages)
    svc.ledger.close()


def test_a_round_opened_late_in_its_month_keeps_the_month_s_due_date(store_url: str) -> None:
    svc, _ = _county(store_url)
    assert open_round(svc, None, _at(3, 4, 9)) is not None  # the scheduler was down on 03-01
    (opened,) = stored(svc, "ReportRound.Opened")
    assert (opened.opened_on, opened.due_date) == (dt.date(2024, 3, 1), dt.date(2024, 3, 8))
    calendar = calendar_from_config(svc.config)
    due_days = svc.config.report_round.due_working_days
    assert opened.due_date == round_due_date("2024-03", calendar, due_days)
    svc.ledger.close()
