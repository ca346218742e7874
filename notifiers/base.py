"""What every chat robot speaks: the message out, the platform's answer, the `Notifier` protocol.

One `Notifier` is one robot (one webhook). The caller splits a digest with `Notifier.parts`,
asks the rate limiter for `Notifier.requests_for(part)` sends, then calls `Notifier.send(part)`
and records the `DeliveryAnswer` it gets back. `send` never raises for a refused or failed
delivery: the answer says whether to retry later, fix the configuration or fix the content.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

__all__ = [
    "AnswerKind",
    "DeliveryAnswer",
    "FeishuMention",
    "Limits",
    "Notifier",
    "OutgoingMessage",
]

AnswerKind = Literal["ok", "retry_later", "config", "content"]

# Sliding-window limits as (at most this many sends, per this many seconds).
Limits = tuple[tuple[int, float], ...]


@dataclass(frozen=True, slots=True)
class FeishuMention:
    """A Feishu user the bot can @ with an at-tag (custom bots cannot @ by mobile number)."""

    user_id: str
    name: str


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One message for one chat: a title and a Chinese Markdown digest, plus who to @.

    `markdown` may be empty for a mention-only message (what is left to send when WeCom
    accepted the digest but refused the mention that follows it).
    `mention_names` are shown as plain `@名字` where a platform cannot @ by mobile number.
    `link` is the task page of a one-task message (`notifiers.links.sole_task_link`): a robot
    that can show a button (DingTalk ActionCard, Feishu card) offers it; the text keeps its
    inline link for the others.
    """

    title: str
    markdown: str
    mention_mobiles: tuple[str, ...] = ()
    mention_all: bool = False
    mention_names: tuple[str, ...] = ()
    feishu_mentions: tuple[FeishuMention, ...] = ()
    link: str | None = None

    def __post_init__(self) -> None:
        if not (self.markdown or self.has_mentions):
            raise ValueError("an outgoing message needs text or someone to mention")

    @property
    def has_mentions(self) -> bool:
        return bool(
            self.mention_all or self.mention_mobiles or self.mention_names or self.feishu_mentions
        )

    def without_mentions(self) -> OutgoingMessage:
        return OutgoingMessage(title=self.title, markdown=self.markdown, link=self.link)

    def mentions_only(self) -> OutgoingMessage:
        return OutgoingMessage(
            title=self.title,
            markdown="",
            mention_mobiles=self.mention_mobiles,
            mention_all=self.mention_all,
            mention_names=self.mention_names,
            feishu_mentions=self.feishu_mentions,
        )


@dataclass(frozen=True, slots=True)
class DeliveryAnswer:
    """The platform's verdict on one `send`, classified so the caller knows what to do next.

    `detail` is the platform's own message (errmsg / msg) or the network error, with every
    key, token, secret and signature scrubbed out. `remainder` is set when part of the message
    was delivered before the failure: a retry must send the remainder, not the whole message.
    """

    ok: bool
    kind: AnswerKind
    code: int | None
    detail: str
    http_status: int | None
    retry_after_s: float | None = None
    remainder: OutgoingMessage | None = None

    def __post_init__(self) -> None:
        if self.ok != (self.kind == "ok"):
            raise ValueError(f"ok={self.ok} contradicts kind={self.kind!r}")


@runtime_checkable
class Notifier(Protocol):
    """One group-chat robot."""

    @property
    def platform(self) -> str:
        """wecom | dingtalk | feishu | console"""
        ...

    @property
    def robot(self) -> str:
        """A non-secret fingerprint of the webhook: the rate limiter's and the logs' name for it."""
        ...

    @property
    def max_body_bytes(self) -> int:
        """The platform's size limit in UTF-8 bytes, as the platform counts it."""
        ...

    @property
    def limits(self) -> Limits:
        """The platform's rate limits for one robot, with a safety margin."""
        ...

    def parts(self, message: OutgoingMessage) -> list[OutgoingMessage]:
        """The message as it must be sent: one part, or numbered parts that each fit the limit."""
        ...

    def requests_for(self, message: OutgoingMessage) -> int:
        """How many HTTP requests `send(message)` makes (what to ask the rate limiter for)."""
        ...

    def send(self, message: OutgoingMessage) -> DeliveryAnswer:
        """Deliver one part. Never raises for a refused or failed delivery."""
        ...
