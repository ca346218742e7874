"""Answers about people and tokens kept in process, dropped the moment the store says one of
them may have changed — whichever process changed it (another `duban serve`, the CLI).

`ChangeWatch.position()` is the check every request makes: it reads the store's last
notification id and, when it moved since the last check, whether any event of the watched
aggregates (access tokens, people, web sessions) was recorded in between — two small indexed
reads instead of loading the aggregates. An answer is cached with the position read *before*
the aggregates it was worked out from were loaded (`remember(key, value, position)`), and is
used only while no watched event was seen after that position.

Why no change is missed: the store numbers events in the order they commit (SQLite has one
writer; the PostgreSQL recorder takes a table lock to insert), so an event is either at or
below the position read before a load — and the load saw it — or above it, and the next check
whose interval covers it invalidates every answer older than it. A false invalidation (any
watched event, even an unrelated one, drops every answer) only costs a reload.

Requests arriving together share a check (single flight): a caller may use the outcome of a
check that *started after it arrived* — that check's reads happen after the caller's request
came, so they see every change committed before it — and never one already under way when it
arrived. One check runs at a time; callers arriving during it wait for it, then for the next
one, which the first of them starts and the rest share. Under load the two reads are made once
per group of concurrent requests instead of once per request.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import Generic, TypeVar

from eventsourcing.domain import Aggregate, DomainEvent
from eventsourcing.persistence import ApplicationRecorder
from eventsourcing.utils import get_topic

__all__ = ["ChangeWatch", "event_topics"]

Value = TypeVar("Value")
MAX_ENTRIES = 10_000  # a county has hundreds of tokens and sessions: a bound, not a working size


def event_topics(aggregates: Iterable[type[Aggregate]]) -> tuple[str, ...]:
    """The topics of every event class declared on these aggregate classes."""
    return tuple(
        get_topic(value)
        for aggregate in aggregates
        for value in vars(aggregate).values()
        if isinstance(value, type) and issubclass(value, DomainEvent)
    )


class ChangeWatch(Generic[Value]):
    """A cache of answers about the watched aggregates, valid until one of them changes."""

    def __init__(self, recorder: ApplicationRecorder, topics: Sequence[str]) -> None:
        self.recorder = recorder
        self.topics = tuple(topics)
        self._lock = threading.Lock()
        self._checked = 0  # every notification up to here was looked at
        self._changed = 0  # the position at which a watched event was last seen (or later)
        self._entries: dict[str, tuple[int, Value]] = {}
        self._flight = threading.Condition(threading.Lock())
        self._started = 0  # checks started so far (the number of the running one, if any)
        self._running = False
        self._finished = 0  # the number of the last check that finished
        self._finished_at = 0  # and the position it returned

    def position(self) -> int:
        """The store's position now, once every watched event up to it has been taken into
        account (answers older than such an event are no longer handed out). Shared with the
        callers waiting for the same check (module docstring)."""
        with self._flight:
            needed = self._started + 1  # the first check to start from now on will do
            while self._finished < needed:
                if not self._running:
                    self._running = True
                    self._started += 1
                    mine = self._started
                    break
                self._flight.wait()
            else:
                return self._finished_at
        try:
            now = self._check()
        except BaseException:
            with self._flight:
                self._running = False
                self._flight.notify_all()  # a waiter starts a check of its own
            raise
        with self._flight:
            self._running = False
            self._finished, self._finished_at = mine, now
            self._flight.notify_all()
        return now

    def _check(self) -> int:
        now = self.recorder.max_notification_id() or 0
        with self._lock:
            start = self._checked
        if now > start:
            found = self.recorder.select_notifications(
                start, 1, stop=now, topics=self.topics, inclusive_of_start=False
            )
            with self._lock:
                if found:
                    self._changed = max(self._changed, now)
                    self._entries.clear()
                self._checked = max(self._checked, now)
        return now

    def get(self, key: str) -> Value | None:
        """The answer cached for `key`, if no watched event was seen since it was worked out
        (call `position()` first: it takes in every event up to now)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] < self._changed:
                return None
            return entry[1]

    def remember(self, key: str, value: Value, position: int) -> None:
        """Keep `value`, worked out from aggregates loaded after `position()` returned
        `position`."""
        with self._lock:
            if position < self._changed:
                return  # a change was seen since: the answer may be stale already
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = (position, value)
