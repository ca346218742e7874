"""Group commit on a real store (an SQLite file, then PostgreSQL): concurrent commands on
different tasks share one transaction, each keeps its own concurrency check.

What is observed is the recorder's `insert_events` (one call is one transaction): a wrapper
counts the calls, records what each carried, and can hold the first call until the test has
seen the others queue behind it (`GroupCommitter.wait_queued`), so a batch is built by
construction, never by timing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

import pytest
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, OperationalError, StoredEvent

from domain.errors import DomainError
from domain.roles import Identity
from domain.task import ReformTask, task_id
from duban.app import commands as cmd
from duban.app.group_commit import GroupCommitter
from duban.app.ledger import Ledger
from duban.app.services import open_ledger
from duban.settings.store import store_env
from tests.conftest import FakeClock

UNIT = "县发展和改革局"
OFFICE = Identity("office", "改革办")
LIAISON = Identity("liaison", "张伟", unit=UNIT)
WAIT = 60.0


@dataclass
class Recorded:
    """Every `insert_events` call: its events, and whether it raised."""

    real: Callable[..., Any]
    calls: list[tuple[list[StoredEvent], str]] = field(default_factory=list)
    hold_first: bool = False
    fail_call: int | None = None  # raise OperationalError on this call (1-based), store nothing
    entered: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, stored: Sequence[StoredEvent], **kwargs: Any) -> Any:
        with self.lock:
            number = len(self.calls) + 1
            entry: tuple[list[StoredEvent], str] = (list(stored), "pending")
            self.calls.append(entry)
        if number == 1 and self.hold_first:
            self.entered.set()
            assert self.release.wait(WAIT)
        if number == self.fail_call:
            self._end(number, "crashed")
            raise OperationalError("connection lost (injected)")
        try:
            ids = self.real(stored, **kwargs)
        except IntegrityError:
            self._end(number, "conflict")
            raise
        self._end(number, "ok")
        return ids

    def _end(self, number: int, outcome: str) -> None:
        with self.lock:
            self.calls[number - 1] = (self.calls[number - 1][0], outcome)

    def sizes(self) -> list[tuple[int, str]]:
        return [(len(events), outcome) for events, outcome in self.calls]


def recording(ledger: Ledger, **options: Any) -> Recorded:
    recorded = Recorded(ledger.recorder.insert_events, **options)
    ledger.recorder.insert_events = recorded  # type: ignore[method-assign]
    return recorded


@pytest.fixture
def ledger(store_url: str, clock: FakeClock) -> Iterator[Ledger]:
    app = open_ledger(store_url, clock)
    assert app.group_commit is not None  # on by default
    yield app
    app.close()


def codes(n: int) -> list[str]:
    return [f"2024-{i:02d}" for i in range(n)]


def claimed(ledger: Ledger, n: int) -> list[str]:
    rows = [cmd.AssignTask(code=c, title=f"第{c}项任务", lead_unit=UNIT) for c in codes(n)]
    ledger.import_tasks(rows, OFFICE)
    for code in codes(n):
        ledger.claim(code, LIAISON)
    return codes(n)


def report(ledger: Ledger, code: str, text: str) -> None:
    ledger.report(code, cmd.ReportProgress(text=text, percent=50), LIAISON)


def reports(ledger: Ledger, code: str) -> list[str]:
    return [e["text"] for e in ledger.task_history(code, OFFICE) if e["type"].endswith("Reported")]


def versions(ledger: Ledger, code: str) -> list[int]:
    return [e["version"] for e in ledger.task_history(code, OFFICE)]


def committer(ledger: Ledger) -> GroupCommitter:
    assert ledger.group_commit is not None
    return ledger.group_commit


def held_batch(
    ledger: Ledger, recorded: Recorded, jobs: list[Callable[[], None]]
) -> list[BaseException | None]:
    """Run `jobs[0]`, hold its insert, run the others until all have queued behind it, then
    let it go: they are flushed together, as one batch. What each job raised (or None)."""

    def run(job: Callable[[], None]) -> BaseException | None:
        try:
            job()
        except BaseException as exc:
            return exc
        return None

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures = [pool.submit(run, jobs[0])]
        assert recorded.entered.wait(WAIT)
        futures += [pool.submit(run, job) for job in jobs[1:]]
        assert committer(ledger).wait_queued(len(jobs) - 1, WAIT)
        recorded.release.set()
        return [f.result(timeout=WAIT) for f in futures]


def test_reports_on_different_tasks_are_written_in_one_transaction(ledger: Ledger) -> None:
    tasks = claimed(ledger, 8)
    recorded = recording(ledger, hold_first=True)
    jobs = [lambda c=c: report(ledger, c, f"{c}的报送") for c in tasks]
    assert held_batch(ledger, recorded, jobs) == [None] * len(tasks)
    assert recorded.sizes() == [(1, "ok"), (len(tasks) - 1, "ok")]
    for code in tasks:
        assert reports(ledger, code) == [f"{code}的报送"]
        assert versions(ledger, code) == [1, 2, 3]


def test_two_writers_on_one_task_one_retried_both_land_in_order(ledger: Ledger) -> None:
    (code,) = claimed(ledger, 1)
    recorded = recording(ledger, hold_first=True)
    texts = ["甲的报送", "乙的报送"]
    jobs = [lambda t=t: report(ledger, code, t) for t in texts]
    assert held_batch(ledger, recorded, jobs) == [None, None]
    # the second loaded the same version, lost at its insert, reloaded and landed after
    assert recorded.sizes() == [(1, "ok"), (1, "conflict"), (1, "ok")]
    assert reports(ledger, code) == texts
    assert versions(ledger, code) == [1, 2, 3, 4]


def test_a_member_that_lost_its_race_does_not_fail_the_others(
    ledger: Ledger, store_url: str, clock: FakeClock
) -> None:
    tasks = claimed(ledger, 4)
    for code in tasks:  # this process now holds a copy of each task
        report(ledger, code, "初次报送")
    other = open_ledger(store_url, clock)  # another process overtakes task 1
    try:
        report(other, tasks[1], "另一进程的报送")
    finally:
        other.close()
    recorded = recording(ledger, hold_first=True)
    jobs = [lambda c=c: report(ledger, c, f"{c}第二次报送") for c in tasks]
    assert held_batch(ledger, recorded, jobs) == [None] * 4
    outcomes = [outcome for _, outcome in recorded.calls]
    assert outcomes.count("conflict") == 1  # the batch holding the stale member, once
    refused = next(events for events, outcome in recorded.calls if outcome == "conflict")
    after = recorded.calls[outcomes.index("conflict") + 1 :]
    # the others of that batch commit together, in one transaction; the loser retries alone
    assert [(len(e), o) for e, o in after] == [(len(refused) - 1, "ok"), (1, "ok")]
    for code in tasks:
        expected = [
            "初次报送",
            *(["另一进程的报送"] if code == tasks[1] else []),
            f"{code}第二次报送",
        ]
        assert reports(ledger, code) == expected
        assert versions(ledger, code) == list(range(1, len(expected) + 3))


def test_a_crash_in_the_batch_insert_reaches_every_member_and_loses_nothing(
    ledger: Ledger,
) -> None:
    tasks = claimed(ledger, 5)
    recorded = recording(ledger, hold_first=True, fail_call=2)
    jobs = [lambda c=c: report(ledger, c, f"{c}的报送") for c in tasks]
    raised = held_batch(ledger, recorded, jobs)
    assert recorded.sizes() == [(1, "ok"), (len(tasks) - 1, "crashed")]
    assert raised[0] is None
    assert all(isinstance(exc, OperationalError) for exc in raised[1:]), raised
    failed = tasks[1:]
    for code in failed:  # nothing of theirs was stored; sent again, stored once
        assert reports(ledger, code) == []
        report(ledger, code, f"{code}的报送")
    for code in tasks:
        assert reports(ledger, code) == [f"{code}的报送"]
        assert versions(ledger, code) == [1, 2, 3]


class Note(Aggregate):
    """Another aggregate a task command changes with the task (as a chat message would)."""

    @staticmethod
    def create_id(key: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"note/{key}")

    def __init__(self, key: str) -> None:
        self.key = key


@pytest.mark.parametrize("group", ["y", "n"])
def test_saving_also_commits_with_the_task_and_retries_with_it(
    store_url: str, clock: FakeClock, group: str
) -> None:
    ledger = Ledger(env={**store_env(store_url), "GROUP_COMMIT": group}, clock=clock)
    try:
        (code,) = claimed(ledger, 1)
        ledger.save(Note("已占用"))
        calls: list[int] = []

        def also(task: ReformTask, at: object) -> list[Aggregate]:
            calls.append(task.version)
            # the first attempt's note conflicts (its id is taken): task and note fail together
            return [Note("已占用" if len(calls) == 1 else "回执")]

        recorded = recording(ledger)
        with ledger.saving_also(also):
            report(ledger, code, "带回执的报送")
        report(ledger, code, "之后的报送")  # the hook is scoped: not called again
        assert len(calls) == 2
        assert reports(ledger, code) == ["带回执的报送", "之后的报送"]
        assert versions(ledger, code) == [1, 2, 3, 4]
        refused, saved = recorded.calls[0], recorded.calls[-2]
        assert refused[1] == "conflict"
        assert saved[1] == "ok"
        assert {e.originator_id for e in saved[0]} == {task_id(code), Note.create_id("回执")}
        note: Note = ledger.repository.get(Note.create_id("回执"))
        assert note.version == 1
    finally:
        ledger.close()


def test_a_stale_copy_never_changes_the_answer(
    ledger: Ledger, store_url: str, clock: FakeClock
) -> None:
    """This process's copy says open; another process cancelled the task meanwhile: the report
    is refused as a fresh load would refuse it (not as a race), and nothing is stored."""
    (code,) = claimed(ledger, 1)
    report(ledger, code, "初次报送")
    other = open_ledger(store_url, clock)
    try:
        other.cancel(code, cmd.Decision(reason="任务调整，予以撤销"), OFFICE)
        with pytest.raises(DomainError) as ours:
            report(ledger, code, "撤销后报送")
        with pytest.raises(DomainError) as theirs:
            report(other, code, "撤销后报送")
    finally:
        other.close()
    assert type(ours.value) is type(theirs.value)
    assert ours.value.message == theirs.value.message
    assert reports(ledger, code) == ["初次报送"]


def snapshot_versions(ledger: Ledger, code: str) -> list[int]:
    assert ledger.snapshots is not None
    return [s.originator_version for s in ledger.snapshots.get(task_id(code))]


def test_snapshots_due_in_a_batch_are_written_once_it_committed_and_never_for_a_loser(
    ledger: Ledger, store_url: str, clock: FakeClock
) -> None:
    """Every task reaches version 50 (a snapshot is due) in one batch; the member whose copy
    another process overtook loses its insert and writes no snapshot (the other process's
    snapshot at 50 stays the only one); the others' snapshots are written together, once
    their events committed, and a fresh process loads every task right from them."""
    tasks = claimed(ledger, 4)  # version 2
    for i in range(47):  # version 49: this process holds a copy of each
        for code in tasks:
            report(ledger, code, f"第{i}次")
    other = open_ledger(store_url, clock)
    try:
        report(other, tasks[1], "另一进程的报送")  # version 50 of task 1, and its snapshot
    finally:
        other.close()
    assert ledger.snapshots is not None
    snapshots = recording_snapshots(ledger)
    recorded = recording(ledger, hold_first=True)
    jobs = [lambda c=c: report(ledger, c, f"{c}第五十次") for c in tasks]
    assert held_batch(ledger, recorded, jobs) == [None] * 4
    # the first job alone, then tasks 2 and 3 of the refused batch together; task 1's retry
    # lands at version 51, where no snapshot is due
    assert snapshots.sizes() == [(1, "ok"), (2, "ok")]
    for code in tasks:
        assert snapshot_versions(ledger, code) == [50]
    fresh = open_ledger(store_url, clock)
    try:
        for code in tasks:
            state = fresh.task(code, OFFICE)
            assert state["reports"] == (49 if code == tasks[1] else 48)
            assert state["version"] == (51 if code == tasks[1] else 50)
    finally:
        fresh.close()


def recording_snapshots(ledger: Ledger) -> Recorded:
    assert ledger.snapshots is not None
    recorder = ledger.snapshots.recorder
    recorded = Recorded(recorder.insert_events)
    recorder.insert_events = recorded  # type: ignore[method-assign]
    return recorded


def test_a_read_gets_its_own_copy_and_a_refused_command_keeps_the_copy(ledger: Ledger) -> None:
    """The copy a command saved is handed to the next command, never shared: what a read got
    can be changed without reaching it. A command refused before it changed anything leaves
    the copy as it was, so the next command still starts from it without a read."""
    (code,) = claimed(ledger, 1)
    report(ledger, code, "初次报送")
    got = ledger._task(code)
    got.report_progress("未保存的报送", 90, [], LIAISON.actor, ledger.clock())
    report(ledger, code, "第二次报送")
    assert reports(ledger, code) == ["初次报送", "第二次报送"]
    assert versions(ledger, code) == [1, 2, 3, 4]
    assert ledger.task(code, OFFICE)["percent"] == 50
    with pytest.raises(DomainError):
        ledger.close_milestone(code, cmd.CloseMilestone(name="没有这个节点", reason="无"), OFFICE)
    real_select = ledger.recorder.select_events
    read: list[object] = []

    def counting(*args: Any, **kwargs: Any) -> Any:
        read.append(args)
        return real_select(*args, **kwargs)

    ledger.recorder.select_events = counting  # type: ignore[method-assign]
    try:
        report(ledger, code, "第三次报送")
    finally:
        ledger.recorder.select_events = real_select  # type: ignore[method-assign]
    assert read == []  # started from the copy, as it was before the refusal
    assert reports(ledger, code) == ["初次报送", "第二次报送", "第三次报送"]
