"""The light rules as pure functions: facts + today → red / yellow / green / closed."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from domain.calendar import WorkingCalendar
from projections.lights import LightRules, board_row, light, next_milestone

CALENDAR = WorkingCalendar()


def facts(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "code": "2024-01", "title": "任务", "area": None, "lead_unit": "县财政局", "co_units": [],
        "official": None, "group": None, "deadline": "2024-06-28",
        "assigned_deadline": "2024-06-28", "deadline_text": "2024年6月底",
        "milestones": [{"name": "方案制定", "due": "2024-03-29"},
                       {"name": "试点", "due": "2024-05-31"}],
        "assigned_at": "2024-03-01T10:00:00+08:00", "status": "claimed", "claimed_by": None,
        "percent": 30, "reports": 1, "last_report_at": "2024-05-20T10:00:00+08:00",
        "pending_extension": None, "extensions": 0, "completion_returned": False,
        "escalation": None, "active_escalation": None, "recognitions": [], "closed_at": None,
        "completed_on_time": None,
    }  # fmt: skip
    base.update(overrides)
    return base


def color(f: dict[str, Any], today: dt.date, rules: LightRules = LightRules()) -> str:
    return light(f, today, CALENDAR, rules).color


def test_on_track_is_green() -> None:
    assert light(facts(), dt.date(2024, 6, 3), CALENDAR) == ("green", [])


def test_due_within_five_working_days_is_yellow_counting_the_dragon_boat_holiday() -> None:
    # 2024-06-10 (Mon) is the 端午 holiday: from Fri 06-07 the deadline Fri 06-14 is 4 working
    # days away (11, 12, 13, 14), from Thu 06-06 it is 5, from Wed 06-05 it is 6.
    assert color(facts(deadline="2024-06-14"), dt.date(2024, 6, 5)) == "green"
    assert color(facts(deadline="2024-06-14"), dt.date(2024, 6, 6)) == "yellow"
    assert light(facts(deadline="2024-06-14"), dt.date(2024, 6, 14), CALENDAR).reasons == [
        "今日到期"
    ]


def test_overdue_is_red_from_the_day_after_the_deadline() -> None:
    assert color(facts(), dt.date(2024, 6, 28)) == "yellow"
    assert light(facts(), dt.date(2024, 7, 1), CALENDAR) == ("red", ["已逾期1个工作日"])


@pytest.mark.parametrize(("rung", "expected"), [("urge", "green"), ("supervise", "red"),
                                                ("bulletin", "red")])  # fmt: skip
def test_supervise_and_bulletin_turn_a_task_red(rung: str, expected: str) -> None:
    f = facts(escalation=rung, active_escalation=rung)
    assert color(f, dt.date(2024, 6, 3)) == expected


def test_an_escalation_before_the_deadline_moved_no_longer_counts() -> None:
    assert color(facts(escalation="bulletin", active_escalation=None), dt.date(2024, 6, 3)) == (
        "green"
    )


def test_silence_pending_extension_and_returned_completion_are_yellow() -> None:
    today = dt.date(2024, 6, 3)
    assert color(facts(last_report_at="2024-05-03T10:00:00+08:00"), today) == "yellow"
    assert color(facts(last_report_at="2024-05-04T10:00:00+08:00"), today) == "green"
    assert color(facts(last_report_at=None), today) == "yellow"  # silent since assignment
    assert color(facts(pending_extension="2024-09-30"), today) == "yellow"
    assert color(facts(completion_returned=True), today) == "yellow"


def test_thresholds_are_configurable() -> None:
    rules = LightRules(
        due_within_working_days=20, report_gap_days=100, red_rungs=frozenset({"urge"})
    )
    today = dt.date(2024, 6, 3)
    assert color(facts(), today, rules) == "yellow"
    assert color(facts(last_report_at=None, deadline=None), today, rules) == "green"
    assert color(facts(active_escalation="urge"), today, rules) == "red"


def test_closed_tasks_are_closed_whatever_their_dates() -> None:
    for status in ("completed", "cancelled"):
        assert color(facts(status=status, deadline="2020-01-01"), dt.date(2024, 6, 3)) == "closed"


def test_ongoing_tasks_have_no_deadline_to_miss() -> None:
    assert color(facts(deadline=None), dt.date(2030, 1, 1)) == "yellow"  # only the silence
    assert color(facts(deadline=None, last_report_at="2029-12-20T09:00:00+08:00"),
                 dt.date(2030, 1, 1)) == "green"  # fmt: skip


def test_next_milestone_is_the_first_not_yet_past() -> None:
    assert next_milestone(facts(), dt.date(2024, 3, 29)) == {
        "name": "方案制定",
        "due": "2024-03-29",
    }
    assert next_milestone(facts(), dt.date(2024, 3, 30)) == {"name": "试点", "due": "2024-05-31"}
    assert next_milestone(facts(), dt.date(2024, 6, 1)) is None


def test_a_row_reports_the_last_report_as_an_office_day() -> None:
    row = board_row(
        facts(last_report_at="2024-05-19T17:30:00+00:00"), dt.date(2024, 6, 3), CALENDAR
    )
    assert row["last_report_date"] == "2024-05-20"  # 01:30 in Shanghai
    assert (row["light"], row["light_label"], row["status_label"]) == ("green", "绿灯", "推进中")
