"""Inbound callbacks from the robots a liaison writes to (DingTalk, Feishu): the checks.

Pure functions of the request (headers, raw body, the secrets, the time): each returns the
message as an `InboundText` (or a Feishu `FeishuChallenge`) or raises `CallbackRefused` with
the HTTP status to answer and an English log key; `CallbackIgnored` (a `CallbackRefused` with
status 200) marks an authentic request that carries no text message. Neither the body nor a
secret ever goes into an exception. The platform modules hold the algorithms:
`notifiers.callback_dingtalk`, `notifiers.callback_feishu`.
"""

from notifiers.callback_base import (
    MAX_BODY_BYTES,
    STALE_AFTER_MS,
    CallbackIgnored,
    CallbackRefused,
    InboundText,
)
from notifiers.callback_dingtalk import check_dingtalk, dingtalk_sign
from notifiers.callback_feishu import (
    FeishuChallenge,
    check_feishu,
    feishu_decrypt,
    feishu_signature,
)

__all__ = [
    "MAX_BODY_BYTES",
    "STALE_AFTER_MS",
    "CallbackIgnored",
    "CallbackRefused",
    "FeishuChallenge",
    "InboundText",
    "check_dingtalk",
    "check_feishu",
    "dingtalk_sign",
    "feishu_decrypt",
    "feishu_signature",
]
