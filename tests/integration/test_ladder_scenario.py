"""Acceptance 1 of issue 12: the fair ladder over a scripted month, real sweeps and delivery
on SQLite (console chats accept every message, like the local platform fakes).

A task imported on Wed 2026-12-02, 10 working days after its deadline (Wed 11-18), gets
催办 → 督办 → 通报 on successive working days (after the 交办 notice, when the notices step
runs in the sweep), never 通报 first, each after the previous one reached the lead unit's
chat; a task 400 working days overdue climbs the same way; running every sweep twice
changes nothing. A closed milestone's reminders stop.
"""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from typing import Any

from domain.calendar import WorkingCalendar
from domain.roles import Identity
from duban.app import commands as cmd
from duban.app.services import Services
from duban.app.sweep import sweep
from tests.conftest import TZ, FakeClock
from tests.support.scenario import second_sweep_stores_nothing
from tests.support.sweep import CZJ, FGJ, OFFICIAL, assign, county, deliver, issued, queued, stored

D = dt.date
CAL = WorkingCalendar()
IMPORTED = D(2026, 12, 2)


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


def _working_days(first: dt.date, count: int) -> list[dt.date]:
    return [CAL.add_working_days(first, i) for i in range(count)]


def _month(svc: Services, clock: FakeClock, days: list[dt.date]) -> None:
    """Sweeps at 09:00, 11:00 and 15:00 of each working day, each run twice, the deliver
    step after the first; the second must store nothing."""
    for day in days:
        for hour in (9, 11, 15):
            now = clock.now = _at(day, hour)
            sweep(svc, now)
            deliver(svc, now + dt.timedelta(minutes=1))
            second_sweep_stores_nothing(svc, now)


def _delivered_at(svc: Services) -> dict[str, dt.datetime]:
    """Message id → when it was delivered."""
    return {str(e.originator_id): e.at for e in stored(svc, "ChatMessage.Delivered")}


def _told(svc: Services, code: str) -> list[tuple[str, str, dt.datetime, dt.datetime | None]]:
    """(channel, title, queued, delivered) of every message about the task's deadline."""
    delivered = _delivered_at(svc)
    return [
        (m.channel, m.title, m.at, delivered.get(str(m.originator_id)))
        for m in queued(svc)
        if code in m.task_codes
    ]


def _deadline_rungs(svc: Services, code: str) -> list[Any]:
    return [e for e in issued(svc) if e.task_code == code and e.target == "deadline"]


def _check_climb(svc: Services, code: str, days: list[dt.date]) -> None:
    """催办, 督办, 通报 on successive working days from the first, each queued for the lead
    unit and delivered there before the next rung is issued for anyone."""
    rungs = _deadline_rungs(svc, code)
    names = [(e.rung, e.seq) for e in rungs]
    assert names[:3] == [("urge", 0), ("supervise", 0), ("bulletin", 0)]
    assert [e.at.date() for e in rungs[:3]] == days[:3]
    delivered = _delivered_at(svc)
    lead_messages = [m for m in queued(svc) if m.channel == "fgj"]
    for before, after in itertools.pairwise(rungs):
        carriers = [m for m in lead_messages if before.key in m.reminder_keys]
        assert len(carriers) == 1, f"{before.key} reached the lead unit's chat once"
        arrived = delivered[str(carriers[0].originator_id)]
        assert arrived < after.at  # the unit heard of it before anyone hears of the next
        assert CAL.working_days_between(arrived.date(), after.at.date()) >= 1
    assert all(e.seq == 0 for e in rungs[:3])  # the first messages are never 再次…
    assert rungs[3:4] == [] or (rungs[3].rung, rungs[3].seq) == ("bulletin", 1)


def test_a_late_import_climbs_one_rung_a_day_from_urge_never_bulletin_first(
    tmp_path: Path,
) -> None:
    clock = FakeClock(_at(IMPORTED, 8, 30))
    svc = county(f"sqlite:///{tmp_path / 'month.db'}", clock)
    late = CAL.add_working_days(IMPORTED, -10)
    very_late = CAL.add_working_days(IMPORTED, -400)
    assert late == D(2026, 11, 18)
    assign(svc, "A", late, official=OFFICIAL, co_units=(CZJ,))
    assign(svc, "B", very_late, official=OFFICIAL)
    liaison = Identity("liaison", "张伟", unit=FGJ)
    svc.ledger.claim("A", liaison)  # B stays unclaimed: its 签收 rungs run beside the ladder
    days = _working_days(IMPORTED, 22)
    _month(svc, clock, days)

    notices = [m for m in queued(svc) if m.channel == "fgj" and "交办" in m.title]
    # the 交办 notice is the lead unit's first message; 催办 follows it a working day later
    [notice] = notices
    assert notice.at.date() == IMPORTED
    assert min(m.at for m in queued(svc) if "A" in m.task_codes) == notice.at
    assert _delivered_at(svc)[str(notice.originator_id)].date() == IMPORTED
    assert all(e.at.date() > IMPORTED for e in _deadline_rungs(svc, "A"))
    first = days[1:]
    _check_climb(svc, "A", first)
    _check_climb(svc, "B", first)

    # who heard what: co-units from 催办 on, the official from 督办, the leaders at 通报
    urge, supervise, bulletin = _deadline_rungs(svc, "A")[:3]
    channels = {e.rung: sorted(e.channels) for e in (urge, supervise, bulletin)}
    assert channels["urge"] == ["czj", "fgj", "office"]
    assert channels["supervise"] == ["czj", "fgj", "office", "wang"]
    assert channels["bulletin"] == ["czj", "fgj", "leaders", "office"]
    titles = {
        m.at.date(): m.title for m in queued(svc) if m.channel == "fgj" and "A" in m.task_codes
    }
    assert titles[urge.at.date()].startswith("改革任务催办通知｜")
    assert titles[bulletin.at.date()].startswith("改革任务通报｜")
    # B's 签收 rungs: the claim deadline Mon 12-07 was 3 working days after the import
    claim = [
        (e.rung, e.at.date()) for e in issued(svc) if e.task_code == "B" and e.target == "claim"
    ]
    assert claim == [("claim_reminder", D(2026, 12, 4)), ("claim_due", D(2026, 12, 7)),
                     ("claim_overdue", D(2026, 12, 8))]  # fmt: skip
    # nothing told the leaders about A before the lead unit had its 督办
    leaders = [m for m in queued(svc) if m.channel == "leaders" and "A" in m.task_codes]
    assert leaders
    assert min(m.at for m in leaders) > supervise.at
    svc.ledger.close()


def test_a_closed_milestone_gets_no_more_reminders(tmp_path: Path) -> None:
    day0 = D(2026, 11, 2)
    clock = FakeClock(_at(day0, 8, 30))
    svc = county(f"sqlite:///{tmp_path / 'milestone.db'}", clock)
    milestone = CAL.add_working_days(day0, 3)  # Thu 11-05: reminder 11-04, urge 11-06
    for code in ("M", "N", "O"):
        assign(svc, code, D(2027, 6, 30), milestones=(("完成方案前置初审", milestone),))
        svc.ledger.claim(code, Identity("liaison", "张伟", unit=FGJ))
    days = _working_days(day0, 8)
    _month(svc, clock, days[:2])  # through 11-03: the notice only
    clock.now = _at(days[1], 16)
    svc.ledger.report(  # M: the lead unit's report says the milestone is reached
        "M",
        cmd.ReportProgress(text="方案已报送初审", percent=30, milestone="完成方案前置初审"),
        Identity("liaison", "张伟", unit=FGJ),
    )
    svc.ledger.close_milestone(  # O: closed by the office
        "O",
        cmd.CloseMilestone(name="完成方案前置初审", reason="方案已通过初审"),
        Identity("office", "改革办"),
    )
    _month(svc, clock, days[2:])
    by_task = {
        code: [e.rung for e in issued(svc) if e.task_code == code and e.target != "claim"]
        for code in ("M", "N", "O")
    }
    assert by_task["N"] == ["notice", "reminder", "urge"]
    assert by_task["M"] == ["notice"]  # closed by a report on 11-03: no 提醒, no 催办 after
    assert by_task["O"] == ["notice"]  # closed by the office on 11-03
    svc.ledger.close()
