"""Delivery: the outbox's queued chat messages sent through the robots, every attempt proven.

PRODUCT.md rules 5, 6 and 9. One pass (`Deliverer.run_once(now)`; the application layer's
`deliver_due(services, now)` opens one on the store) reads the outbox index, and for each
pending `ChatMessage` that is due:

- builds the channel's robots (a channel with several webhooks shares its load between them:
  each part goes to the next robot the rate limiter has room on);
- asks the persistent rate limiter (a SQLite file beside the store, `<db>.ratelimit.db`, or
  the PostgreSQL database itself) before every send; when no robot has room the message is
  left as it is and comes back on a later pass — nothing is recorded, nothing is lost;
- sends part by part from `parts_sent` on and records EVERY attempt as an `AttemptRecorded`
  event carrying the platform's answer as plain data (kind, code, detail, the robot's
  fingerprint — never a webhook, key, token or secret);
- ends with `Delivered` when the last part went through; on `retry_later` sets
  `next_attempt_at` with exponential backoff and jitter (`DeliverySettings`), and blocks a
  throttled robot in the limiter for as long as the platform said (DingTalk 130101: 10 min);
  on a configuration or content error, or after `max_attempts` failed attempts, records
  `Failed` and queues a `failure_notice` for the office channel in the same transaction
  (unless the office channel itself is the one failing: then an error is logged).

Working time (PRODUCT.md rule 3). A pass at a moment outside working hours or on a day the
office calendar does not work (`DeliverySettings.sendable_from`) sends nothing and records
nothing, whatever queued the message (ladder, rounds, reports, the chain head, decisions,
failure notices): it reports the due messages as `held` and `next_at` as the start of the next
working period, and the first pass inside working time sends them. Every `next_at` a pass
reports is moved into working time the same way. The one exception is `duban notify test`
(`send_test`): an operator's explicit action at the console, whose answer they wait for, so
it goes at once whatever the hour.

A WeCom answer with a `remainder` means the digest went through and the @-mention text did
not: the attempt records `remainder: "mentions"`, and the retry sends only the mention.

The loop sees the store and the config only through its ports (`notifiers/ports.py`): an
`OutboxReader` (what is pending and due), a `Recorder` (each record one save) and plain
`DeliverySettings`; `duban/app/delivery_adapters.py` implements them with the ledger, the
outbox index (`projections/outbox.py`) and the config.

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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import structlog

from domain.reminder import ChatMessage
from notifiers.base import DeliveryAnswer, Notifier, OutgoingMessage
from notifiers.errors import NotifierError
from notifiers.factory import robots_for
from notifiers.messages import (
    ACTOR,
    TEST,
    answer_data,
    failure_notice,
    failure_reason,
    probe_message,
    wire_parts,
)
from notifiers.ports import DeliverySettings, OutboxReader, RecordConflict, Recorder
from notifiers.ratelimit import RateLimiter
from notifiers.report import DeliveryReport

__all__ = ["ACTOR", "Deliverer", "DeliveryReport"]

_PASS_ROUNDS = 2  # the messages due, then the failure notices those queued
log = structlog.get_logger("duban.delivery")

Clock = Callable[[], float]


@dataclass(frozen=True)
class _Plan:
    """One message's wire parts and where it stands: what the last attempt left to do."""

    parts: list[OutgoingMessage]
    sent: int
    failures: int
    mentions_only: bool  # WeCom took the digest of part `sent` but not its @-mention


class Deliverer:
    """Sends what the outbox holds. Open once per pass (or per process); close when done
    (it closes its HTTP client and the rate limiter).

    `clock` is physical time for the platforms (signatures) and the rate limiter; `now` given
    to `run_once` is the office's time for what is due and what is recorded. In tests both
    come from one fake clock shared with the fake platform server.
    """

    def __init__(
        self,
        outbox: OutboxReader,
        recorder: Recorder,
        limiter: RateLimiter,
        settings: DeliverySettings,
        *,
        clock: Clock | None = None,
    ) -> None:
        self._outbox = outbox
        self._recorder = recorder
        self._limiter = limiter
        self._settings = settings
        self._clock: Clock = clock or time.time
        self._client: httpx.Client | None = None  # made on the first send (an SSL context
        # costs tens of milliseconds: a pass with nothing to send, or held, needs none)
        self._rng = random.Random()
        self._robots: dict[str, list[Notifier]] = {}
        self._turn: dict[str, int] = {}

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        self._limiter.close()

    def _http(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(timeout=httpx.Timeout(self._settings.timeout_s))
        return self._client

    def __enter__(self) -> Deliverer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- the pass -------------------------------------------------------------------------

    def run_once(self, now: dt.datetime) -> DeliveryReport:
        """Send every message due at `now` as far as the rate limits allow; never sleeps."""
        report = DeliveryReport(now=now)
        if self._sendable_from(now) > now:
            return self._hold(now, report)
        handled: set[str] = set()
        waits: dict[str, float] = {}
        for _ in range(_PASS_ROUNDS):
            due = [p for p in self._outbox.due(now) if p.message_id not in handled]
            if not due:
                break
            report.due += len(due)
            for pending in due:
                handled.add(pending.message_id)
                wait = self._deliver(pending.message_id, now, report)
                if wait is not None:
                    waits[pending.message_id] = wait
        report.next_at = self._next_at(waits, now)
        log.info("delivery.pass", **{k: v for k, v in report.as_dict().items() if k != "attempts"})
        return report

    def _hold(self, now: dt.datetime, report: DeliveryReport) -> DeliveryReport:
        """Outside working time: nothing sent, nothing recorded; the due messages reported
        as held, and `next_at` the moment the first of them (or anything pending) can go."""
        due = self._outbox.due(now)
        report.due = len(due)
        report.held = [self._recorder.load(p.message_id).message_key for p in due]
        pending = self._outbox.pending()
        moments = [self._in_working_time(max(p.next_at, now.timestamp()), now) for p in pending]
        report.next_at = min(moments, default=None)
        if report.due:  # an idle pass outside working time is not worth a line
            log.info("delivery.held", due=report.due, next_at=report.next_at, now=now.isoformat())
        return report

    def _next_at(self, waits: dict[str, float], now: dt.datetime) -> float | None:
        """The earliest moment anything pending can go: a limiter wait or a retry time,
        moved into working time."""
        moments = [
            self._clock() + waits[p.message_id] if p.message_id in waits else p.next_at
            for p in self._outbox.pending()
        ]
        return min((self._in_working_time(m, now) for m in moments), default=None)

    def _sendable_from(self, moment: dt.datetime) -> dt.datetime:
        sendable = self._settings.sendable_from
        return moment if sendable is None else sendable(moment)

    def _in_working_time(self, epoch: float, now: dt.datetime) -> float:
        """Epoch seconds `epoch`, or the start of the next working period if it is outside."""
        moment = dt.datetime.fromtimestamp(epoch, now.tzinfo)
        return self._sendable_from(moment).timestamp()

    # ---- one message ----------------------------------------------------------------------

    def _deliver(self, message_id: str, now: dt.datetime, report: DeliveryReport) -> float | None:
        """Send what is left of one message; the limiter's wait when it had to stop for it."""
        message = self._recorder.load(message_id)
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
        except RecordConflict:
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
        data = answer_data(answer, robot, index, total, failures)
        report.attempts.append(
            {"message_key": message.message_key, "channel": message.channel, **data}
        )
        log.info(
            "delivery.attempt", message_key=message.message_key, channel=message.channel, **data
        )
        if answer.ok:
            if index + 1 == total:
                self._recorder.delivered(message, index, data, now)
                report.delivered.append(message.message_key)
                return False
            self._recorder.attempt(message, index, data, now, now)
            return True
        if self._gives_up(message, answer, failures):
            self._fail(message, failure_reason(answer, robot), now, report, (index, data))
            return False
        retry_at = now + dt.timedelta(seconds=self._backoff(failures, answer.retry_after_s))
        self._recorder.attempt(message, index, data, retry_at, now)
        report.retrying.append(message.message_key)
        return False

    def _gives_up(self, message: ChatMessage, answer: DeliveryAnswer, failures: int) -> bool:
        if message.kind == TEST or answer.kind in ("config", "content"):
            return True
        return failures >= self._settings.max_attempts

    def _backoff(self, failures: int, retry_after_s: float | None) -> float:
        """Exponential in the failures so far, capped, with jitter so robots that failed
        together do not retry together; never sooner than the platform asked."""
        settings = self._settings
        ceiling = min(settings.backoff_max_s, settings.backoff_base_s * 2.0 ** max(failures - 1, 0))
        jittered = ceiling * (0.5 + 0.5 * self._rng.random())
        return max(jittered, retry_after_s or 0.0)

    def _fail(
        self,
        message: ChatMessage,
        reason: str,
        now: dt.datetime,
        report: DeliveryReport,
        attempt: tuple[int, dict[str, Any]] | None = None,
    ) -> None:
        """Failed, and the office told in the same transaction (or an error logged)."""
        spec = self._settings.channel(message.channel)
        chat = spec.display_name if spec is not None else ""
        notice = failure_notice(message, reason, self._settings.office_channel, now, chat)
        self._recorder.failed(message, reason, now, attempt=attempt, notice=notice)
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

    # ---- robots, parts and the limiter -------------------------------------------------------

    def _channel_robots(self, name: str) -> list[Notifier]:
        """The channel's robots, built once per deliverer (they share one HTTP client)."""
        robots = self._robots.get(name)
        if robots is None:
            spec = self._settings.channel(name)
            if spec is None:
                raise KeyError(f"没有名为 {name} 的群聊（channels）")
            robots = self._robots[name] = robots_for(
                spec,
                client=self._http(),
                clock=self._clock,
                allowed_hosts=self._settings.allowed_hosts,
            )
        return robots

    def _plan(self, message: ChatMessage, robot: Notifier) -> _Plan:
        last = self._recorder.last_answer(message)
        remainder = last.get("remainder") == "mentions" and last.get("part") == message.parts_sent
        return _Plan(
            parts=wire_parts(message, robot),
            sent=message.parts_sent,
            failures=int(last.get("failures", 0)),
            mentions_only=remainder,
        )

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
        other; never retried: whoever runs the test reads the answer). An operator's explicit
        action: sent whatever the hour, the one message outside the working-time rule."""
        self._channel_robots(channel)  # an unknown channel or a refused webhook fails here
        message = probe_message(channel, now)
        self._recorder.queue(message)
        report = DeliveryReport(now=now, due=1)
        wait = self._deliver(str(message.id), now, report)
        report.next_at = None if wait is None else self._clock() + wait
        return report
