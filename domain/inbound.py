"""群内回复: a message a person wrote to the robot in a group chat, and what it caused.

One aggregate per received message, its id derived from the platform's message id
(`inbound_id`: DingTalk `msgId`, Feishu `event_id`), so a delivery the platform retries collides
on version 1 and stores nothing. Its one event, `InboundMessage.Received`, records the message
as proof (platform, chat, conversation, sender ids and name, message id, the text, the SHA-256
of the raw body, the check that passed) together with its outcome: the chat command it was
read as and either the task it changed (`task_code`, `task_version` after the change, which
attaches the message to the task's audit trail) or why it was refused (`reason`), and the
answer given in the group. The application writes it in the same transaction as the task's
events (`duban.app.inbound`), so a message is recorded exactly when its effect is.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar, Literal
from uuid import UUID

from eventsourcing.domain import Aggregate, DomainEvent, event

from domain.ids import natural_id

__all__ = ["REFUSALS", "InboundMessage", "Outcome", "inbound_id"]

Outcome = Literal["done", "refused", "help", "mine"]
# Why a message changed nothing (`reason` of a refused one), as the audit trail says it.
REFUSALS: dict[str, str] = {
    "unknown_sender": "发送人未在督办系统中登记",
    "forbidden": "发送人无权办理该任务",
    "task_not_found": "任务不存在",
    "not_allowed": "任务当前状态不允许",
    "invalid": "内容有误",
    "not_understood": "未能识别指令",
}


def inbound_id(platform: str, message_id: str) -> UUID:
    """The aggregate id of the platform's message `message_id` (a retry has the same id)."""
    return natural_id("inbound", f"{platform}:{message_id}")


class InboundMessage(Aggregate):
    """One message received from a group chat, recorded once with its outcome."""

    Received: ClassVar[type[DomainEvent]]

    @staticmethod
    def create_id(platform: str, message_id: str, **_: object) -> UUID:
        return inbound_id(platform, message_id)

    @event("Received")
    def __init__(
        self,
        platform: str,
        message_id: str,
        channel: str,
        conversation_id: str,
        conversation_title: str,
        sender_ids: list[str],
        sender_name: str,
        text: str,
        body_sha256: str,
        check: str,
        outcome: Outcome,
        command: str,
        answer: str,
        actor: str | None,
        at: dt.datetime,
        task_code: str | None = None,
        task_version: int | None = None,
        asked_code: str | None = None,
        reason: str | None = None,
    ) -> None:
        self.platform = platform
        self.message_id = message_id
        self.channel = channel
        self.conversation_id = conversation_id
        self.conversation_title = conversation_title
        self.sender_ids = list(sender_ids)
        self.sender_name = sender_name
        self.text = text
        self.body_sha256 = body_sha256
        self.check = check
        self.outcome = outcome
        self.command = command
        self.answer = answer
        self.actor = actor
        self.at = at
        self.task_code = task_code
        self.task_version = task_version
        self.asked_code = asked_code
        self.reason = reason
