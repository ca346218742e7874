"""A month of 月度报送: one unit reports on time, one late, one never; exactly those facts.

March 2024: the round opens Fri 03-01 09:00 and is due 5 working days later, Fri 03-08
(03-04..08); the reminder goes out 1 working day before, Thu 03-07; the round closes when
the month is over (2024-04-01).
"""

from __future__ import annotations

import datetime as dt

from domain.roles import Identity
from duban.app import commands as cmd
from duban.app.monthly_rounds import close_due_rounds, open_round, remind_missing
from duban.app.services import Services
from tests.conftest import TZ, FakeClock
from tests.support.sweep import CZJ, FGJ, JYJ, OFFICE, assign, county, stored


def _at(month: int, day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2024, month, day, hour, 0, tzinfo=TZ)


def _report(svc: Services, clock: FakeClock, code: str, unit: str, at: dt.datetime) -> None:
    clock.now = at
    svc.ledger.report(code, cmd.ReportProgress(text="本月进展", percent=50), _liaison(unit))


def _liaison(unit: str) -> Identity:
    return Identity("liaison", "联络员", unit=unit)


def _county(store_url: str) -> tuple[Services, FakeClock]:
    clock = FakeClock(_at(2, 20))
    svc = county(store_url, clock)
    for code, unit in (("A", FGJ), ("B", CZJ), ("C", JYJ), ("D", JYJ)):
        assign(svc, code, dt.date(2024, 12, 31), lead=unit)
        svc.ledger.claim(code, _liaison(unit))
    return svc, clock


def _names(svc: Services) -> list[str]:
    return [type(e).__qualname__ for e in stored(svc, "") if "ReportRound" in type(e).__qualname__]


def test_on_time_late_and_missing_reports_are_recorded_as_such(store_url: str) -> None:
    svc, clock = _county(store_url)
    _report(svc, clock, "C", JYJ, _at(2, 28))  # before the round: does not count for March

    opened = open_round(svc, None, _at(3, 1, 9))
    assert opened is not None
    assert opened.month == "2024-03"
    assert sorted(m.channel for m in opened.messages) == ["czj", "fgj", "jyj"]
    assert open_round(svc, "2024-03", _at(3, 1, 10)) is None  # once

    _report(svc, clock, "A", FGJ, _at(3, 5))  # on time
    assert remind_missing(svc, _at(3, 6)) == []  # not yet the remind day
    reminded = remind_missing(svc, _at(3, 7, 9))
    assert [sorted(m.channel for m in r.messages) for r in reminded] == [["czj", "jyj"]]
    assert remind_missing(svc, _at(3, 7, 11)) == []  # once

    clock.now = _at(3, 7, 12)
    svc.ledger.cancel("D", cmd.Decision(reason="撤销"), OFFICE)  # closed tasks owe nothing
    _report(svc, clock, "B", CZJ, _at(3, 12))  # after the due date: late
    assert close_due_rounds(svc, _at(3, 29)) == []  # the month is not over

    closed = close_due_rounds(svc, _at(4, 1, 9))
    assert [(r.late, r.missing) for r in closed] == [([(CZJ, "B")], [(JYJ, "C")])]
    assert close_due_rounds(svc, _at(4, 2, 9)) == []

    round_events = [e for e in stored(svc, "") if type(e).__qualname__.startswith("ReportRound.")]
    assert [type(e).__qualname__ for e in round_events] == [
        "ReportRound.Opened",
        "ReportRound.Reminded",
        "ReportRound.ReportLate",
        "ReportRound.ReportMissing",
        "ReportRound.Closed",
    ]
    opened_event, reminded_event, late, missing, _ = round_events
    assert opened_event.due_date == dt.date(2024, 3, 8)
    assert opened_event.expected == {FGJ: ["A"], CZJ: ["B"], JYJ: ["C", "D"]}
    assert reminded_event.units == sorted([CZJ, JYJ])
    assert (late.unit, late.task_code, late.reported_at) == (CZJ, "B", _at(3, 12))
    assert (missing.unit, missing.task_code) == (JYJ, "C")
    svc.ledger.close()


def test_round_messages_are_queued_in_the_outbox_with_the_units_liaisons(store_url: str) -> None:
    svc, _ = _county(store_url)
    open_round(svc, "2024-03", _at(3, 1, 9))
    queued = [e for e in stored(svc, "ChatMessage.Queued") if e.kind == "report_round"]
    fgj = next(m for m in queued if m.channel == "fgj")
    assert fgj.task_codes == ["A"]
    assert fgj.mention_mobiles == ["13800000001"]
    assert "2024年3月8日" in fgj.parts[0]
    svc.ledger.close()
