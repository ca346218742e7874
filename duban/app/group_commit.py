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
Every caller returns only after the transaction holding its own events has committed.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from eventsourcing.persistence import AggregateRecorder, IntegrityError, StoredEvent

__all__ = ["GroupCommitter"]


@dataclass(eq=False)
class _Member:
    stored: Sequence[StoredEvent]
    ids: Sequence[int] | None = None
    error: BaseException | None = None
    done: bool = False
    wake: threading.Event = field(default_factory=threading.Event)


@dataclass(eq=False)
class _Ticket:
    """One writer between `preparing()` and its queued save."""

    open: bool = True


_TICKET: contextvars.ContextVar[_Ticket | None] = contextvars.ContextVar(
    "duban_group_commit_ticket", default=None
)


@dataclass(eq=False)
class GroupCommitter:
    recorder: AggregateRecorder
    window: float = 0.002  # seconds the leader may wait for writers still preparing
    max_members: int = 64
    batches: int = 0  # batch transactions attempted (observed by the tests)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _queue: list[_Member] = field(default_factory=list)
    _flushing: bool = False
    _preparing: int = 0

    def __post_init__(self) -> None:
        self._arrived = threading.Condition(self._lock)  # a leader waiting for more members

    @contextlib.contextmanager
    def preparing(self) -> Iterator[None]:
        """Around a writer's load-and-mutate: a leader may wait for its save to join."""
        ticket = _Ticket()
        with self._lock:
            self._preparing += 1
        token = _TICKET.set(ticket)
        try:
            yield
        finally:
            _TICKET.reset(token)
            with self._lock:
                self._close(ticket)

    def _close(self, ticket: _Ticket | None) -> None:
        if ticket is not None and ticket.open:
            ticket.open = False
            self._preparing -= 1
            self._arrived.notify()

    def queued(self) -> int:
        with self._lock:
            return len(self._queue)

    def wait_queued(self, count: int, timeout: float) -> bool:
        """Until at least `count` members are queued (for tests that build a batch)."""
        with self._lock:
            return self._arrived.wait_for(lambda: len(self._queue) >= count, timeout)

    def commit(self, stored: Sequence[StoredEvent]) -> Sequence[int] | None:
        """Insert `stored` with whatever else is queued; the notification ids, once committed."""
        member = _Member(stored)
        with self._lock:
            self._close(_TICKET.get())
            self._queue.append(member)
            self._arrived.notify_all()
            leading = not self._flushing
            self._flushing = True  # a flush is under way or about to be: ours, or queued
        if not leading:
            member.wake.wait()  # set when our batch is done, or when it is our turn to lead
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
        finally:
            with self._lock:
                for m in batch:
                    m.done = True
                    m.wake.set()
                if self._queue:
                    self._queue[0].wake.set()  # the next batch's leader (the flag stays set)
                else:
                    self._flushing = False
        return self._result(member)

    def _gather(self) -> None:
        """(Lock held.) Wait a little for writers still preparing, if there are any."""
        if self._preparing <= 0 or self.window <= 0:
            return
        deadline = time.monotonic() + self.window
        while self._preparing > 0 and len(self._queue) < self.max_members:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            self._arrived.wait(remaining)

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
