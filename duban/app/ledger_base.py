"""What every part of the ledger stands on: the eventsourcing application over one store, the
office's clock, dates stored as ISO text, saving (through the group committer), saving a new
aggregate, and scanning the notification log.

`save` is `Application.save` with its recording done by `duban.app.group_commit`: concurrent
saves of this process share one transaction, each keeping its own concurrency check. It is on
unless the environment says `DUBAN_GROUP_COMMIT=n`; `DUBAN_GROUP_COMMIT_MS` (default 2) is how
long a batch may wait for writers of this process still preparing theirs (a writer alone never
waits).

`duban.app.ledger.Ledger` is the one application; its parts (`duban.app.reconcile`,
`duban.app.plan_reviews`) are written as subclasses of `LedgerBase` so that each stays readable.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.application import Application, ProcessingEvent
from eventsourcing.domain import (
    Aggregate,
    DomainEvent,
    DomainEventProtocol,
    MutableOrImmutableAggregate,
)
from eventsourcing.persistence import (
    IntegrityError,
    JSONTranscoder,
    Notification,
    Recording,
    StoredEvent,
    Transcoding,
)
from eventsourcing.utils import get_topic, strtobool

from duban.app.errors import Conflict
from duban.app.group_commit import GroupCommitter

__all__ = ["DateAsISO", "LedgerBase"]


class DateAsISO(Transcoding):
    type = dt.date
    name = "date_iso"

    def encode(self, obj: dt.date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> dt.date:
        return dt.date.fromisoformat(data)


class LedgerBase(Application[UUID]):
    """The store, the clock and the helpers every part of the ledger uses."""

    def __init__(
        self,
        env: dict[str, str] | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        super().__init__(env=env)
        self.clock: Callable[[], dt.datetime] = clock or (lambda: dt.datetime.now(dt.UTC))
        self.group_commit: GroupCommitter | None = None
        if strtobool(self.env.get("GROUP_COMMIT", "y")):
            window = float(self.env.get("GROUP_COMMIT_MS", "2")) / 1000
            snapshots = self.snapshots.recorder if self.snapshots is not None else None
            self.group_commit = GroupCommitter(self.recorder, snapshots, window=window)

    def save(
        self,
        *objs: MutableOrImmutableAggregate[UUID] | DomainEventProtocol[UUID] | None,
        **kwargs: Any,
    ) -> list[Recording[UUID]]:
        """`Application.save`, recorded in a group commit: the same steps after recording.
        A snapshot due at an aggregate's version in hand is taken before the commit and
        written by the batch's leader, once the batch committed, with the batch's other
        snapshots in one transaction (a member whose events were refused writes none)."""
        committer = self.group_commit
        if committer is None or kwargs:
            return super().save(*objs, **kwargs)
        processing: ProcessingEvent[UUID] = ProcessingEvent()
        for obj in objs:
            if isinstance(obj, Aggregate):  # (a class check: cheaper than the protocol's)
                processing.events.extend(obj.collect_events())
                processing.aggregates[obj.id] = obj
            else:
                processing.collect_events(obj)
        events = processing.events
        if not events:
            return []
        to_stored = self.mapper.to_stored_event
        stored = [to_stored(e) for e in events]
        snapshots, later = self._snapshots_in_hand(processing)
        ids = committer.commit(stored, snapshots)
        recordings = [
            Recording(e, Notification(s.originator_id, s.originator_version, s.topic, s.state, n))
            for e, s, n in zip(events, stored, ids or (), strict=False)
        ]
        if self.repository.cache and not self.repository.fastforward:
            for aggregate_id, aggregate in processing.aggregates.items():
                self.repository.cache.put(aggregate_id, aggregate)
        if later.events:
            super()._take_snapshots(later)
        self._notify(recordings)
        self.notify(events)  # (deprecated hook, as Application.save calls it)
        return recordings

    def _snapshots_in_hand(
        self, processing: ProcessingEvent[UUID]
    ) -> tuple[list[StoredEvent], ProcessingEvent[UUID]]:
        """The snapshots due with these events (every `snapshotting_intervals`-th version),
        as stored events, when the aggregate in hand is at that version; the other due events
        (the aggregate moved past them) for `Application._take_snapshots` after the commit."""
        later: ProcessingEvent[UUID] = ProcessingEvent()
        intervals = self.snapshotting_intervals
        if self.snapshots is None or not intervals:
            return [], later
        taken: list[StoredEvent] = []
        for agg in processing.aggregates.values():
            interval = intervals.get(type(agg))
            if interval is None:
                continue
            for e in processing.events:
                if e.originator_id != agg.id or e.originator_version % interval:
                    continue
                snapshot_class = getattr(type(agg), "Snapshot", type(self).snapshot_class)
                if agg.version == e.originator_version and snapshot_class is not None:
                    taken.append(self.snapshots.mapper.to_stored_event(snapshot_class.take(agg)))
                else:
                    later.events.append(e)
                    later.aggregates[agg.id] = agg
        return taken, later

    def _take_snapshots(self, processing_event: ProcessingEvent[UUID]) -> None:
        """(Without group commit.) A snapshot due at an aggregate's current version is taken
        from the aggregate in hand, not reloaded from the store (`Application.take_snapshot`);
        others as usual."""
        taken, later = self._snapshots_in_hand(processing_event)
        if taken and self.snapshots is not None:
            self.snapshots.recorder.insert_events(taken)
        if later.events:
            super()._take_snapshots(later)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    def _save_new(self, aggregate: Aggregate) -> None:
        try:
            self.save(aggregate)
        except IntegrityError as exc:
            raise Conflict(f"{type(aggregate).__name__} {aggregate.id} 已存在") from exc

    # ---- scanning the notification log ----------------------------------------------------

    def notifications(
        self, after: int = 0, topics: Sequence[str] = (), batch: int = 500
    ) -> Iterator[Notification]:
        """Every stored event after position `after`, in notification order, read in batches
        (only those of `topics` when given: the store filters, nothing else is read)."""
        while found := self.recorder.select_notifications(
            after, batch, topics=topics, inclusive_of_start=False
        ):
            yield from found
            after = found[-1].id

    def events_of(self, *classes: type[DomainEvent], after: int = 0) -> Iterator[tuple[int, Any]]:
        """(position, event) for every stored event of these classes after `after`."""
        topics = [get_topic(cls) for cls in classes]
        for note in self.notifications(after, topics):
            yield note.id, self.mapper.to_domain_event(note)
