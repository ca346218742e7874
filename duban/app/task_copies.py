"""This process's copy of each task as it last saved it: loading a task for a command costs no
replay and no deep copy of a shared cached object.

A copy is the pickled task at the version this process stored (`_remember`, after a save has
committed), so it is exactly what replaying those events gives. Loading (`_task`) unpickles it
and applies whatever was stored since, by any process: one indexed read, usually empty.
Inside `optimistic()` (a command's first attempt, `duban.app.ledger.Ledger._update`) the read
is skipped: the save's concurrency check (the next version must be free) refuses a change
decided on a copy that another process has overtaken, and the ledger decides any refusal again
on the stored task, so a stale copy can cost a retry but never a wrong answer.
"""

from __future__ import annotations

import contextlib
import contextvars
import pickle
from collections.abc import Iterator
from uuid import UUID

from eventsourcing.application import project_aggregate

from domain.task import ReformTask, task_id
from duban.app.task_access import TaskAccess

__all__ = ["TaskCopies"]

_OPTIMISTIC: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "duban_task_copy_optimistic", default=False
)


class TaskCopies(TaskAccess):
    _task_copies: dict[UUID, tuple[int, bytes]]  # task id -> (version, pickled task)

    def _copies(self) -> dict[UUID, tuple[int, bytes]]:
        try:
            return self._task_copies
        except AttributeError:
            self._task_copies = {}
            return self._task_copies

    def has_copy(self, code: str) -> bool:
        return task_id(code) in self._copies()

    @contextlib.contextmanager
    def optimistic(self) -> Iterator[None]:
        """Loads in this context take the copy as it is, without reading newer events."""
        token = _OPTIMISTIC.set(True)
        try:
            yield
        finally:
            _OPTIMISTIC.reset(token)

    def _task(self, code: str) -> ReformTask:
        tid = task_id(code)
        found = self._copies().get(tid)
        if found is None:
            return super()._task(code)
        version, blob = found
        task: ReformTask = pickle.loads(blob)  # noqa: S301 (our own bytes, never input)
        if not _OPTIMISTIC.get():
            newer = list(self.events.get(tid, gt=version))
            if newer:
                projected = project_aggregate(task, newer)
                assert projected is not None  # a task is never deleted
                task = projected
        return task

    def _remember(self, task: ReformTask) -> None:
        """After `task`'s save committed: keep it as this process's copy."""
        copies = self._copies()
        known = copies.get(task.id)
        if known is None or known[0] < task.version:
            copies[task.id] = (task.version, pickle.dumps(task, pickle.HIGHEST_PROTOCOL))
