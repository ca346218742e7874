"""`ChangeWatch.position()` shares a check among concurrent callers, but only a check that
started after a caller arrived: a change committed before a request is never missed."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from duban.app.people_watch import ChangeWatch

WATCHED = "duban.tokens:Revoked"


class FakeRecorder:
    """The two reads `ChangeWatch` makes, over a list of (id, topic); `gate`, when set, holds
    each `max_notification_id` call until the test lets it go — with the value it read when it
    was called, as a read that reached the store then."""

    def __init__(self) -> None:
        self.events: list[tuple[int, str]] = []
        self.reads = 0
        self.gate: threading.Event | None = None
        self.entered = threading.Semaphore(0)  # released as each read of the last id begins
        self.fail_next = False
        self.delay = 0.0  # seconds each read of the last id takes (as I/O would)

    def add(self, topic: str) -> int:
        self.events.append((len(self.events) + 1, topic))
        return len(self.events)

    def max_notification_id(self) -> int:
        self.reads += 1
        read = len(self.events)
        self.entered.release()
        if self.gate is not None:
            assert self.gate.wait(10)
        if self.delay:
            time.sleep(self.delay)
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("store away")
        return read

    def select_notifications(
        self, start: int, limit: int, *, stop: int, topics: Any, inclusive_of_start: bool
    ) -> list[int]:
        assert not inclusive_of_start
        found = [i for i, topic in self.events if start < i <= stop and topic in topics]
        return found[:limit]


def _watch(recorder: FakeRecorder) -> ChangeWatch[str]:
    return ChangeWatch(recorder, [WATCHED])  # type: ignore[arg-type]


def _in_thread(target: Any) -> tuple[threading.Thread, list[Any]]:
    out: list[Any] = []

    def run() -> None:
        try:
            out.append(target())
        except BaseException as exc:  # handed to the test
            out.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


def _until_waiting(watch: ChangeWatch[str], callers: int) -> None:
    """Until `callers` callers wait for the check under way (the condition's own count)."""
    deadline = time.monotonic() + 10
    while len(watch._flight._waiters) < callers:  # type: ignore[attr-defined]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def test_one_caller_at_a_time_checks_each_time() -> None:
    recorder = FakeRecorder()
    watch = _watch(recorder)
    recorder.add("other")
    assert watch.position() == 1
    watch.remember("t", "alice", 1)
    recorder.add(WATCHED)
    assert watch.position() == 2
    assert watch.get("t") is None  # the revocation dropped the answer
    assert recorder.reads == 2


def test_a_check_under_way_when_a_caller_arrives_does_not_answer_for_it() -> None:
    recorder = FakeRecorder()
    watch = _watch(recorder)
    assert watch.position() == 0
    watch.remember("t", "alice", 0)
    recorder.gate = threading.Event()
    recorder.entered = threading.Semaphore(0)
    first, first_out = _in_thread(watch.position)
    assert recorder.entered.acquire(timeout=10)
    # The first check has begun (and will read no revocation); then a token is revoked and a
    # request arrives: its check must be one that starts now.
    revoked_at = recorder.add(WATCHED)
    second, second_out = _in_thread(lambda: (watch.position(), watch.get("t")))
    _until_waiting(watch, 1)
    recorder.gate.set()
    first.join(10)
    second.join(10)
    assert first_out == [0]  # read before the revocation
    assert second_out == [(revoked_at, None)]  # its own check: the revocation, no stale answer


def test_callers_arriving_during_one_check_share_the_next() -> None:
    recorder = FakeRecorder()
    watch = _watch(recorder)
    recorder.gate = threading.Event()
    first, _ = _in_thread(watch.position)
    assert recorder.entered.acquire(timeout=10)
    recorder.add("other")
    waiting = [_in_thread(watch.position) for _ in range(6)]
    _until_waiting(watch, 6)  # all six arrived while the first check was under way
    recorder.gate.set()
    first.join(10)
    for thread, out in waiting:
        thread.join(10)
        assert out == [1]
    assert recorder.reads == 2  # the first check, and one more shared by the six


def test_a_failed_check_fails_its_caller_and_a_waiter_checks_again() -> None:
    recorder = FakeRecorder()
    watch = _watch(recorder)
    recorder.gate = threading.Event()
    recorder.fail_next = True
    first, first_out = _in_thread(watch.position)
    assert recorder.entered.acquire(timeout=10)
    second, second_out = _in_thread(watch.position)
    _until_waiting(watch, 1)
    recorder.gate.set()
    first.join(10)
    second.join(10)
    assert isinstance(first_out[0], ConnectionError)
    assert second_out == [0]
    assert recorder.reads == 2


def test_no_caller_waits_forever_when_many_arrive_and_leave() -> None:
    recorder = FakeRecorder()
    recorder.delay = 0.0005
    watch = _watch(recorder)
    stop = threading.Event()
    seen: list[int] = []

    def writer() -> None:
        while not stop.is_set():
            recorder.add(WATCHED)
            time.sleep(0.0005)

    def reader() -> None:
        for _ in range(50):
            before = len(recorder.events)
            position = watch.position()
            assert position >= before  # never older than what was committed at arrival
            seen.append(position)

    threads = [threading.Thread(target=writer)] + [
        threading.Thread(target=reader) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads[1:]:
        thread.join(30)
        assert not thread.is_alive()
    stop.set()
    threads[0].join(10)
    assert len(seen) == 8 * 50
    assert recorder.reads < len(seen)  # shared under contention


@pytest.mark.parametrize("callers", [1, 2, 5])
def test_every_caller_gets_an_answer_even_when_the_first_fails(callers: int) -> None:
    recorder = FakeRecorder()
    watch = _watch(recorder)
    recorder.fail_next = True
    with pytest.raises(ConnectionError):
        watch.position()
    results = [watch.position() for _ in range(callers)]
    assert results == [0] * callers
