"""Group-chat robots and the delivery loop: one module per platform behind the `Notifier`
protocol, the digest renderer, the splitter, the platform-limits table, the webhook guard, the
cross-process rate limiter, and `Deliverer`, which sends the outbox through them.

Imports `domain` only (and third-party libraries): never `projections`, `scheduler` nor
`duban`. What delivery needs from the store and the config comes through its ports
(`notifiers/ports.py`), which the application layer implements (`duban/app/delivery_adapters.py`).

Typical use of one robot::

    notifier = notifier_for(channel.platform, url, secret=..., keyword=..., allowed_hosts=...)
    title, markdown = render_digest(chat_name, items, now)
    for part in notifier.parts(OutgoingMessage(title, markdown, mention_mobiles=...)):
        cost = notifier.requests_for(part)
        wait = limiter.acquire(notifier.robot, notifier.limits, time.time(), cost)
        ...  # wait > 0: come back later; else answer = notifier.send(part), record it;
        ...  # answer.retry_after_s (DingTalk 130101: 600 s): limiter.block(robot, now + it);
        ...  # answer.remainder: retry that, not the whole part
"""

from notifiers.base import (
    AnswerKind,
    DeliveryAnswer,
    FeishuMention,
    Limits,
    Notifier,
    OutgoingMessage,
)
from notifiers.classify import DINGTALK_THROTTLE_S, classify
from notifiers.console import ConsoleNotifier
from notifiers.dingtalk import DingTalkNotifier, sign_dingtalk
from notifiers.errors import BudgetTooSmall, NotifierError, UnknownPlatform, WebhookNotAllowed
from notifiers.factory import PLATFORMS, notifier_for
from notifiers.feishu import FeishuNotifier, sign_feishu
from notifiers.guard import check_webhook, fingerprint, redact_url
from notifiers.ratelimit import RateLimiter
from notifiers.render import DigestItem, Renderer, escape_markdown, render_digest
from notifiers.split import split_message, strip_numbering
from notifiers.wecom import WeComNotifier

__all__ = [
    "DINGTALK_THROTTLE_S",
    "PLATFORMS",
    "AnswerKind",
    "BudgetTooSmall",
    "ConsoleNotifier",
    "DeliveryAnswer",
    "DigestItem",
    "DingTalkNotifier",
    "FeishuMention",
    "FeishuNotifier",
    "Limits",
    "Notifier",
    "NotifierError",
    "OutgoingMessage",
    "RateLimiter",
    "Renderer",
    "UnknownPlatform",
    "WeComNotifier",
    "WebhookNotAllowed",
    "check_webhook",
    "classify",
    "escape_markdown",
    "fingerprint",
    "notifier_for",
    "redact_url",
    "render_digest",
    "sign_dingtalk",
    "sign_feishu",
    "split_message",
    "strip_numbering",
]
