"""The due index learns deliveries from the outbox: a reminder counts once its message reached
the lead unit's chat, a 交办 notice holds the ladder while it waits (not once given up on)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from domain.reminder import ChatMessage
from domain.roles import Identity
from duban.app.services import Services
from duban.app.sweep import ladder_from_config, open_index, sweep
from projections.due import DueTask
from tests.conftest import TZ, FakeClock
from tests.support.sweep import CZJ, FGJ, assign, county, deliver

D = dt.date
NOW = dt.datetime(2026, 12, 2, 9, tzinfo=TZ)


def _task(svc: Services, code: str) -> DueTask:
    index = open_index(svc, ladder_from_config(svc.config), svc.calendar)
    index.catch_up(svc.ledger)
    return next(t for t in index.tasks() if t.code == code)


def _notice(svc: Services, code: str, channel: str, key: str) -> ChatMessage:
    message = ChatMessage(
        message_key=key, channel=channel, kind="assignment_notice", title="交办通知",
        parts=["…"], mention_mobiles=[], reminder_keys=[], task_codes=[code],
        actor="system:duban", at=NOW,
    )  # fmt: skip
    svc.ledger.save(message)
    return message


def test_a_reminder_counts_once_delivered_to_the_lead_units_chat(tmp_path: Path) -> None:
    svc = county(f"sqlite:///{tmp_path / 'due.db'}", FakeClock(NOW))
    assign(svc, "A", D(2026, 11, 18), co_units=(CZJ,))
    svc.ledger.claim("A", Identity("liaison", "张伟", unit=FGJ))
    assert sweep(svc, NOW).rungs == {}  # the 交办 notice goes first and holds the ladder
    deliver(svc, NOW + dt.timedelta(minutes=1))
    day = dt.timedelta(days=1)
    assert sweep(svc, NOW + day).rungs == {"urge": 1}  # Thursday 12-03
    [key] = _task(svc, "A").fired
    assert _task(svc, "A").delivered == {}
    assert sweep(svc, NOW + 2 * day).issued == 0  # 催办 not delivered yet: no 督办
    deliver(svc, NOW + 2 * day + dt.timedelta(minutes=1))
    assert _task(svc, "A").delivered == {key: D(2026, 12, 4)}
    assert sweep(svc, NOW + 5 * day).rungs == {"supervise": 1}  # Monday 12-07, one working day on


def test_an_assignment_notice_holds_the_ladder_until_delivered_or_given_up(
    tmp_path: Path,
) -> None:
    svc = county(f"sqlite:///{tmp_path / 'notice.db'}", FakeClock(NOW))
    for code in ("A", "B"):
        assign(svc, code, D(2026, 11, 18))
        svc.ledger.claim(code, Identity("liaison", "张伟", unit=FGJ))
    _notice(svc, "A", "fgj", "n-a")
    lost = _notice(svc, "B", "fgj", "n-b")
    _notice(svc, "B", "office", "n-b-office")  # not the lead unit's chat: not the notice
    assert _task(svc, "A").ladder_input.told_pending
    assert sweep(svc, NOW, dry_run=True).issued == 0  # both wait for their 交办
    lost.mark_failed("群机器人地址失效", actor="system:duban", at=NOW)
    svc.ledger.save(lost)
    b = _task(svc, "B").ladder_input
    assert (b.told_pending, b.told_on) == (False, None)
    freed = sweep(svc, NOW, dry_run=True)
    assert freed.rungs == {"urge": 1}
    assert {m.task_codes for m in freed.messages} == {("B",)}
    deliver(svc, NOW + dt.timedelta(minutes=1))
    a = _task(svc, "A").ladder_input
    assert (a.told_pending, a.told_on) == (False, D(2026, 12, 2))
    later = sweep(svc, NOW + dt.timedelta(days=1), dry_run=True)
    assert later.rungs == {"urge": 2}
