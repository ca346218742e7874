"""`duban.api.workers.Workers`: results and errors come back, the caller's context goes with the
job, no more than `size` threads run at once, and idle threads leave."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time

import pytest

from duban.api.workers import Workers

WHO: contextvars.ContextVar[str] = contextvars.ContextVar("who", default="nobody")


def test_a_result_an_error_and_the_context_come_back() -> None:
    workers = Workers(size=2)

    async def main() -> None:
        assert await workers.run(lambda a, b: a + b, 2, 3) == 5
        with pytest.raises(ZeroDivisionError):
            await workers.run(lambda: 1 / 0)
        WHO.set("联络员")
        assert await workers.run(WHO.get) == "联络员"
        assert await workers.run(threading.current_thread) is not threading.current_thread()

    asyncio.run(main())


def test_no_more_than_size_jobs_run_at_once_and_every_job_runs() -> None:
    workers = Workers(size=3)
    lock = threading.Lock()
    running, most = 0, 0
    release = threading.Event()

    def job(n: int) -> int:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        release.wait(timeout=30)
        with lock:
            running -= 1
        return n

    async def main() -> list[int]:
        jobs = [asyncio.ensure_future(workers.run(job, n)) for n in range(10)]
        while True:  # three jobs hold the three threads; seven wait in the queue
            with lock:
                if running == 3:
                    break
            await asyncio.sleep(0.001)
        assert workers.threads == 3
        release.set()
        return await asyncio.gather(*jobs)

    assert asyncio.run(main()) == list(range(10))
    assert most == 3


def test_idle_threads_leave_and_come_back_when_work_does() -> None:
    workers = Workers(size=4, idle_s=0.05)

    async def main() -> None:
        assert await asyncio.gather(*(workers.run(int, "7") for _ in range(8))) == [7] * 8
        assert 1 <= workers.threads <= 4

    asyncio.run(main())
    deadline = time.monotonic() + 10
    while workers.threads and time.monotonic() < deadline:
        time.sleep(0.01)  # waiting for the threads' own idle timeout, the thing under test
    assert workers.threads == 0
    asyncio.run(main())  # new threads for new work


def test_a_cancelled_caller_stops_waiting_and_the_job_still_finishes() -> None:
    workers = Workers(size=1)
    started, release, finished = threading.Event(), threading.Event(), threading.Event()

    def job() -> str:
        started.set()
        release.wait(timeout=30)
        finished.set()
        return "办结"

    async def main() -> None:
        waiting = asyncio.ensure_future(workers.run(job))
        while not started.is_set():
            await asyncio.sleep(0.001)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        release.set()
        assert await workers.run(lambda: "下一件") == "下一件"  # the one thread is free again

    asyncio.run(main())
    assert finished.is_set()
