"""Group commit: concurrent saves of one process written to the store in one transaction.

Each writer thread turns its pending events into stored events itself, then queues them
here. The first queued writer that finds no flush under way becomes the leader: it takes
every queued member (itself included) and inserts all their events with one
`recorder.insert_events` call, i.e. one transaction and, on SQLite, one fsync. Writers arriving
meanwhile queue up behind it and the next of them leads the next batch, so the batch size
follows the load: a writer alone flushes at once and waits for nobody. When other writers of
this process are known to be preparing a save (`preparing()`, entered by the ledger around a
command's load and mutate), the leader waits up to `window` seconds for them to join.

Every member keeps its optimistic concurrency check: the unique (originator_id,
originator_version) key. When the batch insert raises `IntegrityError`, nothing of it was
stored; each member is then inserted in its own transaction, so the others commit and only
the loser gets the `IntegrityError` (the ledger reloads and re-applies its command). Any other
error of the batch insert reaches every member, as it would have reached each save alone.
Every caller returns only after the transaction holding its own events has committed (and
its snapshots, if any are due: the leader writes the batch's in one more transaction).

Wake-ups are one per member: each waits on a plain lock of its own, released once, by the
leader of its batch or, when it is to lead the next batch, by the one before. A leader waiting
for writers still preparing is woken only when none is left preparing or the batch is full.
"""

from __future__ import annotations

import _thread
import contextvars
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType

from eventsourcing.persistence import AggregateRecorder, IntegrityError, StoredEvent

__all__ = ["GroupCommitter"]


class _Member:
    """One queued save. `wake` is a plain lock, held from the start: released exactly once,
    by the leader of the member's batch when it is done, or by the leader before it when it is
    this member's turn to lead (a raw lock: no condition, no per-wait allocation)."""

    __slots__ = ("done", "error", "ids", "snapshots", "stored", "wake")

    def __init__(self, stored: Sequence[StoredEvent], snapshots: Sequence[StoredEvent]) -> None:
        self.stored = stored
        self.snapshots = snapshots
        self.ids: Sequence[int] | None = None
        self.error: BaseException | None = None
        self.done = False
        self.wake = _thread.allocate_lock()
        self.wake.acquire()


class _Ticket:
    """One writer between `preparing()` and its queued save."""

    __slots__ = ("open",)

    def __init__(self) -> None:
        self.open = True


_TICKET: contextvars.ContextVar[_Ticket | None] = contextvars.ContextVar(
    "duban_group_commit_ticket", default=None
)


class _Preparing:
    __slots__ = ("committer", "ticket", "token")

    def __init__(self, committer: GroupCommitter) -> None:
        self.committer = committer

    def __enter__(self) -> None:
        committer = self.committer
        self.ticket = _Ticket()
        with committer._lock:
            committer._preparing += 1
        self.token = _TICKET.set(self.ticket)

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        _TICKET.reset(self.token)
        if self.ticket.open:  # (closed when its save queued: no lock needed then)
            with self.committer._lock:
                self.committer._close(self.ticket)


@dataclass(eq=False)
class GroupCommitter:
    recorder: AggregateRecorder
    snapshots: AggregateRecorder | None = None  # where the members' snapshots are written
    window: float = 0.002  # seconds the leader may wait for writers still preparing
    max_members: int = 64
    batches: int = 0  # batch transactions attempted (observed by the tests)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _queue: list[_Member] = field(default_factory=list)
    _flushing: bool = False
    _preparing: int = 0
    _gathering: bool = False  # a leader waits in `_gather` (for `_gathered`)
    _watching: int = 0  # callers in `wait_queued` (for `_watched`)

    def __post_init__(self) -> None:
        # Woken only when what its waiter waits for may have come true, not at every arrival.
        self._gathered = threading.Condition(self._lock)  # the leader: no one preparing, or full
        self._watched = threading.Condition(self._lock)  # `wait_queued`: the queue grew

    def preparing(self) -> _Preparing:
        """Around a writer's load-and-mutate: a leader may wait for its save to join."""
        return _Preparing(self)

    def _close(self, ticket: _Ticket | None) -> None:
        """(Lock held.)"""
        if ticket is not None and ticket.open:
            ticket.open = False
            self._preparing -= 1
            if self._gathering and self._preparing <= 0:
                self._gathered.notify()

    def queued(self) -> int:
        with self._lock:
            return len(self._queue)

    def wait_queued(self, count: int, timeout: float) -> bool:
        """Until at least `count` members are queued (for tests that build a batch)."""
        with self._lock:
            self._watching += 1
            try:
                return self._watched.wait_for(lambda: len(self._queue) >= count, timeout)
            finally:
                self._watching -= 1

    def commit(
        self, stored: Sequence[StoredEvent], snapshots: Sequence[StoredEvent] = ()
    ) -> Sequence[int] | None:
        """Insert `stored` with whatever else is queued; the notification ids, once committed.
        `snapshots` (of the aggregates at the versions `stored` gives them) are written once
        those events are committed, in one transaction with the batch's others."""
        member = _Member(stored, snapshots)
        with self._lock:
            self._close(_TICKET.get())
            queue = self._queue
            queue.append(member)
            if self._gathering and len(queue) >= self.max_members:
                self._gathered.notify()
            if self._watching:
                self._watched.notify_all()
            leading = not self._flushing
            self._flushing = True  # a flush is under way or about to be: ours, or queued
        if not leading:
            member.wake.acquire()  # released when our batch is done, or when we are to lead
            if member.done:
                return self._result(member)
        with self._lock:
            self._gather()
            others = [m for m in self._queue if m is not member]
            room = self.max_members - 1
            batch, self._queue = [member, *others[:room]], others[room:]
            self.batches += 1
        try:
            self._flush(batch)
            self._snapshot(batch)
        finally:
            with self._lock:
                for m in batch:
                    m.done = True
                    if m is not member:
                        m.wake.release()
                if self._queue:
                    self._queue[0].wake.release()  # the next batch's leader (the flag stays set)
                else:
                    self._flushing = False
        return self._result(member)

    def _gather(self) -> None:
        """(Lock held.) Wait a little for writers still preparing, if there are any."""
        if self._preparing <= 0 or self.window <= 0:
            return
        deadline = time.monotonic() + self.window
        self._gathering = True
        try:
            while self._preparing > 0 and len(self._queue) < self.max_members:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                self._gathered.wait(remaining)
        finally:
            self._gathering = False

    @staticmethod
    def _result(member: _Member) -> Sequence[int] | None:
        if member.error is not None:
            raise member.error
        return member.ids

    def _flush(self, batch: list[_Member]) -> None:
        try:
            self._insert(batch)
        except IntegrityError as exc:
            if len(batch) == 1:
                batch[0].error = exc
                return
            survivors = self._without_losers(batch)
            try:
                self._insert(survivors)
            except IntegrityError:  # overtaken again meanwhile: each in its own transaction
                for m in survivors:
                    try:
                        self._insert([m])
                    except BaseException as each:
                        m.error = each
            except BaseException as other:
                for m in survivors:
                    m.error = other
        except BaseException as exc:
            for m in batch:
                m.error = exc

    def _snapshot(self, batch: list[_Member]) -> None:
        """The snapshots of the members whose events committed, in one transaction (each
        member's alone if that is refused: a failure reaches only the member it belongs to,
        whose save then raises it after its commit, as `Application.save` would)."""
        recorder = self.snapshots
        taking = [m for m in batch if m.snapshots and m.error is None]
        if recorder is None or not taking:
            return
        try:
            recorder.insert_events([s for m in taking for s in m.snapshots])
        except BaseException as exc:
            if len(taking) == 1:
                taking[0].error = exc
                return
            for m in taking:
                try:
                    recorder.insert_events(m.snapshots)
                except BaseException as each:
                    m.error = each

    def _insert(self, batch: list[_Member]) -> None:
        """One transaction for every member's events; their notification ids, shared out."""
        if not batch:
            return
        ids = self.recorder.insert_events([s for m in batch for s in m.stored])
        if ids is None:
            return
        start = 0
        for m in batch:
            m.ids = ids[start : start + len(m.stored)]
            start += len(m.stored)

    def _without_losers(self, batch: list[_Member]) -> list[_Member]:
        """After a batch was refused: fail each member whose first new version of some
        aggregate is taken (stored, or claimed by an earlier member); the others remain."""
        claimed: set[tuple[object, int]] = set()
        survivors = []
        for m in batch:
            first: dict[object, int] = {}
            for s in m.stored:
                first.setdefault(s.originator_id, s.originator_version)
            keys = {(s.originator_id, s.originator_version) for s in m.stored}
            taken = bool(keys & claimed) or any(
                self.recorder.select_events(oid, gt=v - 1, lte=v, limit=1)  # type: ignore[arg-type]
                for oid, v in first.items()
            )
            if taken:
                m.error = IntegrityError("version already taken (group commit)")
            else:
                claimed |= keys
                survivors.append(m)
        return survivors
