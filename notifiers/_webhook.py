"""What the three webhook robots share: the guarded URL, posting JSON, reading and classifying
the answer, scrubbing secrets out of everything said about it, and cutting a digest to size."""

from __future__ import annotations

import json
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection
from dataclasses import replace
from types import TracebackType
from typing import Any, ClassVar, Self

import httpx
import structlog

from notifiers.base import DeliveryAnswer, Limits, OutgoingMessage
from notifiers.classify import classify
from notifiers.guard import check_webhook, fingerprint, redact_url, webhook_secrets
from notifiers.lists import tables_as_lists
from notifiers.split import split_message

__all__ = ["Clock", "WebhookNotifier", "encode_json"]

Clock = Callable[[], float]  # seconds since the epoch, like time.time
_DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
_DETAIL_MAX = 300
_log = structlog.get_logger("duban.notifiers")


def encode_json(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent: compact UTF-8 JSON, so sizes are what the platform counts."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class WebhookNotifier(ABC):
    """Base of the WeCom, DingTalk and Feishu robots. Subclasses build payloads and measure them."""

    platform: ClassVar[str]
    max_body_bytes: ClassVar[int]
    limits: ClassVar[Limits]

    def __init__(
        self,
        webhook: str,
        *,
        secret: str | None = None,
        keyword: str | None = None,
        client: httpx.Client | None = None,
        clock: Clock = time.time,
        allowed_hosts: Collection[str] = (),
    ) -> None:
        check_webhook(webhook, self.platform, allowed_hosts)
        self._webhook = webhook.strip()
        self._secret = secret or None
        self._keyword = (keyword or "").strip()
        self._owns_client = client is None
        self._client = client if client is not None else httpx.Client(timeout=_DEFAULT_TIMEOUT)
        self._clock = clock
        self._robot = fingerprint(self._webhook)
        self._secrets = sorted(
            {*webhook_secrets(self._webhook), *([self._secret] if self._secret else [])},
            key=len,
            reverse=True,
        )

    @property
    def robot(self) -> str:
        return self._robot

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(robot={self._robot!r}, webhook={redact_url(self._webhook)!r}, "
            f"signed={self._secret is not None}, keyword={self._keyword!r})"
        )

    def close(self) -> None:
        """Close the HTTP client if this notifier created it."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- what subclasses provide -------------------------------------------------------------

    @abstractmethod
    def send(self, message: OutgoingMessage) -> DeliveryAnswer: ...

    @abstractmethod
    def _measure(self, message: OutgoingMessage) -> int:
        """Bytes of `message` as the platform counts them against `max_body_bytes`."""

    def requests_for(self, message: OutgoingMessage) -> int:
        return 1

    # -- shared behaviour --------------------------------------------------------------------

    def parts(self, message: OutgoingMessage) -> list[OutgoingMessage]:
        """`message` cut into numbered parts that each fit; the mentions ride on the last part.
        A table in it arrives as a list (no chat platform renders Markdown tables)."""
        listed = tables_as_lists(message.markdown)
        if listed != message.markdown:
            message = replace(message, markdown=listed)
        limit = self.max_body_bytes
        if self._measure(message) <= limit:
            return [message]
        message = replace(message, link=None)  # numbered parts keep their inline links only
        # Room for everything but the text, found by measuring a one-byte text. The text then
        # grows in the payload (JSON escapes, Feishu's per-line wrappers): measure the parts and
        # shrink the text budget in proportion until every part fits.
        header = self._measure(replace(message, markdown=" ")) - 1
        budget = limit - header
        while True:
            chunks = split_message(message.markdown, budget)
            parts = [replace(message.without_mentions(), markdown=c) for c in chunks[:-1]]
            parts.append(replace(message, markdown=chunks[-1]))
            biggest = max(self._measure(part) for part in parts)
            if biggest <= limit:
                return parts
            budget = min(budget - 1, budget * (limit - header) // (biggest - header))

    def _titled(self, title: str) -> str:
        """The title with the robot's keyword in front, unless it already carries it."""
        if self._keyword and self._keyword not in title:
            return f"【{self._keyword}】{title}"
        return title

    def _post(self, payload: dict[str, Any], url: httpx.URL | None = None) -> DeliveryAnswer:
        target = url if url is not None else httpx.URL(self._webhook)
        try:
            response = self._client.post(
                target,
                content=encode_json(payload),
                headers={"Content-Type": "application/json; charset=utf-8"},
            )
        except httpx.HTTPError as exc:
            detail = self._scrub(f"{type(exc).__name__}: {exc}", str(target))
            answer = DeliveryAnswer(
                ok=False, kind="retry_later", code=None, detail=detail, http_status=None
            )
            return self._answer(answer)
        code, text = _read_code(response)
        kind, wait = classify(
            self.platform, response.status_code, code, text, response.headers.get("Retry-After")
        )
        if code is None:
            text = f"HTTP {response.status_code}: {response.text[:_DETAIL_MAX]}"
        detail = self._scrub(text, str(target))
        answer = DeliveryAnswer(
            ok=kind == "ok",
            kind=kind,
            code=code,
            detail=detail,
            http_status=response.status_code,
            retry_after_s=wait,
        )
        return self._answer(answer)

    def _scrub(self, text: str, *extra: str) -> str:
        for secret in sorted({*extra, *self._secrets}, key=len, reverse=True):
            text = text.replace(secret, "***")
        return text[:_DETAIL_MAX]

    def _answer(self, answer: DeliveryAnswer) -> DeliveryAnswer:
        _log.info(
            "notifier.answer",
            platform=self.platform,
            robot=self._robot,
            kind=answer.kind,
            code=answer.code,
            http_status=answer.http_status,
            detail=answer.detail,
        )
        return answer


def _read_code(response: httpx.Response) -> tuple[int | None, str]:
    """The platform's (code, message) from the body: errcode/errmsg, code/msg or StatusCode."""
    try:
        body = response.json()
    except ValueError:
        return None, ""
    if not isinstance(body, dict):
        return None, ""
    for code_key, text_key in (
        ("errcode", "errmsg"),
        ("code", "msg"),
        ("StatusCode", "StatusMessage"),
    ):
        code = body.get(code_key)
        if isinstance(code, int) and not isinstance(code, bool):
            return code, str(body.get(text_key, ""))
    return None, ""
