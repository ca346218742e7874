"""交办通知 (PRODUCT.md rule 10): an assignment queues one message per unit chat, listing the
chat's new tasks as 牵头 (with the 签收 deadline) or 配合, once, from the events since the last
run; the task's audit trail shows the message."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest

from duban.app import commands as cmd
from duban.app.notices import VIEW_NAME, queue_notices
from duban.app.services import Services
from duban.app.sweep import sweep
from projections import runner
from projections.viewstore import view_recorder
from tests.conftest import TZ, FakeClock
from tests.support.sweep import CZJ, FGJ, JYJ, OFFICE, county, event_count, queued

# Wednesday 2026-12-02 10:00: three working days later is Monday 2026-12-07.
NOW = dt.datetime(2026, 12, 2, 10, 0, tzinfo=TZ)
CLAIM_BY = "2026年12月7日"


def row(code: str, lead: str, *co: str, deadline: dt.date | None = None) -> cmd.AssignTask:
    return cmd.AssignTask(
        code=code,
        title=f"改革任务{code}",
        lead_unit=lead,
        co_units=co,
        deadline=deadline,
        deadline_text=str(deadline or "持续推进"),
    )


ROWS = [
    row("2026-01", FGJ, CZJ, deadline=dt.date(2026, 12, 31)),
    row("2026-02", CZJ),
    row("2026-03", FGJ, deadline=dt.date(2027, 3, 31)),
]


@pytest.fixture
def services(store_url: str) -> Services:
    """On SQLite and on PostgreSQL (the position is a view table of each)."""
    return county(store_url, FakeClock(NOW))


def notices(services: Services) -> dict[str, Any]:
    """The 交办 notices queued (their `ChatMessage.Queued` events), by chat."""
    found = [m for m in queued(services) if m.kind == "assignment_notice"]
    return {m.channel: m for m in found}


def test_an_import_queues_one_notice_per_unit_chat_with_lead_and_co_unit_tasks(
    services: Services,
) -> None:
    services.ledger.import_tasks(ROWS, OFFICE)

    report = queue_notices(services, NOW)

    told = notices(services)
    assert sorted(told) == ["czj", "fgj"]  # 县教育局 has no task: told nothing
    assert len(report.queued) == 2
    fgj, czj = told["fgj"], told["czj"]
    fgj_text, czj_text = "".join(fgj.parts), "".join(czj.parts)
    assert fgj.title == "交办通知｜县发展和改革局｜2026-12-02"
    assert "县发展和改革局：牵头任务（2项） @张伟" in fgj_text
    assert (
        f"**2026-01** 改革任务2026-01｜完成时限：2026年12月31日｜签收期限：{CLAIM_BY}" in fgj_text
    )
    assert f"**2026-03** 改革任务2026-03｜完成时限：2027年3月31日｜签收期限：{CLAIM_BY}" in fgj_text
    assert "配合任务" not in fgj_text
    assert "县财政局：牵头任务（1项）" in czj_text
    assert f"**2026-02** 改革任务2026-02｜完成时限：持续推进｜签收期限：{CLAIM_BY}" in czj_text
    assert "县财政局：配合任务（1项）" in czj_text
    assert (
        "**2026-01** 改革任务2026-01｜完成时限：2026年12月31日｜牵头单位：县发展和改革局"
        in czj_text
    )
    assert fgj.task_codes == ["2026-01", "2026-03"]
    assert sorted(czj.task_codes) == ["2026-01", "2026-02"]
    assert fgj.mention_mobiles == ["13800000001"]  # the lead unit's liaison is @-mentioned


def test_running_the_step_again_queues_nothing_and_reads_only_new_events(
    services: Services,
) -> None:
    services.ledger.import_tasks(ROWS, OFFICE)
    queue_notices(services, NOW)
    before = event_count(services)

    again = queue_notices(services, NOW)
    also = sweep(services, NOW + dt.timedelta(minutes=15))  # the sweep runs the step too

    assert again.queued == []
    assert again.events == 0
    assert len(notices(services)) == 2
    assert [m.kind for m in queued(services)].count("assignment_notice") == 2
    assert also.issued == 0
    assert event_count(services) == before


def test_a_lost_position_queues_nothing_twice(services: Services) -> None:
    """A crash after queueing but before the position was recorded: the messages' keys are
    the events', so the run that reads them again collides and queues nothing."""
    services.ledger.import_tasks(ROWS, OFFICE)
    queue_notices(services, NOW)
    view = view_recorder(services.ledger.recorder.datastore, VIEW_NAME, (), ())  # type: ignore[attr-defined]
    view.drop()
    view.create_table()

    again = queue_notices(services, NOW + dt.timedelta(hours=1))

    assert again.events == 3
    assert again.queued == []
    assert len(notices(services)) == 2


def test_a_later_assignment_is_its_own_notice(services: Services) -> None:
    services.ledger.import_tasks(ROWS, OFFICE)
    queue_notices(services, NOW)
    services.ledger.clock = lambda: NOW + dt.timedelta(days=1)  # Thursday: claim by Tuesday
    services.ledger.assign(row("2026-04", JYJ, FGJ), OFFICE)

    report = queue_notices(services, NOW + dt.timedelta(days=1))

    assert len(report.queued) == 2
    later = [m for m in queued(services) if m.kind == "assignment_notice"][2:]
    assert sorted(m.channel for m in later) == ["fgj", "jyj"]
    jyj = next(m for m in later if m.channel == "jyj")
    assert "签收期限：2026年12月8日" in "".join(jyj.parts)
    fgj = next(m for m in later if m.channel == "fgj")
    assert "县发展和改革局：配合任务（1项）" in "".join(fgj.parts)
    assert "2026-01" not in "".join(fgj.parts)


def test_claim_days_follow_the_config_and_the_holidays(sqlite_url: str) -> None:
    """Assigned on Wednesday 2026-09-30, before the National Day holiday (10-01 to 10-07):
    the five working days after are 10-08, 10-09, Saturday 10-10 (调休), 10-12 and 10-13."""
    at = dt.datetime(2026, 9, 30, 10, 0, tzinfo=TZ)
    services = county(sqlite_url, FakeClock(at), ladder={"claim_within_working_days": 5})
    services.ledger.import_tasks([ROWS[1]], OFFICE)

    queue_notices(services, at)

    (czj,) = notices(services).values()
    assert "签收期限：2026年10月13日" in "".join(czj.parts)


def test_a_unit_without_a_chat_is_noticed_in_the_office_chat(services: Services) -> None:
    services.ledger.import_tasks([row("2026-09", "县教体局")], OFFICE)

    queue_notices(services, NOW)

    (office,) = notices(services).values()
    assert office.channel == "office"
    assert "县教体局：牵头任务（1项）" in "".join(office.parts)


def test_values_are_escaped_and_mobiles_masked(services: Services) -> None:
    title = "[点我](http://evil.example) <@all> **加急** 13912345678"
    services.ledger.import_tasks([row("2026-10", FGJ).model_copy(update={"title": title})], OFFICE)

    queue_notices(services, NOW)

    text = "".join(notices(services)["fgj"].parts)
    assert "［点我］（http：//evil.example）" in text
    assert "＜＠all＞" in text
    assert "＊＊加急＊＊" in text
    assert "139＊＊＊＊5678" in text
    assert "13912345678" not in text


def test_a_store_written_before_the_step_does_not_announce_its_history(
    sqlite_url: str,
) -> None:
    """No recorded position: the first run tells only of the last two weeks."""
    old = NOW - dt.timedelta(days=30)
    services = county(sqlite_url, FakeClock(old))
    services.ledger.import_tasks(ROWS[:1], OFFICE)
    services.ledger.clock = lambda: NOW
    services.ledger.import_tasks(ROWS[1:2], OFFICE)

    queue_notices(services, NOW)

    (czj,) = notices(services).values()
    assert czj.task_codes == ["2026-02"]


def test_the_task_audit_trail_shows_the_notice(services: Services) -> None:
    """The message to 县财政局's chat (`czj`; the office's is `office`) is told as sent there."""
    services.ledger.reconcile_directory(services.config, OFFICE)  # as `duban init` records it
    services.ledger.import_tasks(ROWS, OFFICE)
    queue_notices(services, NOW)
    views = services.views()
    runner.catch_up(services.ledger, views.audit.projection)

    trail = [e["summary"] for e in views.audit.entries("2026-02")]

    assert any("交办通知｜县财政局｜2026-12-02" in s and "发往县财政局群" in s for s in trail)
    assert not any("czj" in s or "县委改革办群" in s for s in trail)


def test_a_chat_the_trail_has_no_record_of_is_not_called_the_offices(services: Services) -> None:
    """Without the directory recorded, the trail cannot tell whose chat `czj` is: it says
    「工作群」, not the office's chat (it used to); with the config's names, 县财政局群."""
    services.ledger.import_tasks(ROWS, OFFICE)
    queue_notices(services, NOW)
    views = services.views()
    runner.catch_up(services.ledger, views.audit.projection)

    views.audit.chats = {}  # the trail alone (the services give it the config's names)
    bare = [e["summary"] for e in views.audit.entries("2026-02")]
    views.audit.chats = {"czj": "县财政局", "office": "县委改革办"}
    named = [e["summary"] for e in views.audit.entries("2026-02")]

    notice = "生成消息「交办通知｜县财政局｜2026-12-02」"
    assert any(notice in s and "发往工作群" in s for s in bare)
    assert not any("县委改革办群" in s for s in bare)
    assert any(notice in s and "发往县财政局群" in s for s in named)


def test_a_reimport_tells_only_the_units_new_to_a_task(services: Services) -> None:
    services.ledger.import_tasks(ROWS, OFFICE)
    queue_notices(services, NOW)
    later = NOW + dt.timedelta(days=1)
    services.ledger.clock = lambda: later
    edited = [
        ROWS[0].model_copy(update={"title": "改革任务2026-01（修订）"}),  # no unit changed
        ROWS[1].model_copy(update={"lead_unit": JYJ}),  # a new lead unit
        ROWS[2].model_copy(update={"co_units": (CZJ, JYJ)}),  # two new co-units
    ]
    services.ledger.import_tasks(edited, OFFICE)

    report = queue_notices(services, later)

    later_notices = [m for m in queued(services) if m.kind == "assignment_notice"][2:]
    assert len(report.queued) == 2
    told = {m.channel: "".join(m.parts) for m in later_notices}
    assert sorted(told) == ["czj", "jyj"]  # 县发展和改革局 learns nothing new
    assert "县教育局：牵头任务（1项）" in told["jyj"]
    assert "**2026-02** 改革任务2026-02｜完成时限：持续推进｜签收期限：2026年12月8日" in told["jyj"]
    assert "县教育局：配合任务（1项）" in told["jyj"]
    assert "2026-03" in told["jyj"]
    assert "县财政局：配合任务（1项）" in told["czj"]
    assert "2026-03" in told["czj"]
    assert "2026-01" not in told["czj"]
    assert "2026-02" not in told["czj"]


@pytest.mark.postgres
def test_two_nodes_running_the_step_at_once_queue_each_notice_once(pg_url: str) -> None:
    """Two processes' services on one PostgreSQL store, started together, several times over."""
    nodes = [county(pg_url, FakeClock(NOW)) for _ in range(2)]
    nodes[0].ledger.import_tasks(ROWS, OFFICE)
    barrier = threading.Barrier(len(nodes))
    queued_by: list[list[str]] = [[] for _ in nodes]

    def run(i: int) -> None:
        for _ in range(3):
            barrier.wait()
            queued_by[i] += queue_notices(nodes[i], NOW).queued

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(nodes))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    keys = [key for found in queued_by for key in found]
    assert sorted(keys) == sorted(set(keys))
    assert len(keys) == 2
    assert len(notices(nodes[0])) == 2
    assert [m.kind for m in queued(nodes[0])].count("assignment_notice") == 2
