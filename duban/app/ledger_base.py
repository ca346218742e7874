"""What every part of the ledger stands on: the eventsourcing application over one store, the
office's clock, dates stored as ISO text, saving a new aggregate, and scanning the
notification log.

`duban.app.ledger.Ledger` is the one application; its parts (`duban.app.reconcile`,
`duban.app.plan_reviews`) are written as subclasses of `LedgerBase` so that each stays readable.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, DomainEvent
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Notification, Transcoding
from eventsourcing.utils import get_topic

from duban.app.errors import Conflict

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
