"""A platform's answer as what the caller should do: done, retry later, fix config, fix content.

All three platforms answer HTTP 200 when they refuse a message, so the code in the body decides.
Content and config errors are never worth retrying as they are: the same request fails again.
"""

from __future__ import annotations

from notifiers.base import AnswerKind

__all__ = ["DINGTALK_THROTTLE_S", "classify"]

# DingTalk throttles a robot for ten minutes once it exceeds 20 messages a minute.
DINGTALK_THROTTLE_S = 600.0
_MINUTE = 60.0

_RETRY_LATER: dict[str, dict[int, float]] = {
    "wecom": {45009: _MINUTE, -1: _MINUTE},  # api freq out of limit; -1 system busy
    "dingtalk": {130101: DINGTALK_THROTTLE_S, -1: _MINUTE},  # send too fast; -1 system busy
    "feishu": {11232: _MINUTE},  # frequency limited
}
_CONFIG: dict[str, frozenset[int]] = {
    "wecom": frozenset({93000}),  # invalid webhook url (bad key)
    # 300001 bad token; 310000 sign not match / keywords not in content / invalid timestamp / IP
    "dingtalk": frozenset({300001, 310000}),
    # 19001 bad hook id; 19021 sign or timestamp; 19022 IP not allowed; 19024 keyword missing
    "feishu": frozenset({19001, 19021, 19022, 19024}),
}
_CONTENT: dict[str, frozenset[int]] = {
    "wecom": frozenset({40058}),  # content too long
    "dingtalk": frozenset({460101}),  # body over 20000 bytes
    "feishu": frozenset({9499}),  # bad request (unless the message says overload)
}
_FEISHU_OVERLOAD = 9499
_OVERLOAD_WORDS = ("overload", "too many", "frequency", "rate limit", "throttl")


def classify(
    platform: str,
    http_status: int,
    code: int | None,
    message: str = "",
    retry_after_header: str | None = None,
) -> tuple[AnswerKind, float | None]:
    """Kind of answer and, for `retry_later`, how long to wait (None: the caller's backoff).

    `code` is None when the body had no code (not JSON, or not the platform's shape).
    """
    if code is not None:
        known = _by_code(platform, code, message)
        if known is not None:
            return known
    if 200 <= http_status < 300:
        if code is None:
            # A 2xx body without a code is not the platform talking (a gateway, a captive proxy).
            return "retry_later", None
        # An unknown refusal: retrying the same request will not change the platform's mind.
        return "content", None
    return _by_status(http_status, retry_after_header)


def _by_code(platform: str, code: int, message: str) -> tuple[AnswerKind, float | None] | None:
    if code == 0:
        return "ok", None
    if platform == "feishu" and code == _FEISHU_OVERLOAD and _overloaded(message):
        return "retry_later", _MINUTE
    wait = _RETRY_LATER.get(platform, {}).get(code)
    if wait is not None:
        return "retry_later", wait
    if code in _CONFIG.get(platform, frozenset()):
        return "config", None
    if code in _CONTENT.get(platform, frozenset()):
        return "content", None
    return None


def _overloaded(message: str) -> bool:
    """Feishu answers 9499 both for a bad request and, sometimes, for overload."""
    return any(word in message.lower() for word in _OVERLOAD_WORDS)


def _by_status(http_status: int, retry_after_header: str | None) -> tuple[AnswerKind, float | None]:
    if http_status == 429:
        return "retry_later", _retry_after(retry_after_header)
    if http_status >= 500:
        return "retry_later", None
    if http_status in (401, 403, 404) or 300 <= http_status < 400:
        # Wrong or revoked webhook: the address or the key needs fixing, not the message.
        return "config", None
    return "content", None


def _retry_after(header: str | None) -> float:
    try:
        return max(float(header), 0.0) if header is not None else _MINUTE
    except ValueError:
        return _MINUTE
