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

    def position(self) -> int:
        """The store's position now, once every watched event up to it has been taken into
        account (answers older than such an event are no longer handed out)."""
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
