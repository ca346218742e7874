"""Delivery: the outbox's queued chat messages sent through the robots, every attempt proven.

PRODUCT.md rules 5, 6 and 9. One pass (`deliver_due(services, now)`, or
`Deliverer.from_services(services).run_once(now)`) catches up the outbox index
(`projections/outbox.py`), and for each pending `ChatMessage` that is due:

- builds the channel's robots (a channel with several webhooks shares its load between them:
  each part goes to the next robot the rate limiter has room on);
- asks the persistent rate limiter (a SQLite file beside the store, `<db>.ratelimit.db`, or
  the PostgreSQL database itself) before every send; when no robot has room the message is
  left as it is and comes back on a later pass — nothing is recorded, nothing is lost;
- sends part by part from `parts_sent` on and records EVERY attempt as an `AttemptRecorded`
  event carrying the platform's answer as plain data (kind, code, detail, the robot's
  fingerprint — never a webhook, key, token or secret);
- ends with `Delivered` when the last part went through; on `retry_later` sets
  `next_attempt_at` with exponential backoff and jitter (`config.delivery`), and blocks a
  throttled robot in the limiter for as long as the platform said (DingTalk 130101: 10 min);
  on a configuration or content error, or after `max_attempts` failed attempts, records
  `Failed` and queues a `failure_notice` for the office channel in the same transaction
  (unless the office channel itself is the one failing: then an error is logged).

A WeCom answer with a `remainder` means the digest went through and the @-mention text did
not: the attempt records `remainder: "mentions"`, and the retry sends only the mention.

Crash safety. The record of an attempt is written right after its send, one message at a
time, so a process killed between a platform's acceptance and our record of it loses nothing
but that record: on restart the part is sent again. Only the ONE part in flight can be
duplicated; every other part is either recorded as sent (never resent) or not yet sent. The
same holds for two deliverers racing on one message (the scheduler's leader election is meant
to prevent it): the loser's record fails on the aggregate's version and it moves on.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TextIO
from uuid import UUID

import httpx
import structlog
from eventsourcing.persistence import IntegrityError

from domain.reminder import ChatMessage
from notifiers.base import DeliveryAnswer, Notifier, OutgoingMessage
from notifiers.errors import NotifierError
from notifiers.factory import notifier_for
from notifiers.ratelimit import RateLimiter
from notifiers.split import strip_numbering
from projections.outbox import Outbox, PendingMessage, open_outbox

if TYPE_CHECKING:
    from duban.app.ledger import Ledger
    from duban.settings.config import Channel, Config

__all__ = [
    "ACTOR",
    "Deliverer",
    "DeliveryReport",
    "deliver_due",
    "limiter_for_store",
]

ACTOR = "system:delivery"
FAILURE_NOTICE = "failure_notice"
TEST = "test"
_NOTICE_TASKS_SHOWN = 20
_PASS_ROUNDS = 2  # the messages due, then the failure notices those queued
log = structlog.get_logger("duban.delivery")

Clock = Callable[[], float]


class _Services(Protocol):
    """What delivery needs from the composition root (`duban.bootstrap.Services`)."""

    @property
    def config(self) -> Config: ...
    @property
    def ledger(self) -> Ledger: ...


@dataclass
class DeliveryReport:
    """What one pass did, as plain data: counts, message keys, every attempt's answer."""

    now: dt.datetime
    due: int = 0
    delivered: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    retrying: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # no robot had room: untouched
    notices: list[str] = field(default_factory=list)  # failure notices queued for the office
    attempts: list[dict[str, Any]] = field(default_factory=list)
    next_at: float | None = None  # epoch seconds when something can next be sent

    @property
    def sends(self) -> int:
        return len(self.attempts)

    def summary(self) -> str:
        line = (
            f"投递 {self.now:%Y-%m-%d %H:%M}：到期 {self.due} 条，送达 {len(self.delivered)}，"
            f"失败 {len(self.failed)}，待重试 {len(self.retrying)}，限流等待 {len(self.waiting)}，"
            f"发送 {self.sends} 次"
        )
        if self.next_at is not None:
            moment = dt.datetime.fromtimestamp(self.next_at, self.now.tzinfo)
            line += f"；下次可发送 {moment:%Y-%m-%d %H:%M:%S}"
        return line

    def as_dict(self) -> dict[str, Any]:
        return {
            "now": self.now.isoformat(),
            "due": self.due,
            "delivered": self.delivered,
            "failed": self.failed,
            "retrying": self.retrying,
            "waiting": self.waiting,
            "notices": self.notices,
            "sends": self.sends,
            "attempts": self.attempts,
            "next_at": self.next_at,
        }


def limiter_for_store(store_url: str) -> RateLimiter:
    """The rate limiter every process of this installation shares: a SQLite file beside a
    SQLite store (the store's own file is the ledger's), or the PostgreSQL database."""
    from duban.settings.store import is_sqlite, postgres_conninfo, sqlite_path

    if is_sqlite(store_url):
        path = sqlite_path(store_url)
        return RateLimiter.sqlite(path.with_name(path.name + ".ratelimit.db"))
    return RateLimiter.postgres(postgres_conninfo(store_url))


def deliver_due(
    services: _Services, now: dt.datetime, *, clock: Clock | None = None
) -> DeliveryReport:
    """One delivery pass at `now` (aware): what the sweep calls after issuing."""
    with Deliverer.from_services(services, clock=clock) as deliverer:
        return deliverer.run_once(now)


@dataclass(frozen=True)
class _Plan:
    """One message's wire parts and where it stands: what the last attempt left to do."""

    parts: list[OutgoingMessage]
    sent: int
    failures: int
    mentions_only: bool  # WeCom took the digest of part `sent` but not its @-mention


class Deliverer:
    """Sends what the outbox holds. Open once per pass (or per process); close when done.

    `clock` is physical time for the platforms (signatures) and the rate limiter; `now` given
    to `run_once` is the office's time for what is due and what is recorded. In tests both
    come from one fake clock shared with the fake platform server.
    """

    def __init__(
        self,
        ledger: Ledger,
        config: Config,
        limiter: RateLimiter,
        *,
        clock: Clock | None = None,
        client: httpx.Client | None = None,
        rng: random.Random | None = None,
        console: TextIO | None = None,
    ) -> None:
        self._ledger = ledger
        self._config = config
        self._limiter = limiter
        self._clock: Clock = clock or time.time
        self._owns_client = client is None
        timeout = httpx.Timeout(config.delivery.timeout_s)
        self._client = client if client is not None else httpx.Client(timeout=timeout)
        self._rng = rng or random.Random()
        self._console = console
        self._outbox: Outbox = open_outbox(ledger)
        self._robots: dict[str, list[Notifier]] = {}
        self._turn: dict[str, int] = {}

    @classmethod
    def from_services(cls, services: _Services, *, clock: Clock | None = None) -> Deliverer:
        limiter = limiter_for_store(services.config.store)
        return cls(services.ledger, services.config, limiter, clock=clock)

    def close(self) -> None:
        if self._owns_client:
            self._client.close()
        self._limiter.close()

    def __enter__(self) -> Deliverer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- the pass -------------------------------------------------------------------------

    def run_once(self, now: dt.datetime) -> DeliveryReport:
        """Send every message due at `now` as far as the rate limits allow; never sleeps."""
        report = DeliveryReport(now=now)
        handled: set[str] = set()
        waits: dict[str, float] = {}
        for _ in range(_PASS_ROUNDS):
            self._outbox.catch_up(self._ledger)
            due = [p for p in self._outbox.due(now) if p.message_id not in handled]
            if not due:
                break
            report.due += len(due)
            for pending in due:
                handled.add(pending.message_id)
                wait = self._deliver(pending, now, report)
                if wait is not None:
                    waits[pending.message_id] = wait
        self._outbox.catch_up(self._ledger)
        report.next_at = self._next_at(waits)
        log.info("delivery.pass", **{k: v for k, v in report.as_dict().items() if k != "attempts"})
        return report

    def _next_at(self, waits: dict[str, float]) -> float | None:
        """The earliest moment anything pending can go: a limiter wait or a retry time."""
        moments = [
            self._clock() + waits[p.message_id] if p.message_id in waits else p.next_at
            for p in self._outbox.pending()
        ]
        return min(moments, default=None)

    def pending(self) -> list[PendingMessage]:
        self._outbox.catch_up(self._ledger)
        return self._outbox.pending()

    # ---- one message ----------------------------------------------------------------------

    def _deliver(
        self, pending: PendingMessage, now: dt.datetime, report: DeliveryReport
    ) -> float | None:
        """Send what is left of one message; the limiter's wait when it had to stop for it."""
        message: ChatMessage = self._ledger.repository.get(UUID(pending.message_id))
        if not message.is_pending:
            return None  # the index had not yet seen it finish
        with self._recording(message, report):
            try:
                robots = self._channel_robots(message.channel)
                plan = self._plan(message, robots[0])
            except (NotifierError, KeyError, ValueError) as exc:
                self._fail(message, f"配置错误：{exc}", now, report)
                return None
            return self._send_parts(message, plan, robots, now, report)
        return None

    @contextmanager
    def _recording(self, message: ChatMessage, report: DeliveryReport) -> Iterator[None]:
        """A record that loses the race with another deliverer stops this message only."""
        try:
            yield
        except IntegrityError:
            log.warning("delivery.conflict", message_key=message.message_key)
            report.retrying.append(message.message_key)

    def _send_parts(
        self,
        message: ChatMessage,
        plan: _Plan,
        robots: list[Notifier],
        now: dt.datetime,
        report: DeliveryReport,
    ) -> float | None:
        failures = plan.failures
        for index in range(plan.sent, len(plan.parts)):
            part = plan.parts[index]
            if index == plan.sent and plan.mentions_only:
                part = part.mentions_only()
            robot, wait = self._acquire(message.channel, robots, part)
            if robot is None:
                report.waiting.append(message.message_key)
                return wait
            answer = robot.send(part)
            failures += 0 if answer.ok else 1
            self._after_answer(robot, answer)
            if not self._record(
                message, index, len(plan.parts), robot, answer, failures, now, report
            ):
                return None
        return None

    def _after_answer(self, robot: Notifier, answer: DeliveryAnswer) -> None:
        """A platform that said "too fast" gets no request from anyone until it said."""
        if answer.retry_after_s and robot.limits:
            self._limiter.block(robot.robot, self._clock() + answer.retry_after_s)

    def _record(
        self,
        message: ChatMessage,
        index: int,
        total: int,
        robot: Notifier,
        answer: DeliveryAnswer,
        failures: int,
        now: dt.datetime,
        report: DeliveryReport,
    ) -> bool:
        """Record one attempt (and the outcome it decides) in one save; whether to go on."""
        data = _answer_data(answer, robot, index, total, failures)
        report.attempts.append(
            {"message_key": message.message_key, "channel": message.channel, **data}
        )
        log.info(
            "delivery.attempt", message_key=message.message_key, channel=message.channel, **data
        )
        if answer.ok:
            last = index + 1 == total
            message.record_attempt(index, data, None if last else now, ACTOR, now)
            if last:
                message.mark_delivered(ACTOR, now)
                report.delivered.append(message.message_key)
            self._ledger.save(message)
            return not last
        if self._gives_up(message, answer, failures):
            message.record_attempt(index, data, None, ACTOR, now)
            self._fail(message, _reason(answer, robot), now, report)
            return False
        retry_at = now + dt.timedelta(seconds=self._backoff(failures, answer.retry_after_s))
        message.record_attempt(index, data, retry_at, ACTOR, now)
        self._ledger.save(message)
        report.retrying.append(message.message_key)
        return False

    def _gives_up(self, message: ChatMessage, answer: DeliveryAnswer, failures: int) -> bool:
        if message.kind == TEST or answer.kind in ("config", "content"):
            return True
        return failures >= self._config.delivery.max_attempts

    def _backoff(self, failures: int, retry_after_s: float | None) -> float:
        """Exponential in the failures so far, capped, with jitter so robots that failed
        together do not retry together; never sooner than the platform asked."""
        settings = self._config.delivery
        ceiling = min(settings.backoff_max_s, settings.backoff_base_s * 2.0 ** max(failures - 1, 0))
        jittered = ceiling * (0.5 + 0.5 * self._rng.random())
        return max(jittered, retry_after_s or 0.0)

    # ---- failure and the office --------------------------------------------------------------

    def _fail(
        self, message: ChatMessage, reason: str, now: dt.datetime, report: DeliveryReport
    ) -> None:
        """Failed, and the office told in the same transaction (or an error logged)."""
        message.mark_failed(reason, ACTOR, now)
        notice = self._failure_notice(message, reason, now)
        self._ledger.save(message, *([notice] if notice is not None else []))
        report.failed.append(message.message_key)
        if notice is not None:
            report.notices.append(notice.message_key)
        log.error(
            "delivery.failed",
            message_key=message.message_key,
            channel=message.channel,
            reason=reason,
            office_told=notice is not None,
        )

    def _failure_notice(
        self, message: ChatMessage, reason: str, now: dt.datetime
    ) -> ChatMessage | None:
        office = self._config.office.channel
        if message.kind in (TEST, FAILURE_NOTICE) or message.channel == office:
            return None
        codes = message.task_codes
        shown = "、".join(codes[:_NOTICE_TASKS_SHOWN])
        more = f"等{len(codes)}项" if len(codes) > _NOTICE_TASKS_SHOWN else ""
        text = (
            f"群聊「{message.channel}」的消息《{message.title}》未能送达，已停止重试。\n\n"
            f"原因：{reason}\n\n涉及任务：{shown or '无'}{more}\n\n"
            "请检查该群机器人的配置（webhook、签名密钥、关键词）后重新发送。"
        )
        return ChatMessage(
            message_key=f"failure|{message.message_key}",
            channel=office,
            kind=FAILURE_NOTICE,
            title=f"消息投递失败｜{message.channel}",
            parts=[text],
            mention_mobiles=[],
            reminder_keys=[],
            task_codes=list(codes),
            actor=ACTOR,
            at=now,
        )

    # ---- robots, parts and the limiter -------------------------------------------------------

    def _channel_robots(self, name: str) -> list[Notifier]:
        """The channel's robots, built once per deliverer (they share one HTTP client)."""
        robots = self._robots.get(name)
        if robots is None:
            channel = self._config.channel(name) if _has(self._config, name) else None
            if channel is None:
                raise KeyError(f"没有名为 {name} 的群聊（channels）")
            robots = self._robots[name] = self._build(channel)
        return robots

    def _build(self, channel: Channel) -> list[Notifier]:
        hooks: Sequence[str | None] = channel.webhooks() or [None]
        return [
            notifier_for(
                channel.platform,
                hook,
                secret=channel.secret_value(),
                keyword=channel.keyword or None,
                client=self._client,
                clock=self._clock,
                allowed_hosts=self._config.allowed_webhook_hosts,
                name=channel.name,
                stream=self._console,
            )
            for hook in hooks
        ]

    def _plan(self, message: ChatMessage, robot: Notifier) -> _Plan:
        last = self._last_answer(message)
        remainder = last.get("remainder") == "mentions" and last.get("part") == message.parts_sent
        return _Plan(
            parts=_wire_parts(message, robot),
            sent=message.parts_sent,
            failures=int(last.get("failures", 0)),
            mentions_only=remainder,
        )

    def _last_answer(self, message: ChatMessage) -> dict[str, Any]:
        """The answer recorded by the message's latest attempt ({} when none yet)."""
        for event in self._ledger.events.get(message.id, desc=True, limit=1):
            answer = getattr(event, "answer", None)
            if isinstance(answer, dict):
                return {**answer, "part": getattr(event, "part", None)}
        return {}

    def _acquire(
        self, channel: str, robots: list[Notifier], part: OutgoingMessage
    ) -> tuple[Notifier | None, float]:
        """The next robot (round-robin) with room for this part, else the shortest wait."""
        start = self._turn.get(channel, 0)
        waits: list[float] = []
        for step in range(len(robots)):
            robot = robots[(start + step) % len(robots)]
            wait = self._wait(robot, part)
            if wait <= 0:
                self._turn[channel] = (start + step + 1) % len(robots)
                return robot, 0.0
            waits.append(wait)
        return None, min(waits)

    def _wait(self, robot: Notifier, part: OutgoingMessage) -> float:
        if not robot.limits:
            return 0.0
        return self._limiter.acquire(
            robot.robot, robot.limits, self._clock(), robot.requests_for(part)
        )

    # ---- `duban notify test` ---------------------------------------------------------------

    def send_test(self, channel: str, now: dt.datetime) -> DeliveryReport:
        """Queue one test message for `channel` and deliver it at once (recorded like any
        other; never retried: whoever runs the test reads the answer)."""
        self._channel_robots(channel)  # an unknown channel or a refused webhook fails here
        key = f"test|{channel}|{now.isoformat()}"
        text = (
            f"这是一条来自督办系统的测试消息（{now:%Y-%m-%d %H:%M:%S}），收到即表示机器人配置正确。"
        )
        message = ChatMessage(
            message_key=key, channel=channel, kind=TEST, title="督办系统测试消息",
            parts=[text], mention_mobiles=[], reminder_keys=[], task_codes=[],
            actor=ACTOR, at=now,
        )  # fmt: skip
        self._ledger.save(message)
        report = DeliveryReport(now=now, due=1)
        pending = PendingMessage(str(message.id), key, channel, TEST, now.timestamp(), 0)
        wait = self._deliver(pending, now, report)
        report.next_at = None if wait is None else self._clock() + wait
        return report


def _has(config: Config, name: str) -> bool:
    return any(c.name == name for c in config.channels)


def _wire_parts(message: ChatMessage, robot: Notifier) -> list[OutgoingMessage]:
    """The message as this robot sends it, in the fewest parts its platform allows.

    Parts the sweep numbered with `split_message` are one digest cut by a planning budget:
    they are joined back and cut again by the robot, which measures its own envelope (a
    Feishu post wraps every line) and so packs each part as full as the platform takes.
    Parts queued otherwise are kept apart. The mentions ride on the last part. The result is
    the same on every pass for one config, which is what `parts_sent` counts.
    """
    texts = list(message.parts)
    if len(texts) > 1 and all(strip_numbering(t) != t for t in texts):
        texts = ["".join(strip_numbering(t) for t in texts)]
    found: list[OutgoingMessage] = []
    for i, text in enumerate(texts):
        mobiles = tuple(message.mention_mobiles) if i == len(texts) - 1 else ()
        found += robot.parts(OutgoingMessage(message.title, text, mention_mobiles=mobiles))
    return found


def _answer_data(
    answer: DeliveryAnswer, robot: Notifier, index: int, total: int, failures: int
) -> dict[str, Any]:
    """The platform's answer as stored: its classified fields and the robot's fingerprint.
    `detail` was scrubbed of every key, token and secret by the notifier."""
    return {
        "ok": answer.ok,
        "kind": answer.kind,
        "code": answer.code,
        "detail": answer.detail,
        "http_status": answer.http_status,
        "retry_after_s": answer.retry_after_s,
        "remainder": "mentions" if answer.remainder is not None else None,
        "robot": robot.robot,
        "platform": robot.platform,
        "part": index,
        "parts": total,
        "failures": failures,
    }


def _reason(answer: DeliveryAnswer, robot: Notifier) -> str:
    kinds = {
        "config": "机器人配置错误",
        "content": "消息内容被拒",
        "retry_later": "多次重试仍未送达",
    }
    code = f"，错误码 {answer.code}" if answer.code is not None else ""
    status = f"，HTTP {answer.http_status}" if answer.http_status is not None else ""
    where = f"{robot.platform} 机器人 {robot.robot}{code}{status}"
    return f"{kinds.get(answer.kind, answer.kind)}（{where}）：{answer.detail}"
