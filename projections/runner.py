"""Keeping projections up to date: catch up by pulling, follow live, rebuild from zero.

The library's `ProjectionRunner` cannot follow an SQLite application (`subscribe()` raises
`NotImplementedError` in eventsourcing 9.5.6), so every store is caught up by the same pull
loop: `recorder.select_notifications(start, limit, inclusive_of_start=False)` from the
view's own tracking position, decoded with `mapper.to_domain_event`, handed to the
projection one batch at a time. Each batch is written with its tracking position in one
transaction, so a process killed anywhere resumes exactly after the last committed batch.

On PostgreSQL `follow()` additionally listens through the library's LISTEN/NOTIFY
subscription to wake up at once, and still polls every few seconds: a lost notification
must never stall the board.
"""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol, TextIO

from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError, Notification, Tracking

from projections.viewstore import APP_NAME, ViewRecorder

__all__ = [
    "BATCH",
    "REBUILD_BATCH",
    "Item",
    "Progress",
    "Projection",
    "catch_up",
    "follow",
    "rebuild",
    "stderr_progress",
]

BATCH = 2000
# A rebuild reads bigger batches: fewer rows are rewritten per event (a task touched several
# times in one batch is written once), at the price of a few tens of MB in memory.
REBUILD_BATCH = 50_000

# One stored event: the notification as stored, and the decoded domain event (None for
# projections that only need the stored bytes, such as the hash chain).
Item = tuple[Notification, Any]


class Projection(Protocol):
    """A read model that processes events a batch at a time (see `catch_up`)."""

    name: str
    decode: bool  # whether `process` needs decoded domain events
    topics: Sequence[str]  # only these topics (empty: all)

    @property
    def view(self) -> ViewRecorder: ...

    def process(self, batch: Sequence[Item], tracking: Tracking) -> None:
        """Write the batch's effect and `tracking` in one transaction."""

    def reset(self) -> None:
        """Forget anything cached in memory (the stored view moved under us)."""

    def begin(self, position: int) -> None:
        """Processing resumes after `position`: drop caches that do not reflect it."""


Progress = Callable[[str, int, int], None]


def position(projection: Projection) -> int:
    return projection.view.max_tracking_id(APP_NAME) or 0


def catch_up(
    app: Application[Any],
    projection: Projection,
    *,
    batch: int = BATCH,
    progress: Progress | None = None,
    stop_at: int | None = None,
) -> int:
    """Process every event after the view's position (up to `stop_at`); return the new
    position. If another process advances the same view meanwhile, continue after it."""
    with _no_cyclic_gc():
        return _catch_up(app, projection, batch, progress, stop_at)


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while catching up.

    Decoded events and folded facts hold no reference cycles: reference counting frees them.
    The cyclic collector would only scan the growing in-memory facts again and again — about
    a third of a rebuild's time. It is switched back on (if it was on) when the catch-up ends.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _catch_up(
    app: Application[Any],
    projection: Projection,
    batch: int,
    progress: Progress | None,
    stop_at: int | None,
) -> int:
    start = position(projection)
    projection.begin(start)
    last = (app.recorder.max_notification_id() or 0) if stop_at is None else stop_at
    while True:
        notifications = app.recorder.select_notifications(
            start, batch, stop=stop_at, topics=projection.topics, inclusive_of_start=False
        )
        if not notifications:
            return _mark_end(projection, start, last)
        items = _items(app, projection, notifications)
        try:
            projection.process(items, Tracking(APP_NAME, notifications[-1].id))
        except IntegrityError:
            projection.reset()
            start = position(projection)
            projection.begin(start)
            continue
        start = notifications[-1].id
        if progress is not None:
            progress(projection.name, start, last)


def _items(
    app: Application[Any], projection: Projection, notifications: Sequence[Notification]
) -> list[Item]:
    if not projection.decode:
        return [(n, None) for n in notifications]
    to_event = app.mapper.to_domain_event
    return [(n, to_event(n)) for n in notifications]


def _mark_end(projection: Projection, start: int, last: int) -> int:
    """With a topic filter the last events may be of no interest: still record that they
    were seen, so the next catch-up does not read them again."""
    if projection.topics and last > start:
        try:
            projection.view.insert_tracking(Tracking(APP_NAME, last))
        except IntegrityError:
            return position(projection)
        return last
    return start


def rebuild(
    app: Application[Any],
    projection: Projection,
    *,
    batch: int = REBUILD_BATCH,
    progress: Progress | None = None,
) -> int:
    """Drop the view and process every event again: the result equals incremental running."""
    projection.view.drop()
    projection.view.create_table()
    projection.reset()
    return catch_up(app, projection, batch=batch, progress=progress)


@dataclass
class _ProgressLine:
    every: int
    out: TextIO
    _next: int = 0

    def __call__(self, name: str, done: int, total: int) -> None:
        if done >= self._next or done >= total:
            self.out.write(f"{name}: {done}/{total} events\n")
            self.out.flush()
            self._next = done + self.every


def stderr_progress(every: int = 10_000) -> Progress:
    """A progress line to stderr every `every` events (long rebuilds)."""
    return _ProgressLine(every, sys.stderr)


def follow(
    app: Application[Any],
    projections: Sequence[Projection],
    stop: threading.Event,
    *,
    poll_interval: float = 5.0,
) -> None:
    """Keep `projections` caught up until `stop` is set.

    Wakes up on the store's notifications when it has them (PostgreSQL LISTEN/NOTIFY through
    the library's subscription) and in any case every `poll_interval` seconds.
    """
    doorbell = threading.Event()
    listener = _listen(app, doorbell, stop)
    try:
        while not stop.is_set():
            doorbell.clear()
            for projection in projections:
                catch_up(app, projection)
            doorbell.wait(poll_interval)
    finally:
        if listener is not None:
            listener.join()


def _listen(
    app: Application[Any], doorbell: threading.Event, stop: threading.Event
) -> threading.Thread | None:
    """Ring `doorbell` whenever the store announces new events; None if it cannot."""
    try:
        subscription = app.recorder.subscribe(gt=app.recorder.max_notification_id())
    except NotImplementedError:  # SQLite: polling alone
        return None

    def ring() -> None:
        with subscription:
            for _ in subscription:
                doorbell.set()
                if stop.is_set():
                    break

    def stopper() -> None:
        stop.wait()
        subscription.stop()
        doorbell.set()

    threading.Thread(target=stopper, daemon=True).start()
    thread = threading.Thread(target=ring, daemon=True)
    thread.start()
    return thread
