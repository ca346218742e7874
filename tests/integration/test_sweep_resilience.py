"""Downtime, preview and concurrency: the sweep never sends stale rungs, never sends twice, and
the preview shows exactly what the real sweeps then send."""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path

import pytest

from domain.roles import Identity
from duban.app.delivery_adapters import deliver_due
from duban.app.notices import queue_notices
from duban.app.preview import preview
from duban.app.services import Services
from duban.app.sweep import sweep
from scheduler.cron import next_fire_times
from scheduler.triggers import parse_schedule
from tests.conftest import TZ, FakeClock
from tests.e2e.test_delivery_cli import duban, write_config
from tests.support.sweep import (
    CZJ,
    FGJ,
    assign,
    county,
    county_config,
    deliver,
    issued,
    queued,
    working_hours,
)

D = dt.date


def _at(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=TZ)


def _told(svc: Services, now: dt.datetime) -> None:
    """The 交办 notices queued and delivered at `now` (what a sweep and a delivery pass do)."""
    queue_notices(svc, now)
    deliver_due(svc, now)


def test_after_three_working_days_down_only_the_highest_due_rung_goes_out(
    tmp_path: Path,
) -> None:
    """A: deadline Fri 06-28 (notice 06-21, reminder 06-27, urge Mon 07-01).
    B: deadline Tue 07-02 (notice 06-25, reminder 07-01, urge 07-03).
    Both claimed at once. The scheduler (sweep and delivery) is down Thu 06-27, Fri 06-28
    and Mon 07-01 and restarts Tue 07-02."""
    clock = FakeClock(_at(D(2024, 6, 17), 8))
    svc = county(f"sqlite:///{tmp_path / 'down.db'}", clock)
    assign(svc, "A", D(2024, 6, 28))
    assign(svc, "B", D(2024, 7, 2), lead=CZJ)
    svc.ledger.claim("A", Identity("liaison", "张伟", unit=FGJ))
    svc.ledger.claim("B", Identity("liaison", "李娜", unit=CZJ))
    down = {D(2024, 6, 27), D(2024, 6, 28), D(2024, 6, 29), D(2024, 6, 30), D(2024, 7, 1)}
    for now in working_hours(D(2024, 6, 17), D(2024, 7, 2)):
        if now.date() not in down:
            clock.now = now
            sweep(svc, now)
            deliver(svc, now)
    fired = [(e.at.date(), e.task_code, e.rung, e.seq) for e in issued(svc)]
    assert fired == [
        (D(2024, 6, 21), "A", "notice", 0),
        (D(2024, 6, 25), "B", "notice", 0),
        (D(2024, 7, 2), "A", "urge", 0),  # not the stale reminder of 06-27 (the notice of
        # 06-21 reached the unit, so the urge may follow)
        (D(2024, 7, 2), "B", "reminder", 0),  # the reminder of 07-01, late, but still the top
    ]
    restart = [m for m in queued(svc) if m.at.date() == D(2024, 7, 2)]
    assert sorted(m.channel for m in restart) == ["czj", "fgj", "office"]


def _real_sweeps(svc: Services, clock: FakeClock, start: dt.date, end: dt.date) -> None:
    """Run the sweep at every tick of the configured cadence, as the scheduler would, each
    followed by delivery (the preview takes every message as delivered when it is sent)."""
    trigger = parse_schedule(svc.config.schedules.sweep, TZ, svc.calendar)
    moment = _at(start, 0) - dt.timedelta(microseconds=1)
    last = _at(end + dt.timedelta(days=1), 0)
    while (fire := next_fire_times(trigger, moment, 1)) and fire[0] < last:
        moment = clock.now = fire[0]
        if sweep(svc, moment).issued:
            deliver(svc, moment)


def test_preview_of_a_month_shows_what_the_sweeps_of_that_month_then_send(
    tmp_path: Path,
) -> None:
    clock = FakeClock(_at(D(2024, 9, 1), 8))
    svc = county(f"sqlite:///{tmp_path / 'preview.db'}", clock)
    assign(svc, "A", D(2024, 10, 8))
    assign(svc, "B", D(2024, 9, 20), milestones=(("方案", D(2024, 9, 10)),), lead=CZJ)
    assign(svc, "C", D(2024, 9, 27), co_units=(FGJ,))
    before = svc.ledger.recorder.max_notification_id()

    shown = [m for m in preview(svc, D(2024, 9, 1), D(2024, 9, 30)) if m.kind == "digest"]
    assert svc.ledger.recorder.max_notification_id() == before  # the real store is untouched
    assert queued(svc) == []

    _real_sweeps(svc, clock, D(2024, 9, 1), D(2024, 9, 30))
    sent = [
        (m.at, m.channel, m.title, tuple(m.parts), tuple(m.mention_mobiles))
        for m in queued(svc)
        if m.kind == "digest"  # as shown: not the 交办通知
    ]
    assert len(sent) >= 8
    assert [(m.at, m.channel, m.title, m.parts, m.mention_mobiles) for m in shown] == sent


@pytest.mark.postgres
def test_two_sweeps_at_the_same_instant_on_postgres_issue_each_key_once(
    pg_url: str,
) -> None:
    clock = FakeClock(_at(D(2024, 10, 9), 8))
    first = county(pg_url, clock)
    for i in range(40):
        assign(first, f"T{i:02d}", D(2024, 10, 8), lead=(FGJ, CZJ)[i % 2])
    second = county(pg_url, clock)
    _told(first, _at(D(2024, 10, 9), 9))  # the fair ladder urges a working day after the 交办
    now = _at(D(2024, 10, 10), 9)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(svc: Services) -> None:
        try:
            barrier.wait()
            sweep(svc, now)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(s,)) for s in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    keys = [e.key for e in issued(first)]
    assert len(keys) == 40
    assert len(set(keys)) == 40
    carried = [k for m in queued(first) for k in m.reminder_keys]
    assert sorted(carried) == sorted(keys * 2)  # each urge in the unit's chat and the office's
    first.ledger.close()
    second.ledger.close()


def test_a_dry_run_reports_what_a_real_sweep_then_writes_and_stores_nothing(
    tmp_path: Path,
) -> None:
    clock = FakeClock(_at(D(2024, 10, 9), 8))
    svc = county(f"sqlite:///{tmp_path / 'dry.db'}", clock)
    assign(svc, "A", D(2024, 10, 8))
    _told(svc, _at(D(2024, 10, 9)))  # the 交办 delivered: the urge is due the next working day
    before = svc.ledger.recorder.max_notification_id()
    dry = sweep(svc, _at(D(2024, 10, 10)), dry_run=True)
    assert svc.ledger.recorder.max_notification_id() == before
    real = sweep(svc, _at(D(2024, 10, 10)))
    assert dry.rungs == real.rungs == {"urge": 1}
    assert dry.messages == real.messages


def test_preview_shows_a_message_queued_on_a_holiday_at_its_sending_time(
    tmp_path: Path,
) -> None:
    """An operator's plain cron opens the round on National Day and posts the monthly report
    on a Sunday: both are queued then and shown at 09:00 on the next working day."""
    clock = FakeClock(_at(D(2024, 9, 20), 8))
    schedules = {"report_round": "0 9 1 * *", "monthly_report": "0 10 6 10 *"}
    svc = county(f"sqlite:///{tmp_path / 'holiday.db'}", clock, schedules=schedules)
    assign(svc, "A", D(2024, 12, 31))

    shown = preview(svc, D(2024, 10, 1), D(2024, 10, 8), ("report_round", "monthly_report"))

    assert shown, "the round and the report queue messages"
    assert {(m.job, m.queued_at) for m in shown} == {
        ("report_round", _at(D(2024, 10, 1), 9)),
        ("monthly_report", _at(D(2024, 10, 6), 10)),
    }
    assert all(m.at == _at(D(2024, 10, 8), 9) and m.held for m in shown)  # Tuesday after 国庆
    assert [m.at for m in shown] == sorted(m.at for m in shown)


def test_the_preview_command_shows_the_sending_time_beside_the_queueing_time(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    schedules = {"report_round": "0 9 1 * *"}
    svc = county(url, FakeClock(_at(D(2024, 9, 20), 8)), schedules=schedules)
    assign(svc, "A", D(2024, 12, 31))
    svc.ledger.close()
    config = write_config(tmp_path, county_config(url, schedules=schedules))
    window = ("scheduler", "preview", "--from", "2024-10-01", "--to", "2024-10-08")

    table = duban(config, *window)
    shown = duban(config, *window, "--format", "json")

    assert table.returncode == 0, table.stderr
    assert "发送时间 2024-10-08 09:00  月度报送轮次  入队时间 2024-10-01 09:00" in table.stdout
    assert "非工作时间，顺延至工作时间发送" in table.stdout
    assert shown.returncode == 0, shown.stderr
    rounds = [m for m in json.loads(shown.stdout) if m["job"] == "report_round"]
    assert rounds
    for message in rounds:
        assert dt.datetime.fromisoformat(message["at"]) == _at(D(2024, 10, 8), 9)
        assert dt.datetime.fromisoformat(message["queued_at"]) == _at(D(2024, 10, 1), 9)
        assert message["held"] is True
