"""Replies from the group (issue 17): a checked callback becomes a ledger event and an answer.

    desk = InboundDesk(services, reads)
    channel = desk.channel("dingtalk", "czj")          # NotReceiving → 404
    checked = desk.check(channel, headers, raw_body)   # CallbackRefused → its 401/403
    handled = desk.handle(channel, checked, raw_body)  # one transaction, then answer
    desk.reply(handled)                                # into the group, after the HTTP answer

Who is speaking is the sender's organisation user id bound in the config
(`duban.app.inbound_people`); what they wrote is read by `domain.chat_commands`; a task command
is carried out through `duban.app.task_commands`, so the ledger checks the same roles as for
the API, and its events record `via = "chat:<inbound message id>"`.

Recorded once, atomically: the message, its outcome and the task's events are written in ONE
transaction (`Ledger.saving_also` builds the `InboundMessage` inside the task's save, afresh on
each retry, with the task's version after the change); a message that changes no task (a
stranger, help, 我的任务, a refusal) is saved alone. Nothing is written before that commit, and
the HTTP answer goes out after it: a process killed before the commit leaves nothing, so the
platform's retry is handled fresh; killed after it, the retry finds the message (one read by its
id, `domain.inbound.inbound_id`) and is answered as a no-op with the answer given then. A
duplicate arriving concurrently collides inside the save and ends as the same no-op.

Crash seam (acceptance 4): `InboundDesk.handle` is the only writer, and `_save_alone` /
`Ledger.saving_also` its only commit points; a test that kills `duban serve` between the check
and the commit (e.g. SIGKILL while the callback's request is in flight) and re-posts the same
signed body must find exactly one `InboundMessage.Received` and, for a command, one task event.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError
from pydantic import ValidationError

from domain.chat_commands import ChatCommand, parse_chat_command
from domain.inbound import InboundMessage, Outcome, inbound_id
from domain.roles import Identity
from domain.task import ReformTask
from duban.app.errors import ApplicationError, DomainError, Forbidden, TaskNotFound
from duban.app.inbound_checks import (
    CallbackIgnored,
    CallbackRefused,
    FeishuChallenge,
    InboundText,
    NotReceiving,
    check_callback,
    receiving_channel,
)
from duban.app.inbound_commands import (
    STRANGER,
    Planned,
    help_answer,
    invalid_answer,
    mine_answer,
    plan,
)
from duban.app.inbound_people import SenderDirectory
from duban.app.inbound_reply import Reply, send_reply, session_webhook_allowed
from duban.app.notices import queue_notices_now
from duban.app.reads import BoardQuery, ReadModels
from duban.app.services import Services
from duban.settings.config import Channel

__all__ = [
    "CallbackIgnored",
    "CallbackRefused",
    "DuplicateDelivery",
    "FeishuChallenge",
    "Handled",
    "InboundDesk",
    "InboundText",
    "NotReceiving",
    "body_digest",
]


class DuplicateDelivery(Exception):
    """The message was recorded meanwhile (a concurrent retry of the platform): a no-op."""


@dataclass(frozen=True)
class Handled:
    """What became of one message: the answer, whether it was a replay, where to send it."""

    message_id: UUID
    outcome: str
    answer: str
    replay: bool = False
    reply: Reply | None = None  # None: nothing to send (a replay, or nowhere to send it)
    answer_in_body: bool = False  # DingTalk: no usable sessionWebhook, answer in the HTTP body


def body_digest(raw: bytes) -> str:
    """The SHA-256 of the raw body, hex: what the event records and the logs name."""
    return hashlib.sha256(raw).hexdigest()


class InboundDesk:
    """The application service behind the callback routes (one per app)."""

    def __init__(
        self,
        services: Services,
        reads: ReadModels | None = None,
        *,
        wall_clock_ms: Callable[[], int] = lambda: int(time.time() * 1000),
    ) -> None:
        self.services = services
        self.config = services.config
        self.ledger = services.ledger
        self.senders = SenderDirectory(services.config)
        self._reads = reads
        self._wall_clock_ms = wall_clock_ms

    # ---- the platform's check ------------------------------------------------------------

    def channel(self, platform: str, name: str) -> Channel:
        return receiving_channel(self.config, platform, name)

    def check(
        self, channel: Channel, headers: Mapping[str, str], raw: bytes
    ) -> InboundText | FeishuChallenge:
        return check_callback(channel, headers, raw, self._wall_clock_ms())

    # ---- handling ------------------------------------------------------------------------

    def handle(self, channel: Channel, message: InboundText, raw: bytes) -> Handled:
        """Record the message and its outcome (and the task's change) once; the answer."""
        message_id = inbound_id(message.platform, message.message_id)
        earlier = self._recorded(message_id)
        if earlier is not None:
            return Handled(message_id, earlier.outcome, earlier.answer, replay=True)
        facts = _facts(channel, message, body_digest(raw))
        who = self.senders.identify(message.sender_ids)
        today = self.ledger.clock().astimezone(self.config.tz).date()
        chat = parse_chat_command(message.text, today=today)
        if who is None:
            found = self._save_alone(
                message_id, facts, "refused", chat, STRANGER, None, reason="unknown_sender"
            )
        elif chat.kind == "help":
            reason = "not_understood" if chat.problem else None
            found = self._save_alone(
                message_id, facts, "help", chat, help_answer(chat), who, reason=reason
            )
        elif chat.kind == "mine":
            answer = mine_answer(who, self._mine(who))
            found = self._save_alone(message_id, facts, "mine", chat, answer, who)
        else:
            found = self._command(message_id, facts, chat, who)
        return self._with_reply(channel, message, found)

    def reply(self, handled: Handled) -> bool:
        """Send the answer into the group (at once; the platform's rate limits apply)."""
        if handled.reply is None:
            return False
        return send_reply(self.config, handled.reply)

    # ---- the parts -----------------------------------------------------------------------

    def _command(
        self, message_id: UUID, facts: dict[str, Any], chat: ChatCommand, who: Identity
    ) -> Handled:
        code = chat.code or ""
        acting = who.through("chat", str(message_id))
        try:
            planned = plan(chat, lambda: int(self.ledger.task(code, acting)["percent"]))
        except ValidationError as exc:
            return self._refused(message_id, facts, chat, who, "invalid", invalid_answer(exc))
        except (DomainError, ApplicationError) as exc:
            return self._refusal(message_id, facts, chat, who, exc)
        said: list[str] = []

        def also(task: ReformTask, at: Any) -> Sequence[Aggregate]:
            if self._recorded(message_id) is not None:
                raise DuplicateDelivery(str(message_id))
            done = self._said(planned, code, acting)
            if chat.kind == "milestone":
                done = f"{code} 阶段节点「{chat.milestone}」已完成"
            answer = f"{who.name}：{done}"
            said[:] = [answer]
            record = InboundMessage(
                **facts,
                outcome="done",
                command=chat.kind,
                answer=answer,
                actor=who.actor,
                at=at,
                task_code=task.code,
                task_version=task.version,
                asked_code=code,
            )
            return [record]

        try:
            with self.ledger.saving_also(also):
                planned.command.call(self.ledger, code, planned.body, acting)
        except DuplicateDelivery:
            return self._replay(message_id)
        except (DomainError, ApplicationError) as exc:
            return self._refusal(message_id, facts, chat, who, exc)
        queue_notices_now(self.services)  # a request told to the office at once, as by the API
        return Handled(message_id, "done", said[0])

    def _said(self, planned: Planned, code: str, who: Identity) -> str:
        """The command's success text (a co-unit's report says so), before its save."""
        command, body = planned.command, planned.body
        said = command.says(self.ledger, code, body, who) if command.says is not None else None
        return said if said is not None else command.done.format(code=code, **dict(body))

    def _refusal(
        self,
        message_id: UUID,
        facts: dict[str, Any],
        chat: ChatCommand,
        who: Identity,
        exc: DomainError | ApplicationError,
    ) -> Handled:
        if isinstance(exc, TaskNotFound):
            reason = "task_not_found"
        elif isinstance(exc, Forbidden):
            reason = "forbidden"
        else:
            reason = "not_allowed"
        text = getattr(exc, "message", "") or str(exc)
        return self._refused(message_id, facts, chat, who, reason, text)

    def _refused(
        self,
        message_id: UUID,
        facts: dict[str, Any],
        chat: ChatCommand,
        who: Identity,
        reason: str,
        why: str,
    ) -> Handled:
        answer = f"{who.name}：未办理。{why}"
        return self._save_alone(message_id, facts, "refused", chat, answer, who, reason=reason)

    def _save_alone(
        self,
        message_id: UUID,
        facts: dict[str, Any],
        outcome: Outcome,
        chat: ChatCommand,
        answer: str,
        who: Identity | None,
        *,
        reason: str | None = None,
    ) -> Handled:
        record = InboundMessage(
            **facts,
            outcome=outcome,
            command=chat.kind,
            answer=answer,
            actor=who.actor if who is not None else None,
            at=self.ledger.clock(),
            asked_code=chat.code,
            reason=reason,
        )
        try:
            self.ledger.save(record)
        except IntegrityError:
            return self._replay(message_id)  # the same message, recorded meanwhile
        return Handled(message_id, outcome, answer)

    def _replay(self, message_id: UUID) -> Handled:
        earlier = self._recorded(message_id)
        if earlier is None:  # cannot be: the save collided on it
            raise DuplicateDelivery(str(message_id))
        return Handled(message_id, earlier.outcome, earlier.answer, replay=True)

    def _recorded(self, message_id: UUID) -> InboundMessage | None:
        try:
            found: InboundMessage = self.ledger.repository.get(message_id)
        except AggregateNotFoundError:
            return None
        return found

    def _mine(self, who: Identity) -> list[dict[str, Any]]:
        reads = self._reads if self._reads is not None else ReadModels(self.services)
        self._reads = reads
        if who.role == "official":
            return reads.board(BoardQuery(official=who.name))
        return reads.board(BoardQuery(unit=who.unit))

    def _with_reply(self, channel: Channel, message: InboundText, handled: Handled) -> Handled:
        """Where the answer goes: DingTalk's sessionWebhook while valid (else the HTTP answer
        body), Feishu the channel's robot."""
        reply = Reply(message.platform, channel.name, message.conversation_id, handled.answer)
        if message.platform == "feishu":
            return replace(handled, reply=reply)
        url, expires = message.reply_url, message.reply_expires_ms
        usable = (
            url is not None
            and (expires is None or expires > self._wall_clock_ms())
            and session_webhook_allowed(url, self.config.allowed_webhook_hosts)
        )
        if not usable:
            return replace(handled, answer_in_body=True)
        return replace(handled, reply=replace(reply, session_webhook=url))


def _facts(channel: Channel, message: InboundText, digest: str) -> dict[str, Any]:
    """The message as the event records it (never the reply URL: it is a credential)."""
    return {
        "platform": message.platform,
        "message_id": message.message_id,
        "channel": channel.name,
        "conversation_id": message.conversation_id,
        "conversation_title": message.conversation_title,
        "sender_ids": list(message.sender_ids),
        "sender_name": message.sender_name,
        "text": message.text,
        "body_sha256": digest,
        "check": message.check,
    }
