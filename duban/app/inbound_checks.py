"""The platform's check of a callback, with the channel's `inbound` secrets from the config.

The checks themselves (signatures, timestamps, decryption: `notifiers.callbacks`) know nothing
of the config; this module hands them the channel's secrets and gives the entry points what
they answer with. A channel that is not configured to receive is `NotReceiving` (404).
"""

from __future__ import annotations

from collections.abc import Mapping

from duban.settings.config import Channel, Config
from notifiers.callbacks import (
    CallbackIgnored,
    CallbackRefused,
    FeishuChallenge,
    InboundText,
    check_dingtalk,
    check_feishu,
)

__all__ = [
    "CallbackIgnored",
    "CallbackRefused",
    "FeishuChallenge",
    "InboundText",
    "NotReceiving",
    "check_callback",
    "receiving_channel",
]


class NotReceiving(LookupError):
    """No channel of that name on that platform receives messages (`[channels.inbound]`)."""


def receiving_channel(config: Config, platform: str, name: str) -> Channel:
    """The channel `name` if it is on `platform` and has an `inbound` section."""
    found = next((c for c in config.channels if c.name == name), None)
    if found is None or found.platform != platform or found.inbound is None:
        raise NotReceiving(name)
    return found


def check_callback(
    channel: Channel, headers: Mapping[str, str], raw: bytes, now_ms: int
) -> InboundText | FeishuChallenge:
    """The callback checked as its platform signs it; `CallbackRefused` when it fails."""
    inbound = channel.inbound
    if inbound is None:  # receiving_channel() lets none through
        raise NotReceiving(channel.name)
    if channel.platform == "dingtalk":
        secret = inbound.app_secret()
        if secret is None:  # the config checked it at load; the environment changed since
            raise CallbackRefused(503, "secret_missing")
        return check_dingtalk(headers, raw, app_secret=secret.get_secret_value(), now_ms=now_ms)
    token = inbound.verification_token()
    if token is None:
        raise CallbackRefused(503, "secret_missing")
    key = inbound.encrypt_key()
    return check_feishu(
        headers,
        raw,
        verification_token=token.get_secret_value(),
        encrypt_key=key.get_secret_value() if key is not None else None,
        now_ms=now_ms,
    )
