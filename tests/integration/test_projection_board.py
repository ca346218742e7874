"""The task board on a real store: incremental = rebuild = aggregates, the board as of a past
date, and catch-up that survives being killed mid-way (SQLite and PostgreSQL)."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import Tracking
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.calendar import WorkingCalendar
from domain.errors import DomainError
from domain.roles import Identity
from domain.task import ReformTask, task_id
from duban.app import commands as cmd
from duban.app.ledger import Ledger
from duban.app.services import open_ledger
from projections import runner
from projections.asof import board_as_of, facts_as_of
from projections.board import BOARD_FOLD, higher_rung
from projections.facts import Facts, Fold, jsonable
from projections.views import Views, open_views
from tests.conftest import TZ, FakeClock

ROOT = Path(__file__).resolve().parents[2]
OFFICE = Identity("office", "改革办")
UNITS = ("县发展和改革局", "县财政局", "县教育局")
CALENDAR = WorkingCalendar()


def liaison(unit: str) -> Identity:
    return Identity("liaison", "联络员", unit=unit)


def assignment(code: str, lead: str = UNITS[0], **overrides: Any) -> cmd.AssignTask:
    data: dict[str, Any] = {
        "code": code,
        "title": f"改革任务 {code}",
        "lead_unit": lead,
        "co_units": tuple(u for u in UNITS if u != lead)[:1],
        "official": "王建国",
        "group": "经济组",
        "area": "稳增长",
        "deadline": dt.date(2024, 4, 30),
        "deadline_text": "2024年4月底",
        "milestones": (cmd.Milestone(name="方案制定", due=dt.date(2024, 3, 31)),),
    }
    data.update(overrides)
    return cmd.AssignTask.model_validate(data)


def escalate(ledger: Ledger, code: str, rung: str) -> None:
    """The scheduler's command, driven on the aggregate (the ledger has no method for it yet)."""
    task: ReformTask = ledger.repository.get(task_id(code))
    due = task.deadline or dt.date(2024, 12, 31)
    task.record_escalation(rung, "deadline", due, f"{code}|{rung}", "system:duban", ledger.clock())
    ledger.save(task)


def stored_facts(views: Views) -> dict[str, Facts]:
    return {f["code"]: f for f in views.board.projection.facts()}


def oracle(ledger: Ledger, code: str) -> Facts:
    """The board's facts computed directly from the aggregate (and, for the two flags the
    aggregate does not keep, from its own history)."""
    state = ledger.task(code, OFFICE)
    history = ledger.task_history(code, OFFICE)
    returned, active, escalation = False, None, None
    for e in history:
        kind = e["type"].rsplit(".", 1)[-1]
        if kind == "CompletionReturned":
            returned = True
        elif kind == "CompletionSubmitted":
            returned = False
        elif kind == "ExtensionGranted" or (kind == "Revised" and "deadline" in e["changes"]):
            active = None
        elif kind == "EscalationRecorded":
            active = higher_rung(active, e["rung"])
    for rung in (x["rung"] for x in state["escalations"]):
        escalation = higher_rung(escalation, rung)
    facts = {
        k: state[k]
        for k in (
            "code", "title", "area", "lead_unit", "co_units", "official", "group", "deadline",
            "assigned_deadline", "deadline_text", "milestones", "status", "claimed_by",
            "percent", "reports", "last_report_at", "pending_extension", "closed_at",
            "completed_on_time",
        )
    }  # fmt: skip
    facts.update(
        task_id=str(task_id(code)),
        assigned_at=history[0]["at"],
        extensions=len(state["extensions"]),
        completion_returned=returned,
        escalation=escalation,
        active_escalation=active,
        recognitions=[{k: r[k] for k in ("kind", "level", "title")} for r in state["recognitions"]],
        closed_milestones=state["closed_milestones"],
        co_unit_reports=state["co_unit_reports"],
    )
    result: Facts = jsonable(facts)
    return result


# ---- 1. incremental = rebuild = aggregates (property-based) --------------------------------

CODES = ("T1", "T2", "T3")


def valid_actions(ledger: Ledger, code: str) -> list[str]:
    """The commands that apply to the task in its current state: histories stay valid."""
    try:
        state = ledger.task(code, OFFICE)
    except DomainError:
        return ["assign"]
    status = state["status"]
    if status in ("completed", "cancelled"):
        return ["recognise", "wait"]
    actions = ["cancel", "escalate", "recognise", "revise", "wait", "co_report", "milestone"]
    if status == "assigned":
        return [*actions, "claim"]
    actions += ["report"]
    if state["pending_extension"]:
        actions += ["grant", "deny"]
    elif state["deadline"] is not None:
        actions += ["request"]
    actions += ["accept", "return"] if status == "submitted" else ["submit", "submit"]
    return actions


RUNGS = ("notice", "reminder", "urge", "supervise", "bulletin")


def perform(ledger: Ledger, clock: FakeClock, action: str, code: str, n: int) -> None:
    lead = liaison(UNITS[0])
    start = dt.date(2024, 3, 1)
    actions = {
        "assign": lambda: ledger.assign(
            assignment(code, deadline=start + dt.timedelta(days=n)), OFFICE
        ),
        "claim": lambda: ledger.claim(code, lead),
        "report": lambda: ledger.report(code, cmd.ReportProgress(text="进展", percent=n), lead),
        "request": lambda: ledger.request_extension(
            code,
            cmd.RequestExtension(new_deadline=start + dt.timedelta(days=60 + n), reason="用地"),
            lead,
        ),
        "grant": lambda: ledger.grant_extension(code, cmd.DecideExtension(reason="同意"), OFFICE),
        "deny": lambda: ledger.deny_extension(code, cmd.DecideExtension(reason="不同意"), OFFICE),
        "submit": lambda: ledger.submit_completion(
            code, cmd.SubmitCompletion(summary="完成"), lead
        ),
        "accept": lambda: ledger.accept_completion(code, cmd.Decision(reason="同意"), OFFICE),
        "return": lambda: ledger.return_completion(code, cmd.Decision(reason="补材料"), OFFICE),
        "cancel": lambda: ledger.cancel(code, cmd.Decision(reason="撤销"), OFFICE),
        "escalate": lambda: escalate(ledger, code, RUNGS[n % 5]),
        "recognise": lambda: ledger.recognise(
            code, cmd.Recognise(kind="pilot", level="provincial", title="省级试点"), OFFICE
        ),
        "revise": lambda: ledger.import_tasks(
            [
                assignment(
                    code,
                    lead=UNITS[n % 3],
                    co_units=(UNITS[(n + 1) % 3],),
                    deadline=start + dt.timedelta(days=n),
                )
            ],
            OFFICE,
        ),
        "wait": lambda: clock.advance(days=n),
        "co_report": lambda: ledger.report(
            code, cmd.ReportProgress(text=f"配合{n}", percent=n), liaison(UNITS[(n + 1) % 3])
        ),
        "milestone": lambda: ledger.close_milestone(
            code, cmd.CloseMilestone(name="方案制定", reason="完成"), OFFICE
        ),
    }
    # Not valid in this state (or the task does not exist yet): nothing is recorded.
    with contextlib.suppress(DomainError, AggregateNotFoundError):
        actions[action]()
    clock.advance(hours=3)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data(), length=st.integers(1, 60), every=st.integers(1, 6))
def test_incremental_board_equals_rebuild_and_the_aggregates(
    data: st.DataObject, length: int, every: int
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        clock = FakeClock(dt.datetime(2024, 3, 1, 10, 0, tzinfo=TZ))
        ledger = open_ledger(f"sqlite:///{tmp}/duban.db", clock)
        views = open_views(ledger, CALENDAR)
        try:
            for i in range(length):
                code = data.draw(st.sampled_from(CODES))
                action = data.draw(st.sampled_from(valid_actions(ledger, code)))
                perform(ledger, clock, action, code, data.draw(st.integers(0, 60)))
                if i % every == 0:
                    views.catch_up(ledger, ["board"])
            views.catch_up(ledger, ["board"])
            incremental = stored_facts(views)
            expected = {code: oracle(ledger, code) for code in ledger.task_codes()}
            assert incremental == expected
            for unit in UNITS:  # the unit view follows lead and co-unit changes
                shown = [r["code"] for r in views.board.rows(clock.now.date(), unit=unit)]
                assert sorted(shown) == sorted(
                    c for c, f in expected.items() if unit in [f["lead_unit"], *f["co_units"]]
                )
            views.rebuild(ledger, ["board"])
            assert stored_facts(views) == incremental
            today = clock.now.date()
            replayed = board_as_of(ledger, position=ledger.recorder.max_notification_id() or 0,
                                   today=today, calendar=CALENDAR)  # fmt: skip
            assert replayed == views.board.rows(today)
        finally:
            ledger.close()


# ---- 4. the board as of a past date ----------------------------------------------------------


@pytest.fixture
def ledger(store_url: str, clock: FakeClock) -> Iterator[Ledger]:
    app = open_ledger(store_url, clock)
    yield app
    app.close()


def test_board_as_of_a_past_date_shows_what_the_board_showed_then(
    ledger: Ledger, clock: FakeClock
) -> None:
    views = open_views(ledger, CALENDAR)
    shown: dict[dt.date, list[dict[str, Any]]] = {}

    def look() -> None:
        views.catch_up(ledger)
        shown[clock.now.date()] = views.board.rows(clock.now.date())

    lead = liaison(UNITS[0])
    ledger.assign(assignment("A", deadline=dt.date(2024, 3, 29)), OFFICE)  # 2024-03-01
    ledger.assign(assignment("B", deadline=dt.date(2024, 5, 31)), OFFICE)
    ledger.claim("A", lead)
    look()
    clock.advance(days=20)  # 03-21: A due within 5 working days
    ledger.report("A", cmd.ReportProgress(text="方案已起草", percent=30), lead)
    ledger.request_extension(
        "A", cmd.RequestExtension(new_deadline=dt.date(2024, 6, 28), reason="用地未批"), lead
    )
    look()
    clock.advance(days=12)  # 04-02: A overdue (extension not yet decided); B silent > 30 days
    look()
    clock.advance(days=1)  # 04-03: extension granted, A green again
    ledger.grant_extension("A", cmd.DecideExtension(reason="同意"), OFFICE)
    look()
    clock.advance(days=30)  # 05-03: B completed; A has not reported for > 30 days
    ledger.claim("B", lead)
    ledger.submit_completion("B", cmd.SubmitCompletion(summary="已完成"), lead)
    ledger.accept_completion("B", cmd.Decision(reason="同意销号"), OFFICE)
    look()

    lights = {day: [r["light"] for r in rows] for day, rows in shown.items()}
    assert lights == {
        dt.date(2024, 3, 1): ["green", "green"],
        dt.date(2024, 3, 21): ["yellow", "green"],
        dt.date(2024, 4, 2): ["red", "yellow"],
        dt.date(2024, 4, 3): ["green", "yellow"],
        dt.date(2024, 5, 3): ["yellow", "closed"],  # A: 30+ days since its last report
    }
    for day, rows in shown.items():
        assert board_as_of(ledger, on=day, calendar=CALENDAR) == rows, day
    assert board_as_of(ledger, on=dt.date(2024, 3, 21), unit=UNITS[1], calendar=CALENDAR) == [
        r for r in shown[dt.date(2024, 3, 21)] if UNITS[1] in r["co_units"]
    ]


# ---- 2. killed mid-way, restarted: nothing lost, nothing twice ------------------------------


def make_history(ledger: Ledger, clock: FakeClock, tasks: int = 25, reports: int = 6) -> None:
    rows = [assignment(f"2024-{i:02d}", lead=UNITS[i % 3]) for i in range(tasks)]
    ledger.import_tasks(rows, OFFICE)
    for i, row in enumerate(rows):
        ledger.claim(row.code, liaison(row.lead_unit))
        for r in range(reports):
            clock.advance(hours=1)
            report = cmd.ReportProgress(text=f"第{r}次报送", percent=10 * r)
            ledger.report(row.code, report, liaison(row.lead_unit))
        if i % 4 == 0:
            ledger.submit_completion(row.code, cmd.SubmitCompletion(summary="完成"),
                                     liaison(row.lead_unit))  # fmt: skip


def assert_exactly_once(ledger: Ledger, views: Views) -> None:
    last = ledger.recorder.max_notification_id() or 0
    expected, _ = facts_as_of(ledger, position=last)
    assert stored_facts(views) == {f["code"]: f for f in expected}
    positions = [e["position"] for e in views.audit.entries()]
    assert positions == list(range(1, last + 1))
    result = views.chain.verify()
    assert result.intact
    assert result.checked == last


class Crash(Exception):
    pass


def test_a_failure_between_batches_loses_and_duplicates_nothing(
    ledger: Ledger, clock: FakeClock
) -> None:
    make_history(ledger, clock)
    views = open_views(ledger, CALENDAR)
    for projection in views.projections():
        original = projection.view.write
        calls = {"n": 0}

        def failing(steps: Any, tracking: Tracking | None, _orig: Any = original,
                    _calls: dict[str, int] = calls) -> None:  # fmt: skip
            _calls["n"] += 1
            if _calls["n"] == 3:
                raise Crash
            _orig(steps, tracking)

        projection.view.write = failing  # type: ignore[method-assign]
        with pytest.raises(Crash):
            runner.catch_up(ledger, projection, batch=17)
        assert runner.position(projection) == 2 * 17  # two batches committed, the third not
        runner.catch_up(ledger, projection, batch=17)
    assert_exactly_once(ledger, views)


def test_a_fold_that_fails_mid_batch_leaves_no_half_folded_facts_in_memory(
    ledger: Ledger, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_history(ledger, clock)
    views = open_views(ledger, CALENDAR)
    projection = views.board.projection
    runner.catch_up(ledger, projection, batch=17, stop_at=40)  # the facts stay in memory
    fold = dict(BOARD_FOLD.handlers)
    calls = {"n": 0}

    def failing(facts: Facts, event: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 5:  # after four reports of the batch were folded in memory
            raise Crash
        fold[ReformTask.ProgressReported](facts, event)

    handlers = {**fold, ReformTask.ProgressReported: failing}
    monkeypatch.setattr(projection, "fold", Fold(handlers, born=ReformTask.Assigned))
    with pytest.raises(Crash):
        runner.catch_up(ledger, projection, batch=17)
    monkeypatch.undo()
    runner.catch_up(ledger, projection, batch=17)  # the same process carries on
    expected, _ = facts_as_of(ledger, position=ledger.recorder.max_notification_id())
    assert stored_facts(views) == {f["code"]: f for f in expected}


CATCH_UP_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from duban.app.services import open_ledger
    from projections import runner
    from projections.views import open_views
    ledger = open_ledger(sys.argv[1])
    views = open_views(ledger)
    def slowly(name, done, total):
        print(name, done, flush=True)
        time.sleep(0.02)
    for p in views.projections():
        runner.catch_up(ledger, p, batch=7, progress=slowly)
    print("finished", flush=True)
    """
)


def test_a_killed_catch_up_resumes_without_loss_or_duplicates(
    ledger: Ledger, clock: FakeClock, store_url: str
) -> None:
    make_history(ledger, clock)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-c", CATCH_UP_SCRIPT, store_url],
        stdout=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    assert child.stdout is not None
    seen = []
    for line in child.stdout:  # kill it in the middle of the audit trail's catch-up
        seen.append(line)
        if line.startswith("audit ") and int(line.split()[1]) > 50:
            child.send_signal(signal.SIGKILL)
            break
    child.wait(timeout=60)
    child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    views = open_views(ledger, CALENDAR)
    last = ledger.recorder.max_notification_id() or 0
    assert 0 < runner.position(views.audit.projection) < last  # really stopped mid-way
    views.catch_up(ledger)
    assert_exactly_once(ledger, views)


# ---- following live (PostgreSQL LISTEN/NOTIFY, and polling everywhere) ------------------------


@pytest.mark.parametrize("listen", [True, False], ids=["notified", "notification-lost"])
def test_following_keeps_the_board_current(
    ledger: Ledger, clock: FakeClock, listen: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not listen:  # as if every notification were lost: only the poll remains
        monkeypatch.setattr(runner, "_listen", lambda *args: None)
    views = open_views(ledger, CALENDAR)
    stop = threading.Event()
    thread = threading.Thread(
        target=runner.follow,
        args=(ledger, views.projections(["board"]), stop),
        kwargs={"poll_interval": 0.2},
    )
    thread.start()
    try:
        ledger.assign(assignment("F1"), OFFICE)
        ledger.claim("F1", liaison(UNITS[0]))
        ledger.report("F1", cmd.ReportProgress(text="推进", percent=40), liaison(UNITS[0]))
        last = ledger.recorder.max_notification_id()
        views.board.projection.view.wait("duban", last, timeout=30)
        assert stored_facts(views)["F1"]["percent"] == 40
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()


def test_views_live_in_the_event_store_itself(ledger: Ledger, store_url: str) -> None:
    ledger.assign(assignment("V1"), OFFICE)
    views = open_views(ledger, CALENDAR)
    views.catch_up(ledger)
    if store_url.startswith("sqlite"):
        import sqlite3

        with contextlib.closing(sqlite3.connect(store_url.removeprefix("sqlite:///"))) as conn:
            names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        assert {"stored_events", "board_tasks", "audit_entries", "chain"} <= names
    else:
        import psycopg

        from duban.settings.store import postgres_conninfo

        with psycopg.connect(postgres_conninfo(store_url)) as conn:
            names = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables")}
        assert {"duban_events", "duban_board_tasks", "duban_audit_entries", "duban_chain"} <= names
