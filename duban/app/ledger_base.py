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
            self.group_commit = GroupCommitter(self.recorder, window=window)

    def save(
        self,
        *objs: MutableOrImmutableAggregate[UUID] | DomainEventProtocol[UUID] | None,
        **kwargs: Any,
    ) -> list[Recording[UUID]]:
        """`Application.save`, recorded in a group commit: the same steps after recording."""
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
        if not processing.events:
            return []
        stored = [self.mapper.to_stored_event(e) for e in processing.events]
        ids = committer.commit(stored)
        recordings = [
            Recording(e, Notification(s.originator_id, s.originator_version, s.topic, s.state, n))
            for e, s, n in zip(processing.events, stored, ids or (), strict=False)
        ]
        if self.repository.cache and not self.repository.fastforward:
            for aggregate_id, aggregate in processing.aggregates.items():
                self.repository.cache.put(aggregate_id, aggregate)
        self._take_snapshots(processing)
        self._notify(recordings)
        self.notify(processing.events)  # (deprecated hook, as Application.save calls it)
        return recordings

    def _take_snapshots(self, processing_event: ProcessingEvent[UUID]) -> None:
        """A snapshot due at an aggregate's current version is taken from the aggregate in
        hand, not reloaded from the store (`Application.take_snapshot`); others as usual."""
        due = [
            e
            for e in processing_event.events
            if (agg := processing_event.aggregates.get(e.originator_id)) is not None
            and (interval := self.snapshotting_intervals.get(type(agg))) is not None
            and e.originator_version % interval == 0
        ]
        if not due or self.snapshots is None:
            return
        rest = ProcessingEvent[UUID]()
        for e in due:
            agg = processing_event.aggregates[e.originator_id]
            snapshot_class = getattr(type(agg), "Snapshot", type(self).snapshot_class)
            if agg.version == e.originator_version and snapshot_class is not None:
                self.snapshots.put([snapshot_class.take(agg)])
            else:
                rest.events.append(e)
                rest.aggregates[e.originator_id] = agg
        if rest.events:
            super()._take_snapshots(rest)

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
