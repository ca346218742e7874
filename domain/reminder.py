"""提醒 / 催办 / 督办 / 通报 as facts: a reminder issued, and the chat message that carried it.

A `Reminder` is identified by its ladder key (task, the deadline it is about, rung, repeat), so
issuing it twice — a second sweep, a second scheduler node, a restart — collides on the id and
stores nothing: each rung fires once. A `ChatMessage` is the outbox entry: the digest queued for
one chat, every delivery attempt with the platform's answer, and the final outcome. Both carry
`task_code` / `task_codes` so that a task's audit trail shows every message that told its unit.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate, DomainEvent, event

from domain.ids import natural_id

__all__ = ["ChatMessage", "MessageStatus", "Reminder"]


class Reminder(Aggregate):
    """One rung of the ladder fired for one task and one deadline (or milestone)."""

    # The event classes the @event decorators below create (typed for dispatch and scans).
    Issued: ClassVar[type[DomainEvent]]

    @staticmethod
    def create_id(key: str) -> UUID:
        return natural_id("reminder", key)

    @event("Issued")
    def __init__(
        self,
        key: str,
        task_code: str,
        target: str,
        due: dt.date,
        rung: str,
        seq: int,
        audience: list[str],
        channels: list[str],
        actor: str,
        at: dt.datetime,
        calendar_version: str = "",
    ) -> None:
        # calendar_version: the calendar data the rung's date was computed with (empty in
        # events stored before it was recorded).
        self.key = key
        self.task_code = task_code
        self.target = target
        self.due = due
        self.rung = rung
        self.seq = seq
        self.audience = list(audience)
        self.channels = list(channels)
        self.calendar_version = calendar_version


class MessageStatus:
    QUEUED = "queued"
    DELIVERED = "delivered"
    FAILED = "failed"


class ChatMessage(Aggregate):
    """One digest for one chat (the outbox): queued, attempted, delivered or failed."""

    # The event classes the @event decorators below create (typed for dispatch and scans).
    Queued: ClassVar[type[DomainEvent]]
    AttemptRecorded: ClassVar[type[DomainEvent]]
    Delivered: ClassVar[type[DomainEvent]]
    Failed: ClassVar[type[DomainEvent]]

    @staticmethod
    def create_id(message_key: str) -> UUID:
        return natural_id("message", message_key)

    @event("Queued")
    def __init__(
        self,
        message_key: str,
        channel: str,
        kind: str,
        title: str,
        parts: list[str],
        mention_mobiles: list[str],
        reminder_keys: list[str],
        task_codes: list[str],
        actor: str,
        at: dt.datetime,
    ) -> None:
        self.message_key = message_key
        self.channel = channel
        self.kind = kind  # "digest" | "failure_notice" | "report" | "test" | "chain_head"
        self.title = title
        self.parts = list(parts)
        self.mention_mobiles = list(mention_mobiles)
        self.reminder_keys = list(reminder_keys)
        self.task_codes = list(task_codes)
        self.status = MessageStatus.QUEUED
        self.attempts = 0
        self.parts_sent = 0
        self.next_attempt_at: dt.datetime | None = at

    @property
    def is_pending(self) -> bool:
        return self.status == MessageStatus.QUEUED

    def record_attempt(
        self,
        part: int,
        answer: dict[str, Any],
        next_attempt_at: dt.datetime | None,
        actor: str,
        at: dt.datetime,
    ) -> None:
        """`answer` is the platform's answer as plain data (ok, kind, code, detail): no secrets."""
        self._attempt_recorded(
            part=part,
            answer=dict(answer),
            task_codes=self.task_codes,
            next_attempt_at=next_attempt_at,
            actor=actor,
            at=at,
        )

    def mark_delivered(self, actor: str, at: dt.datetime) -> None:
        self._delivered(task_codes=self.task_codes, actor=actor, at=at)

    def mark_failed(self, reason: str, actor: str, at: dt.datetime) -> None:
        self._failed(reason=reason, task_codes=self.task_codes, actor=actor, at=at)

    @event("AttemptRecorded")
    def _attempt_recorded(
        self,
        part: int,
        answer: dict[str, Any],
        task_codes: list[str],
        next_attempt_at: dt.datetime | None,
        actor: str,
        at: dt.datetime,
    ) -> None:
        self.attempts += 1
        if answer.get("ok"):
            self.parts_sent = max(self.parts_sent, part + 1)
        self.next_attempt_at = next_attempt_at

    @event("Delivered")
    def _delivered(self, task_codes: list[str], actor: str, at: dt.datetime) -> None:
        self.status = MessageStatus.DELIVERED
        self.next_attempt_at = None

    @event("Failed")
    def _failed(self, reason: str, task_codes: list[str], actor: str, at: dt.datetime) -> None:
        self.status = MessageStatus.FAILED
        self.next_attempt_at = None
