"""Issue 13, acceptance 1: October 2024 hour by hour through the real jobs, against the fake
WeCom / DingTalk / Feishu over real HTTP. Messages go out only in working time.

October 2024 in Shanghai: National Day 10-01 (Tue) … 10-07 (Mon) is a holiday; Saturday 10-12
is an official working day (调休); every other Saturday and Sunday is a weekend. Working hours
are 09:00-18:00.

Every hour of the month (00:00 … 23:00) the jobs run as the scheduler would hand them `now`:
the report round, the monthly and quarterly reports, the sweep (the ladder and the round's
reminder), the daily chain head, then a delivery pass (`deliver_due`, the `deliver` job's one
call, given the same fake clock as the fake platforms so signatures and rate limits run on
simulated time). The jobs queue whenever they run — the round on 10-01, the reports at
midnight, a chain head every day — and the fake platforms see a request only in working time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from domain.reminder import ChatMessage
from duban.app.delivery_adapters import DeliveryReport, deliver_due
from duban.app.scheduled import JOBS
from duban.app.services import Services, open_ledger
from duban.settings.config import parse_config
from tests.conftest import TZ, FakeClock
from tests.fakes.platforms import FakePlatforms
from tests.integration.test_delivery_flow import KEYWORD, SECRET
from tests.support.sweep import CZJ, FGJ, JYJ, assign, county_config, stored

HOLIDAY = {dt.date(2024, 10, d) for d in range(1, 8)}  # 国庆节
WORKING_WEEKEND = {dt.date(2024, 10, 12)}  # 调休: Saturday worked
QUEUEING_JOBS = ("report_round", "monthly_report", "quarterly_report", "sweep", "chain_head")
PLATFORM_OF = {
    "office": "feishu",
    "leaders": "wecom",
    "fgj": "wecom",
    "czj": "dingtalk",
    "jyj": "feishu",
    "wang": "dingtalk",
}


def _at(month: int, day: int, hour: int = 9, minute: int = 0) -> dt.datetime:
    return dt.datetime(2024, month, day, hour, minute, tzinfo=TZ)


def _hours(start: dt.datetime, end: dt.datetime) -> Iterator[dt.datetime]:
    moment = start
    while moment <= end:
        yield moment
        moment += dt.timedelta(hours=1)


def _working_time(moment: dt.datetime) -> bool:
    """October 2024's working time written out by hand (not read from the calendar)."""
    day = moment.date()
    if day in HOLIDAY or (day.weekday() >= 5 and day not in WORKING_WEEKEND):
        return False
    return dt.time(9) <= moment.time() < dt.time(18)


def _physical(clock: FakeClock) -> Callable[[], float]:
    """The office clock as epoch seconds: the platforms' and the rate limiter's time."""

    def now() -> float:
        return clock.now.timestamp()

    return now


def _robot(fake: FakePlatforms, platform: str) -> dict[str, Any]:
    if platform == "wecom":
        return {"webhook": fake.add_wecom()}
    add = fake.add_dingtalk if platform == "dingtalk" else fake.add_feishu
    return {"webhook": add(secret=SECRET, keyword=KEYWORD), "secret": SECRET, "keyword": KEYWORD}


@pytest.fixture
def month(tmp_path: Path) -> Iterator[tuple[Services, FakeClock, FakePlatforms]]:
    clock = FakeClock(_at(9, 20, 10))
    fake = FakePlatforms(clock=_physical(clock)).start()
    try:
        raw = county_config(f"sqlite:///{tmp_path / 'october.db'}")
        raw["channels"] = [
            {"name": name, "platform": platform, **_robot(fake, platform)}
            for name, platform in PLATFORM_OF.items()
        ]
        raw["allowed_webhook_hosts"] = [fake.host]
        config = parse_config(raw)
        services = Services(config=config, ledger=open_ledger(config.store, clock))
        assign(services, "A", dt.date(2024, 9, 30), lead=FGJ)  # urged on 10-08, after 国庆
        assign(services, "B", dt.date(2024, 10, 11), lead=CZJ)  # urged on Saturday 10-12
        assign(services, "C", dt.date(2024, 10, 25), lead=JYJ, co_units=(FGJ,))
        yield services, clock, fake
    finally:
        fake.stop()
        services.ledger.close()


def _deliver(services: Services, clock: FakeClock) -> list[DeliveryReport]:
    """The `deliver` job at `clock.now`, and again within the minute while a robot's rate limit
    held something back for a few seconds (the default schedule runs it every minute)."""
    minute_end = (clock.now + dt.timedelta(minutes=1)).timestamp()
    reports: list[DeliveryReport] = []
    for _ in range(60):
        report = deliver_due(services, clock.now, clock=_physical(clock))
        reports.append(report)
        if not report.waiting or report.next_at is None or report.next_at >= minute_end:
            break
        clock.now = max(dt.datetime.fromtimestamp(report.next_at, TZ), clock.now)
    return reports


def _run_october(services: Services, clock: FakeClock) -> list[DeliveryReport]:
    reports: list[DeliveryReport] = []
    for now in _hours(_at(10, 1, 0), _at(10, 31, 23)):
        clock.now = now
        for job in QUEUEING_JOBS:
            JOBS[job](services, now)
        reports += _deliver(services, clock)
    return reports


def _minute(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(TZ).replace(second=0, microsecond=0)


def _by_message(services: Services, event: str) -> dict[UUID, Any]:
    return {e.originator_id: e for e in stored(services, f"{ChatMessage.__qualname__}.{event}")}


def test_october_2024_sends_only_in_working_time_and_what_waited_goes_at_nine(
    month: tuple[Services, FakeClock, FakePlatforms],
) -> None:
    services, clock, fake = month
    reports = _run_october(services, clock)

    # no request reached a platform on 国庆, on an ordinary weekend, or outside working hours
    requests = [dt.datetime.fromtimestamp(a.at, TZ) for a in fake.accepted]
    assert len(requests) == len(fake.answered) > 0  # every request was accepted
    assert [r for r in requests if not _working_time(r)] == []
    assert not any(r.date() in HOLIDAY for r in requests)
    assert any(r.date() in WORKING_WEEKEND for r in requests)  # the 调休 Saturday is served

    queued, delivered = _by_message(services, "Queued"), _by_message(services, "Delivered")
    assert set(delivered) == set(queued)  # by the month's end everything went out
    assert _by_message(services, "Failed") == {}
    held = {key: q for key, q in queued.items() if not _working_time(q.at)}
    kinds = {q.kind for q in held.values()}
    assert {"report_round", "report", "chain_head"} <= kinds, kinds
    for key, message in held.items():
        sent = _minute(delivered[key].at)
        assert sent == services.calendar.next_working_time(message.at)
        assert sent.time() == dt.time(9)  # at the start of working hours …
        assert _working_time(sent)  # … of the next working day
        assert not any(_working_time(m) for m in _hours(message.at, sent - dt.timedelta(hours=1)))

    # what was queued during 国庆 (the round, last month's and last quarter's reports, the chain
    # heads) went out together on Tuesday 10-08 at 09:00; the platforms saw nothing before
    during_holiday = [k for k, q in queued.items() if q.at.astimezone(TZ).date() in HOLIDAY]
    assert len(during_holiday) >= 4
    assert {_minute(delivered[k].at) for k in during_holiday} == {_at(10, 8, 9)}
    assert _minute(min(requests)) == _at(10, 8, 9)

    # a pass outside working time sends nothing, records nothing, and says when it can go
    first = next(r for r in reports if r.now == _at(10, 1, 9))  # National Day, 09:00
    assert (first.attempts, first.delivered) == ([], [])
    assert first.held
    assert first.due == len(first.held)
    assert first.next_at == _at(10, 8, 9).timestamp()
    assert "非工作时间，暂缓发送" in first.summary()
    for report in reports:
        assert bool(report.attempts) <= _working_time(report.now)
        assert not report.held or not _working_time(report.now)

    # task A (due Mon 09-30) is urged on 10-09, a working day after its 交办通知 (queued during
    # 国庆, delivered 10-08: the fair ladder waits for it); task B (due Fri 10-11) on Saturday 10-12
    issued = stored(services, "Reminder.Issued")
    urges = {r.task_code: r.key for r in issued if r.rung == "urge" and r.seq == 0}
    for code, day in (("A", dt.date(2024, 10, 9)), ("B", dt.date(2024, 10, 12))):
        carrying = [k for k, q in queued.items() if urges[code] in q.reminder_keys]
        assert carrying, code
        assert {delivered[k].at.astimezone(TZ).date() for k in carrying} == {day}
