"""Delivery on this installation: the delivery loop's ports (`notifiers/ports.py`) implemented
with the ledger, the outbox index and the config, and the passes the CLI and the jobs run.

    deliver_due(services, now)            # one pass, what the `deliver` job runs
    with open_deliverer(services) as d:   # `duban deliver`, `duban notify test CHANNEL`
        report = d.run_once(now)          # or d.send_test(channel, now)

The loop itself, and what it guarantees when a process dies mid-send, is in
`notifiers/delivery.py`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from domain.reminder import ChatMessage
from duban.app.ledger import Ledger
from duban.app.routing import chat_names
from duban.app.services import Services
from duban.settings.config import Config
from duban.settings.store import is_sqlite, postgres_conninfo, sqlite_path
from notifiers.delivery import ACTOR, Deliverer
from notifiers.errors import NotifierError
from notifiers.ports import ChannelSpec, DeliverySettings, PendingMessage, RecordConflict
from notifiers.ratelimit import RateLimiter
from notifiers.report import DeliveryReport
from projections.outbox import open_outbox

__all__ = [
    "Deliverer",
    "DeliveryReport",
    "LedgerRecorder",
    "NotifierError",
    "OutboxIndex",
    "deliver_due",
    "delivery_settings",
    "limiter_for_store",
    "open_deliverer",
]

Clock = Callable[[], float]


def deliver_due(
    services: Services, now: dt.datetime, *, clock: Clock | None = None
) -> DeliveryReport:
    """One delivery pass at `now` (aware): what the sweep calls after issuing."""
    with open_deliverer(services, clock=clock) as deliverer:
        return deliverer.run_once(now)


def open_deliverer(services: Services, *, clock: Clock | None = None) -> Deliverer:
    """A deliverer on the services' store, config and office calendar (it sends in working
    time only); close it (or use `with`) when done."""
    ledger, config = services.ledger, services.config
    limiter = limiter_for_store(config.store)
    settings = delivery_settings(config, sendable_from=services.calendar.next_working_time)
    return Deliverer(OutboxIndex(ledger), LedgerRecorder(ledger), limiter, settings, clock=clock)


def limiter_for_store(store_url: str) -> RateLimiter:
    """The rate limiter every process of this installation shares: a SQLite file beside a
    SQLite store (the store's own file is the ledger's), or the PostgreSQL database."""
    if is_sqlite(store_url):
        path = sqlite_path(store_url)
        return RateLimiter.sqlite(path.with_name(path.name + ".ratelimit.db"))
    return RateLimiter.postgres(postgres_conninfo(store_url))


def delivery_settings(
    config: Config, *, sendable_from: Callable[[dt.datetime], dt.datetime] | None = None
) -> DeliverySettings:
    """The config's `[delivery]`, office channel, webhook allow-list and channels; with the
    office calendar's `next_working_time` as `sendable_from`, messages go in working time only."""

    names = chat_names(config)

    def channel(name: str) -> ChannelSpec | None:
        found = next((c for c in config.channels if c.name == name), None)
        if found is None:
            return None
        return ChannelSpec(
            name=found.name,
            platform=found.platform,
            webhooks=tuple(found.webhooks()),
            secret=found.secret_value(),
            keyword=found.keyword or None,
            display_name=names[found.name],
        )

    settings = config.delivery
    return DeliverySettings(
        office_channel=config.office.channel,
        channel=channel,
        max_attempts=settings.max_attempts,
        backoff_base_s=settings.backoff_base_s,
        backoff_max_s=settings.backoff_max_s,
        timeout_s=settings.timeout_s,
        allowed_hosts=tuple(config.allowed_webhook_hosts),
        sendable_from=sendable_from,
    )


class OutboxIndex:
    """The `OutboxReader` port: the outbox index (`projections/outbox.py`), caught up with
    the ledger before every read."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger
        self._outbox = open_outbox(ledger)

    def due(self, now: dt.datetime) -> Sequence[PendingMessage]:
        self._outbox.catch_up(self._ledger)
        return self._outbox.due(now)

    def pending(self) -> Sequence[PendingMessage]:
        self._outbox.catch_up(self._ledger)
        return self._outbox.pending()


class LedgerRecorder:
    """The `Recorder` port: each record is one `Ledger.save` (one transaction); a save that
    loses on the aggregate's version raises `RecordConflict`."""

    def __init__(self, ledger: Ledger, actor: str = ACTOR) -> None:
        self._ledger = ledger
        self._actor = actor

    def load(self, message_id: str) -> ChatMessage:
        message: ChatMessage = self._ledger.repository.get(UUID(message_id))
        return message

    def last_answer(self, message: ChatMessage) -> dict[str, Any]:
        for event in self._ledger.events.get(message.id, desc=True, limit=1):
            answer = getattr(event, "answer", None)
            if isinstance(answer, dict):
                return {**answer, "part": getattr(event, "part", None)}
        return {}

    def queue(self, message: ChatMessage) -> None:
        self._save(message)

    def attempt(
        self,
        message: ChatMessage,
        part: int,
        answer: dict[str, Any],
        next_attempt_at: dt.datetime | None,
        at: dt.datetime,
    ) -> None:
        message.record_attempt(part, answer, next_attempt_at, self._actor, at)
        self._save(message)

    def delivered(
        self, message: ChatMessage, part: int, answer: dict[str, Any], at: dt.datetime
    ) -> None:
        message.record_attempt(part, answer, None, self._actor, at)
        message.mark_delivered(self._actor, at)
        self._save(message)

    def failed(
        self,
        message: ChatMessage,
        reason: str,
        at: dt.datetime,
        *,
        attempt: tuple[int, dict[str, Any]] | None = None,
        notice: ChatMessage | None = None,
    ) -> None:
        if attempt is not None:
            part, answer = attempt
            message.record_attempt(part, answer, None, self._actor, at)
        message.mark_failed(reason, self._actor, at)
        self._save(message, *([notice] if notice is not None else []))

    def _save(self, *messages: ChatMessage) -> None:
        try:
            self._ledger.save(*messages)
        except IntegrityError as exc:
            raise RecordConflict(str(exc)) from exc
