"""The outbox index: chat messages still to be delivered, and when each is next due.

A delivery pass must not replay the store nor read the history of delivered messages to find
the few that wait: its cost would grow with every message ever sent. This view keeps one row
per *pending* `ChatMessage` (queued, neither delivered nor failed) with its channel, the
moment it is next due (`next_at`, epoch seconds, indexed) and how many parts went out.
`Delivered` and `Failed` delete the row, so the table only ever holds the backlog.

Like every view it is a cache of the events: rows and tracking position are written in one
transaction, and `rebuild` gives the same rows. The aggregate stays the truth — the deliverer
loads each due message before sending and skips one the index has not yet seen finished.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.application import Application
from eventsourcing.domain import DomainEvent
from eventsourcing.persistence import Tracking

from domain.reminder import ChatMessage
from projections import runner
from projections.facts import topics_of
from projections.runner import Item
from projections.viewstore import Step, ViewRecorder, view_recorder

__all__ = ["Outbox", "OutboxProjection", "PendingMessage", "open_outbox"]

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS {p}outbox_pending (message_id TEXT PRIMARY KEY, "
    "message_key TEXT NOT NULL, channel TEXT NOT NULL, kind TEXT NOT NULL, "
    "next_at DOUBLE PRECISION NOT NULL, parts_sent INTEGER NOT NULL, queued_at TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS {p}outbox_pending_next ON {p}outbox_pending (next_at)",
)
TABLES = ("outbox_pending",)

_INSERT = (
    "INSERT INTO {p}outbox_pending (message_id, message_key, channel, kind, next_at, "
    "parts_sent, queued_at) VALUES (?, ?, ?, ?, ?, 0, ?) ON CONFLICT (message_id) DO NOTHING"
)
_ATTEMPT = "UPDATE {p}outbox_pending SET next_at = ?, parts_sent = ? WHERE message_id = ?"
_DONE = "DELETE FROM {p}outbox_pending WHERE message_id = ?"


@dataclass(frozen=True)
class PendingMessage:
    """One message waiting in the outbox, as the deliverer selects it."""

    message_id: str
    message_key: str
    channel: str
    kind: str
    next_at: float  # epoch seconds
    parts_sent: int


def _epoch(moment: dt.datetime | None, fallback: float) -> float:
    return moment.timestamp() if moment is not None else fallback


def _text(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.datetime) else value


def _parts_sent(event: Any) -> int:
    """Parts sent after this attempt. Parts go out in order from `parts_sent`, so a failed
    attempt on part k means k parts were sent, and a successful one k + 1."""
    answer = event.answer
    return int(event.part) + 1 if answer.get("ok") else int(event.part)


def _queued(event: Any) -> list[Step]:
    at = event.at.timestamp()
    row = (str(event.originator_id), event.message_key, event.channel, event.kind, at, event.at)
    return [(_INSERT, [tuple(_text(v) for v in row)])]


def _attempted(event: Any) -> list[Step]:
    next_at = _epoch(event.next_attempt_at, event.at.timestamp())
    return [(_ATTEMPT, [(next_at, _parts_sent(event), str(event.originator_id))])]


def _finished(event: Any) -> list[Step]:
    return [(_DONE, [(str(event.originator_id),)])]


_STEPS: dict[type[DomainEvent], Callable[[Any], list[Step]]] = {
    ChatMessage.Queued: _queued,
    ChatMessage.AttemptRecorded: _attempted,
    ChatMessage.Delivered: _finished,
    ChatMessage.Failed: _finished,
}


class OutboxProjection:
    """The view's writer. Events of one batch are applied in order as SQL steps; a message's
    attempts only move its row, so nothing needs to be held in memory between batches."""

    name = "outbox"
    decode = True
    topics: Sequence[str] = topics_of(list(_STEPS))

    def __init__(self, view: ViewRecorder) -> None:
        self._view = view

    @property
    def view(self) -> ViewRecorder:
        return self._view

    def reset(self) -> None:
        """Nothing is cached in memory."""

    def begin(self, position: int) -> None:
        """Nothing is cached in memory."""

    def process(self, batch: Sequence[Item], tracking: Tracking) -> None:
        steps = [step for _, event in batch for step in _STEPS[type(event)](event)]
        self._view.write(steps, tracking)


@dataclass
class Outbox:
    """The outbox as the deliverer uses it: catch up, then ask what is due."""

    projection: OutboxProjection

    def catch_up(self, app: Application[Any]) -> int:
        return runner.catch_up(app, self.projection)

    def due(self, now: dt.datetime, limit: int = 500) -> list[PendingMessage]:
        """Pending messages due at `now`, the longest waiting first."""
        rows = self.projection.view.select(
            "SELECT message_id, message_key, channel, kind, next_at, parts_sent "
            "FROM {p}outbox_pending WHERE next_at <= ? ORDER BY next_at, queued_at LIMIT ?",
            [now.timestamp(), limit],
        )
        return [_pending(row) for row in rows]

    def pending(self) -> list[PendingMessage]:
        """Every message still waiting (the backlog is small: delivered ones leave it)."""
        rows = self.projection.view.select(
            "SELECT message_id, message_key, channel, kind, next_at, parts_sent "
            "FROM {p}outbox_pending ORDER BY next_at, queued_at"
        )
        return [_pending(row) for row in rows]


def _pending(row: Any) -> PendingMessage:
    return PendingMessage(
        message_id=str(row["message_id"]),
        message_key=str(row["message_key"]),
        channel=str(row["channel"]),
        kind=str(row["kind"]),
        next_at=float(row["next_at"]),
        parts_sent=int(row["parts_sent"]),
    )


def open_outbox(app: Application[Any]) -> Outbox:
    """The outbox index beside `app`'s events (tables created if new). Catch it up first."""
    datastore = app.recorder.datastore  # type: ignore[attr-defined]
    return Outbox(OutboxProjection(view_recorder(datastore, "outbox", SCHEMA, TABLES)))
