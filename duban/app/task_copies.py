"""This process's copy of each task as it last saved it: loading a task for a command costs no
replay and no deep copy of a shared cached object.

A copy is the task at the version this process stored (`_remember`, after a save has
committed), so it is exactly what replaying those events gives. It is kept as the object the
save left (no copying at all) and handed over, not shared: a command's load (`taking()`, in
`duban.app.ledger.Ledger._update`) takes the object out of the store of copies, mutates and
saves it, and puts it back once its save committed (or, refused before it changed anything,
unchanged). While a command holds it, another command on the same task loads from the store
as if there were no copy. Any other load (a read, or a command written elsewhere) gets a
private copy: the object is pickled once, kept as bytes, and each such load unpickles them
(~25 µs), so nothing a caller does to what it got reaches the copy.

A load applies whatever was stored since the copy's version, by any process: one indexed read,
usually empty. Inside `taking(optimistic=True)` (a command's first attempt) the read is
skipped: the save's concurrency check (the next version must be free) refuses a change decided
on a copy that another process has overtaken, and the ledger decides any refusal again on the
stored task, so a stale copy can cost a retry but never a wrong answer.
"""

from __future__ import annotations

import contextvars
import pickle
import threading
from dataclasses import dataclass
from types import TracebackType
from uuid import UUID

from eventsourcing.application import project_aggregate

from domain.task import ReformTask, task_id
from duban.app.task_access import TaskAccess

__all__ = ["TaskCopies", "TaskSaved"]

_READ, _TAKE, _TAKE_OPTIMISTIC = 0, 1, 2
_MAX_IDS = 4096
_FIRST_USE = threading.Lock()  # (the store of copies is made on first use, once)
_MODE: contextvars.ContextVar[int] = contextvars.ContextVar("duban_task_copy_mode", default=_READ)


@dataclass(frozen=True, slots=True)
class TaskSaved:
    """What a command's task is once its save committed (a success text needs no reload)."""

    code: str
    version: int
    lead_unit: str
    co_units: tuple[str, ...]
    percent: int

    @classmethod
    def of(cls, task: ReformTask) -> TaskSaved:
        return cls(task.code, task.version, task.lead_unit, tuple(task.co_units), task.percent)


class _Taking:
    """Loads in this context take the copy itself (optimistic: as it is, reading nothing)."""

    __slots__ = ("mode", "token")

    def __init__(self, optimistic: bool) -> None:
        self.mode = _TAKE_OPTIMISTIC if optimistic else _TAKE

    def __enter__(self) -> None:
        self.token = _MODE.set(self.mode)

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        _MODE.reset(self.token)


class TaskCopies(TaskAccess):
    # task id -> (version, the task object itself, or its pickle once a read wanted a copy)
    _task_copies: dict[UUID, tuple[int, ReformTask | bytes]]
    _task_ids: dict[str, UUID]  # code -> task id (a uuid5 costs ~8 µs)
    _copies_lock: threading.Lock

    def _copies(self) -> dict[UUID, tuple[int, ReformTask | bytes]]:
        try:
            return self._task_copies
        except AttributeError:
            with _FIRST_USE:
                if "_task_copies" not in self.__dict__:
                    self._task_ids, self._copies_lock = {}, threading.Lock()
                    self._task_copies = {}
            return self._task_copies

    def _task_id(self, code: str) -> UUID:
        self._copies()
        ids = self._task_ids
        tid = ids.get(code)
        if tid is None:
            if len(ids) >= _MAX_IDS:  # (codes come from callers: bounded, whatever they send)
                ids.clear()
            tid = ids[code] = task_id(code)
        return tid

    def has_copy(self, code: str) -> bool:
        return self._task_id(code) in self._copies()

    def taking(self, *, optimistic: bool) -> _Taking:
        """A command's load: it takes the copy (see the module's text)."""
        return _Taking(optimistic)

    def _task(self, code: str) -> ReformTask:
        tid = self._task_id(code)
        mode = _MODE.get()
        found = self._take(tid) if mode != _READ else self._private(tid)
        if found is None:
            return super()._task(code)
        version, task = found
        if mode != _TAKE_OPTIMISTIC:
            newer = list(self.events.get(tid, gt=version))
            if newer:
                projected = project_aggregate(task, newer)
                assert projected is not None  # a task is never deleted
                task = projected
        return task

    def _take(self, tid: UUID) -> tuple[int, ReformTask] | None:
        """The copy itself, now the caller's (or unpickled, if a read left it as bytes)."""
        return self._found(tid, take=True)

    def _private(self, tid: UUID) -> tuple[int, ReformTask] | None:
        """A copy of the copy, the caller's to change (the copy becomes bytes, once)."""
        return self._found(tid, take=False)

    def _found(self, tid: UUID, *, take: bool) -> tuple[int, ReformTask] | None:
        copies = self._copies()
        with self._copies_lock:
            found = copies.get(tid)
            if found is None:
                return None
            version, held = found
            if isinstance(held, ReformTask):
                if take:
                    del copies[tid]
                    return version, held
                held = pickle.dumps(held, pickle.HIGHEST_PROTOCOL)
                copies[tid] = (version, held)
        return version, _unpickled(held)

    def _remember(self, task: ReformTask) -> None:
        """After `task`'s save committed (or a command that took it left it unchanged): keep
        it as this process's copy. The caller must not use or change it afterwards."""
        copies = self._copies()
        with self._copies_lock:
            known = copies.get(task.id)
            if known is None or known[0] < task.version:
                copies[task.id] = (task.version, task)


def _unpickled(blob: bytes) -> ReformTask:
    task: ReformTask = pickle.loads(blob)  # noqa: S301 (our own bytes, never input)
    return task
