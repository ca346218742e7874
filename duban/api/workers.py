"""Worker threads for the report's short way: a blocking call handed off the event loop cheaply.

`anyio.to_thread.run_sync` (what FastAPI and `run_in_threadpool` use) costs ~0.1 ms of CPU per
call on top of the call itself — a capacity limiter, a cancel scope, a pure-Python
`queue.Queue` whose `Condition` the loop thread notifies under the GIL — which for a progress
report was a tenth of its whole CPU (docs/performance.md, "The short way for reports"). Here the
job goes into a `queue.SimpleQueue` (C), a waiting worker takes it, and the result comes back
with one `call_soon_threadsafe`.

Threads are started when jobs wait and none is free, up to `size`, and leave after `idle_s`
without work, so an app that is no longer used holds none. The job runs in a copy of the
caller's context (context variables, as with anyio). A caller that is cancelled stops waiting;
the job, already running, finishes — as FastAPI's threads do.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["Workers"]

Result = TypeVar("Result")
_Job = tuple[contextvars.Context, Callable[..., Any], tuple[Any, ...], asyncio.AbstractEventLoop,
             "asyncio.Future[Any]"]  # fmt: skip


class Workers:
    def __init__(self, size: int = 40, idle_s: float = 30.0, name: str = "duban-worker") -> None:
        self.size, self.idle_s, self.name = size, idle_s, name
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads = 0  # alive
        self._free = 0  # alive and not running a job
        self._pending = 0  # queued, not yet taken

    @property
    def threads(self) -> int:
        with self._lock:
            return self._threads

    async def run(self, func: Callable[..., Result], *args: Any) -> Result:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[Result] = loop.create_future()
        with self._lock:
            self._pending += 1
            start = self._pending > self._free and self._threads < self.size
            if start:
                self._threads += 1
                self._free += 1
        self._jobs.put((contextvars.copy_context(), func, args, loop, done))
        if start:
            threading.Thread(target=self._work, name=self.name, daemon=True).start()
        return await done

    def _work(self) -> None:
        while True:
            try:
                job = self._jobs.get(timeout=self.idle_s)
            except queue.Empty:
                with self._lock:
                    if self._pending > 0:
                        continue  # a job is being queued for this thread: take it
                    self._free -= 1
                    self._threads -= 1
                    return
            with self._lock:
                self._free -= 1
                self._pending -= 1
            _run(*job)
            del job  # nothing of the job is kept while the thread waits
            with self._lock:
                self._free += 1


def _run(
    context: contextvars.Context,
    func: Callable[..., Any],
    args: tuple[Any, ...],
    loop: asyncio.AbstractEventLoop,
    done: asyncio.Future[Any],
) -> None:
    try:
        result = context.run(func, *args)
    except BaseException as exc:
        _settle(loop, done, None, exc)
    else:
        _settle(loop, done, result, None)


def _settle(
    loop: asyncio.AbstractEventLoop,
    done: asyncio.Future[Any],
    result: Any,
    error: BaseException | None,
) -> None:
    def settle() -> None:
        if done.cancelled():
            return
        if error is not None:
            done.set_exception(error)
        else:
            done.set_result(result)

    with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
        loop.call_soon_threadsafe(settle)
