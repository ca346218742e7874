"""From a channel's settings (platform, webhook, secret, keyword) to its `Notifier`s."""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from typing import TextIO

import httpx

from notifiers._webhook import Clock, WebhookNotifier
from notifiers.base import Notifier
from notifiers.console import ConsoleNotifier
from notifiers.dingtalk import DingTalkNotifier
from notifiers.errors import UnknownPlatform, WebhookNotAllowed
from notifiers.feishu import FeishuNotifier
from notifiers.ports import ChannelSpec
from notifiers.wecom import WeComNotifier

__all__ = ["PLATFORMS", "notifier_for", "robots_for"]

_WEBHOOK_NOTIFIERS: dict[str, type[WebhookNotifier]] = {
    "wecom": WeComNotifier,
    "dingtalk": DingTalkNotifier,
    "feishu": FeishuNotifier,
}
PLATFORMS = (*_WEBHOOK_NOTIFIERS, "console")


def notifier_for(
    platform: str,
    webhook: str | None = None,
    *,
    secret: str | None = None,
    keyword: str | None = None,
    client: httpx.Client | None = None,
    clock: Clock = time.time,
    allowed_hosts: Collection[str] = (),
    name: str = "console",
    stream: TextIO | None = None,
) -> Notifier:
    """The robot for one webhook. Raises `WebhookNotAllowed` / `UnknownPlatform` at once."""
    if platform == "console":
        return ConsoleNotifier(name=name, stream=stream)
    cls = _WEBHOOK_NOTIFIERS.get(platform)
    if cls is None:
        raise UnknownPlatform(
            f"no notifier for platform {platform!r}; known: {', '.join(PLATFORMS)}"
        )
    if not webhook:
        raise WebhookNotAllowed(f"a {platform} robot needs a webhook URL")
    return cls(
        webhook,
        secret=secret,
        keyword=keyword,
        client=client,
        clock=clock,
        allowed_hosts=allowed_hosts,
    )


def robots_for(
    spec: ChannelSpec,
    *,
    client: httpx.Client | None = None,
    clock: Clock = time.time,
    allowed_hosts: Collection[str] = (),
) -> list[Notifier]:
    """One robot per webhook of the chat (the console's one robot when it has none)."""
    hooks: Sequence[str | None] = spec.webhooks or [None]
    return [
        notifier_for(
            spec.platform,
            hook,
            secret=spec.secret,
            keyword=spec.keyword or None,
            client=client,
            clock=clock,
            allowed_hosts=allowed_hosts,
            name=spec.name,
        )
        for hook in hooks
    ]
