"""The delivery loop's ports: everything `Deliverer` needs from outside `notifiers`, as narrow
protocols and plain data. The application layer (`duban/app/delivery_adapters.py`) implements them
with the ledger, the outbox index and the config; a test can implement them in memory.

- `OutboxReader`: which messages are pending, and which of them are due (caught up first);
- `Recorder`: the ledger side — load a message, read its last answer, and record what a send
  decided, each record ONE save (one transaction), which is what crash safety rests on;
- `DeliverySettings`: backoff, attempts, timeout, the office channel, the webhook allow-list,
  a lookup from a channel's name to what its robots are built from (`ChannelSpec`), and the
  office's working time (`sendable_from`: when a message held now may go).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from domain.reminder import ChatMessage

__all__ = [
    "ChannelSpec",
    "DeliverySettings",
    "OutboxReader",
    "PendingMessage",
    "RecordConflict",
    "Recorder",
]


class PendingMessage(Protocol):
    """One message waiting in the outbox, as the deliverer selects it."""

    @property
    def message_id(self) -> str: ...
    @property
    def next_at(self) -> float:
        """Epoch seconds: when the message is next due."""
        ...


class OutboxReader(Protocol):
    """The outbox index. Both reads see every message recorded before the call."""

    def due(self, now: dt.datetime) -> Sequence[PendingMessage]:
        """Pending messages due at `now`, the longest waiting first."""
        ...

    def pending(self) -> Sequence[PendingMessage]:
        """Every message still waiting (neither delivered nor failed)."""
        ...


class RecordConflict(Exception):
    """Another writer recorded on the message first (the aggregate's version moved on)."""


class Recorder(Protocol):
    """The ledger as delivery writes it. Every record is one save: the message's new events
    (and a failure notice queued with them) are stored together or not at all; a save that
    loses the race with another writer raises `RecordConflict` and stores nothing."""

    def load(self, message_id: str) -> ChatMessage:
        """The message as stored now (the truth the outbox index is a cache of)."""
        ...

    def last_answer(self, message: ChatMessage) -> dict[str, Any]:
        """The answer recorded by the message's latest attempt, with its `part` ({} if none)."""
        ...

    def queue(self, message: ChatMessage) -> None:
        """Store a new message (`duban notify test`)."""
        ...

    def attempt(
        self,
        message: ChatMessage,
        part: int,
        answer: dict[str, Any],
        next_attempt_at: dt.datetime | None,
        at: dt.datetime,
    ) -> None:
        """One attempt that leaves the message pending, due again at `next_attempt_at`."""
        ...

    def delivered(
        self, message: ChatMessage, part: int, answer: dict[str, Any], at: dt.datetime
    ) -> None:
        """The attempt that sent the last part, and `Delivered`."""
        ...

    def failed(
        self,
        message: ChatMessage,
        reason: str,
        at: dt.datetime,
        *,
        attempt: tuple[int, dict[str, Any]] | None = None,
        notice: ChatMessage | None = None,
    ) -> None:
        """The attempt that gave up (if one was sent), `Failed`, and the office's notice."""
        ...


@dataclass(frozen=True)
class ChannelSpec:
    """What one chat's robots are built from. Holds credentials: never log or print it."""

    name: str
    platform: str
    webhooks: tuple[str, ...]  # several share the chat's load; none for the console
    secret: str | None = None
    keyword: str | None = None
    display_name: str = ""  # whom the chat's messages address (「县委编办」): what notices call it


@dataclass(frozen=True, kw_only=True)
class DeliverySettings:
    """Plain settings of the delivery loop."""

    office_channel: str  # where failure notices go
    channel: Callable[[str], ChannelSpec | None]  # a chat by name; None when unknown
    max_attempts: int
    backoff_base_s: float
    backoff_max_s: float
    timeout_s: float  # per HTTP request to a platform
    allowed_hosts: tuple[str, ...] = ()  # webhook hosts allowed besides the platforms' own
    sendable_from: Callable[[dt.datetime], dt.datetime] | None = None
    """The office's working time (PRODUCT.md rule 3): the moment itself when it lies inside
    working hours on a working day, else the start of the next working period (the calendar's
    `next_working_time`). None: any time is working time (tests of the loop alone)."""
