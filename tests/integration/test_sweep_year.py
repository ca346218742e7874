"""A year of one county task list swept every hour: exactly the expected rungs, each once.

The expected reminders below are counted by hand from the ladder of PRODUCT.md rule 3 on the
2024 official calendar (working days listed in the comments), not computed by the code under
test. Notice = 5 working days before the date, reminder = 1 before, urge = 1 after, supervise
= 5 after, bulletin = 10 after, each rung after the date only once the one before it reached
the lead unit's chat (every sweep is followed by the deliver step, console chats accept at
once), then 再次通报 3 working days after the last one was delivered; milestones get
notice/reminder/urge only. Unclaimed tasks get the 签收 rungs: assigned Tue 01-02, claim
deadline 3 working days later (Fri 01-05): reminded 01-04 and 01-05, the office 01-08.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from domain.roles import Identity
from duban.app import commands as cmd
from duban.app.services import Services
from duban.app.sweep import sweep
from tests.conftest import TZ, FakeClock
from tests.support.scenario import second_sweep_stores_nothing
from tests.support.sweep import (
    CZJ,
    FGJ,
    FGJ_LIAISON,
    JYJ,
    OFFICE,
    OFFICIAL,
    OFFICIAL_MOBILE,
    assign,
    county,
    deliver,
    issued,
    queued,
    stored,
    working_hours,
)

D = dt.date
Expected = tuple[dt.date, str, str, str, int]  # (date, task, target, rung, seq)
_UNCLAIMED = ("2024-03", "2024-04", "2024-05", "2024-06")

EXPECTED_YEAR: list[Expected] = [
    # 2024-01 and 2024-02 are claimed 01-03; the other four never are (签收 rungs only).
    *[(D(2024, 1, 4), code, "claim", "claim_reminder", 0) for code in _UNCLAIMED],
    *[(D(2024, 1, 5), code, "claim", "claim_due", 0) for code in _UNCLAIMED],
    *[(D(2024, 1, 8), code, "claim", "claim_overdue", 0) for code in _UNCLAIMED],
    # 2024-01: deadline Fri 03-29; working days before it: 28 27 26 25 22 → notice 03-22.
    # Completion submitted 03-26 (paused: no reminder 03-28), accepted 03-27.
    (D(2024, 3, 22), "2024-01", "deadline", "notice", 0),
    # 2024-02: milestone 方案制定 Mon 04-15 (Qingming 04-04..06 off, Sun 04-07 worked):
    # before it 12 11 10 09 08 → notice 04-08, reminder 04-12; after it 04-16 → urge.
    (D(2024, 4, 8), "2024-02", "milestone:方案制定", "notice", 0),
    (D(2024, 4, 12), "2024-02", "milestone:方案制定", "reminder", 0),
    (D(2024, 4, 16), "2024-02", "milestone:方案制定", "urge", 0),
    # deadline Fri 05-31: before it 30 29 28 27 24 → notice 05-24. Extension to 06-28
    # granted 05-29, so the reminder of 05-30 never comes; the ladder restarts:
    # before 06-28: 27 26 25 24 21 → notice 06-21, reminder 06-27 (09:00, before the
    # completion is submitted that morning); accepted 06-28.
    (D(2024, 5, 24), "2024-02", "deadline", "notice", 0),
    (D(2024, 6, 21), "2024-02", "deadline", "notice", 0),
    (D(2024, 6, 27), "2024-02", "deadline", "reminder", 0),
    # 2024-03: deadline Tue 10-08, right after the National Day block (10-01..07 off,
    # Sun 09-29 and Sat 10-12 worked). Before: 09-30 09-29 09-27 09-26 09-25.
    # After: 10-09(1) 10(2) 11(3) 12(4) 14(5) 15(6) 16(7) 17(8) 18(9) 21(10) 22 23 24(13).
    # urge 10-09, supervise 10-14, bulletin 10-21, each delivered at once; 再次通报 3
    # working days after the bulletin: 10-24. Cancelled 10-25 10:30: nothing after.
    (D(2024, 9, 25), "2024-03", "deadline", "notice", 0),
    (D(2024, 9, 30), "2024-03", "deadline", "reminder", 0),
    (D(2024, 10, 9), "2024-03", "deadline", "urge", 0),
    (D(2024, 10, 14), "2024-03", "deadline", "supervise", 0),
    (D(2024, 10, 21), "2024-03", "deadline", "bulletin", 0),
    (D(2024, 10, 24), "2024-03", "deadline", "bulletin", 1),
    # 2024-04: cancelled 08-01, before its 08-30 deadline comes near: nothing.
    # 2024-05: 持续推进, no deadline: nothing.
    # 2024-06: deadline Tue 12-31: before it 30 27 26 25 24 → notice 12-24, reminder
    # 12-30; the urge would be 2025-01-02 (New Year's Day off), after the year.
    (D(2024, 12, 24), "2024-06", "deadline", "notice", 0),
    (D(2024, 12, 30), "2024-06", "deadline", "reminder", 0),
]

LEAD = cmd.Decision(reason="同意")


def _at(day: dt.date, hour: int, minute: int = 30) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


def _year_actions(svc: Services) -> dict[dt.datetime, Callable[[], None]]:
    """What people do during the year, at half past some hour (sweeps run on the hour)."""
    ledger, who = svc.ledger, Identity("liaison", "张伟", unit=FGJ)
    submit = cmd.SubmitCompletion(summary="已完成")
    return {
        _at(D(2024, 1, 3), 10): lambda: (
            ledger.claim("2024-01", who),
            ledger.claim("2024-02", who),
        ),
        _at(D(2024, 3, 26), 10): lambda: ledger.submit_completion("2024-01", submit, who),
        _at(D(2024, 3, 27), 10): lambda: ledger.accept_completion("2024-01", LEAD, OFFICE),
        _at(D(2024, 5, 28), 10): lambda: ledger.request_extension(
            "2024-02", cmd.RequestExtension(new_deadline=D(2024, 6, 28), reason="待审批"), who
        ),
        _at(D(2024, 5, 29), 12): lambda: ledger.grant_extension(
            "2024-02", cmd.DecideExtension(reason="同意延期"), OFFICE
        ),
        _at(D(2024, 6, 27), 10): lambda: ledger.submit_completion("2024-02", submit, who),
        _at(D(2024, 6, 28), 10): lambda: ledger.accept_completion("2024-02", LEAD, OFFICE),
        _at(D(2024, 8, 1), 10): lambda: ledger.cancel(
            "2024-04", cmd.Decision(reason="撤销"), OFFICE
        ),
        _at(D(2024, 10, 25), 10): lambda: ledger.cancel(
            "2024-03", cmd.Decision(reason="并入其他任务"), OFFICE
        ),
    }


def _assign_list(svc: Services) -> None:
    assign(svc, "2024-01", D(2024, 3, 29))
    assign(svc, "2024-02", D(2024, 5, 31), milestones=(("方案制定", D(2024, 4, 15)),))
    assign(svc, "2024-03", D(2024, 10, 8), official=OFFICIAL, co_units=(CZJ,))
    assign(svc, "2024-04", D(2024, 8, 30), lead=JYJ)
    assign(svc, "2024-05", None, lead=CZJ)
    assign(svc, "2024-06", D(2024, 12, 31), lead=CZJ)


def _run(svc: Services, clock: FakeClock, start: dt.date, end: dt.date) -> None:
    """Every hour 08:00-19:00 (outside working hours must do nothing), each sweep twice."""
    actions = _year_actions(svc)
    pending = sorted(actions)
    for now in working_hours(start, end, range(8, 20)):
        while pending and pending[0] < now:
            clock.now = pending[0]
            actions[pending.pop(0)]()
        clock.now = now
        if sweep(svc, now).issued:
            deliver(svc, now)
        second_sweep_stores_nothing(svc, now)


def _observed(svc: Services) -> list[Expected]:
    return [(e.at.astimezone(TZ).date(), e.task_code, e.target, e.rung, e.seq) for e in issued(svc)]


@pytest.fixture(scope="module")
def year(tmp_path_factory: pytest.TempPathFactory) -> tuple[Services, FakeClock]:
    clock = FakeClock(_at(D(2024, 1, 2), 8, 0))
    svc = county(f"sqlite:///{tmp_path_factory.mktemp('year') / 'year.db'}", clock)
    _assign_list(svc)
    _run(svc, clock, D(2024, 1, 2), D(2024, 12, 31))
    return svc, clock


def test_a_year_of_sweeps_issues_exactly_the_hand_counted_rungs_once(
    year: tuple[Services, FakeClock],
) -> None:
    svc, _ = year
    assert _observed(svc) == EXPECTED_YEAR
    keys = [e.key for e in issued(svc)]
    assert len(keys) == len(set(keys))


def test_reminders_go_out_at_the_start_of_working_hours(year: tuple[Services, FakeClock]) -> None:
    svc, _ = year
    assert {e.at.astimezone(TZ).time() for e in issued(svc)} == {dt.time(9)}


def test_each_digest_carries_only_that_chats_reminders_and_mentions(
    year: tuple[Services, FakeClock],
) -> None:
    svc, _ = year
    supervise_day = [m for m in queued(svc) if m.at.astimezone(TZ).date() == D(2024, 10, 14)]
    by_chat = {m.channel: m for m in supervise_day}
    # lead unit, co-unit, office, the official
    assert sorted(by_chat) == ["czj", "fgj", "office", "wang"]
    assert by_chat["czj"].mention_mobiles == []
    assert by_chat["fgj"].mention_mobiles == [FGJ_LIAISON]
    assert by_chat["wang"].mention_mobiles == [OFFICIAL_MOBILE]
    assert by_chat["office"].mention_mobiles == []
    assert all(m.task_codes == ["2024-03"] for m in supervise_day)
    assert "督办" in by_chat["fgj"].parts[0]
    bulletin = [m for m in queued(svc) if m.at.astimezone(TZ).date() == D(2024, 10, 21)]
    assert sorted(m.channel for m in bulletin) == ["czj", "fgj", "leaders", "office"]
    titles = {m.channel: m.title for m in bulletin}
    assert titles["leaders"].startswith("改革任务通报｜")
    assert by_chat["fgj"].title.startswith("改革任务督办通知｜")


def test_escalations_are_recorded_on_the_task_for_urge_and_above(
    year: tuple[Services, FakeClock],
) -> None:
    svc, _ = year
    recorded = [
        (e.originator_id, e.rung, e.at.astimezone(TZ).date())
        for e in stored(svc, "ReformTask.EscalationRecorded")
    ]
    escalating = [x for x in EXPECTED_YEAR if x[3] in {"urge", "supervise", "bulletin"}]
    assert [(r, d) for _, r, d in recorded] == [(x[3], x[0]) for x in escalating]


def test_the_deadline_after_a_holiday_block_on_postgres_and_sqlite(
    store_url: str,
) -> None:
    """The 2024-10-08 task alone over its autumn, on both stores."""
    clock = FakeClock(_at(D(2024, 9, 20), 8, 0))
    svc = county(store_url, clock)
    assign(svc, "2024-03", D(2024, 10, 8), official=OFFICIAL, co_units=(CZJ,))
    svc.ledger.claim("2024-03", Identity("liaison", "张伟", unit=FGJ))
    for now in working_hours(D(2024, 9, 20), D(2024, 10, 24)):
        clock.now = now
        sweep(svc, now)
        deliver(svc, now)
        sweep(svc, now)
    expected = [x for x in EXPECTED_YEAR if x[1] == "2024-03" and x[2] != "claim"]
    assert _observed(svc) == expected
    svc.ledger.close()
