"""The delivery loop through its ports alone: an outbox and a recorder kept in memory, the
console robot, no ledger and no config. What the loop asks of the store is what they record."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from domain.reminder import ChatMessage
from notifiers.delivery import Deliverer
from notifiers.ports import ChannelSpec, DeliverySettings, RecordConflict
from notifiers.ratelimit import RateLimiter

NOW = dt.datetime(2024, 6, 3, 10, 0, tzinfo=dt.UTC)
CHANNELS = {name: ChannelSpec(name, "console", ()) for name in ("unit", "office")}


@dataclass(frozen=True)
class Due:
    message_id: str
    next_at: float


class MemoryStore:
    """Both ports at once: the messages, and every save as the list of event names it held."""

    def __init__(self) -> None:
        self.messages: dict[str, ChatMessage] = {}
        self.saves: list[list[str]] = []
        self.conflict_on: str | None = None  # a message key whose next save loses the race

    # OutboxReader
    def due(self, now: dt.datetime) -> Sequence[Due]:
        return [p for p in self.pending() if p.next_at <= now.timestamp()]

    def pending(self) -> Sequence[Due]:
        found = [m for m in self.messages.values() if m.is_pending]
        return [Due(str(m.id), m.next_attempt_at.timestamp()) for m in found if m.next_attempt_at]

    # Recorder
    def load(self, message_id: str) -> ChatMessage:
        return self.messages[message_id]

    def last_answer(self, message: ChatMessage) -> dict[str, Any]:
        return {}

    def queue(self, message: ChatMessage) -> None:
        self._save(message)

    def attempt(
        self,
        message: ChatMessage,
        part: int,
        answer: dict[str, Any],
        next_attempt_at: dt.datetime | None,
        at: dt.datetime,
    ) -> None:
        message.record_attempt(part, answer, next_attempt_at, "test", at)
        self._save(message)

    def delivered(
        self, message: ChatMessage, part: int, answer: dict[str, Any], at: dt.datetime
    ) -> None:
        message.record_attempt(part, answer, None, "test", at)
        message.mark_delivered("test", at)
        self._save(message)

    def failed(
        self,
        message: ChatMessage,
        reason: str,
        at: dt.datetime,
        *,
        attempt: tuple[int, dict[str, Any]] | None = None,
        notice: ChatMessage | None = None,
    ) -> None:
        if attempt is not None:
            message.record_attempt(*attempt, None, "test", at)
        message.mark_failed(reason, "test", at)
        self._save(message, *([notice] if notice is not None else []))

    def _save(self, *messages: ChatMessage) -> None:
        if self.conflict_on in [m.message_key for m in messages]:
            self.conflict_on = None
            raise RecordConflict("version moved on")
        names = [type(e).__qualname__ for m in messages for e in m.collect_events()]
        self.saves.append(names)
        self.messages |= {str(m.id): m for m in messages}


def queued(store: MemoryStore, channel: str, key: str = "digest-1") -> ChatMessage:
    message = ChatMessage(
        message_key=key, channel=channel, kind="digest", title="督办提醒",
        parts=["- **2024-001** 第1项改革任务"], mention_mobiles=[], reminder_keys=[],
        task_codes=["2024-001"], actor="test", at=NOW,
    )  # fmt: skip
    store.queue(message)
    return message


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def deliverer(store: MemoryStore, tmp_path: Path) -> Iterator[Deliverer]:
    settings = DeliverySettings(
        office_channel="office",
        channel=CHANNELS.get,
        max_attempts=3,
        backoff_base_s=30.0,
        backoff_max_s=3600.0,
        timeout_s=1.0,
    )
    limiter = RateLimiter.sqlite(tmp_path / "limits.db")
    with Deliverer(store, store, limiter, settings, clock=NOW.timestamp) as found:
        yield found


def test_a_due_message_is_delivered_in_one_save(
    store: MemoryStore, deliverer: Deliverer, capsys: pytest.CaptureFixture[str]
) -> None:
    queued(store, "unit")
    report = deliverer.run_once(NOW)
    assert (report.due, report.delivered, report.next_at) == (1, ["digest-1"], None)
    assert store.saves[-1] == ["ChatMessage.AttemptRecorded", "ChatMessage.Delivered"]
    assert "第1项改革任务" in capsys.readouterr().out


def test_an_unknown_channel_fails_and_tells_the_office_in_the_same_save(
    store: MemoryStore, deliverer: Deliverer
) -> None:
    queued(store, "nowhere")
    report = deliverer.run_once(NOW)
    assert report.failed == ["digest-1"]
    assert report.notices == ["failure|digest-1"]
    assert store.saves[1] == ["ChatMessage.Failed", "ChatMessage.Queued"]
    notice = store.load(str(ChatMessage.create_id("failure|digest-1")))
    assert (notice.channel, notice.kind) == ("office", "failure_notice")
    assert "配置错误：'没有名为 nowhere 的群聊（channels）'" in notice.parts[0]
    assert report.delivered == ["failure|digest-1"]  # the second round sent the notice


def test_a_record_that_loses_the_race_stops_that_message_only(
    store: MemoryStore, deliverer: Deliverer
) -> None:
    queued(store, "unit", "first")
    queued(store, "unit", "second")
    store.conflict_on = "first"
    report = deliverer.run_once(NOW)
    assert report.retrying == ["first"]
    assert report.delivered == ["second"]
    assert len(report.attempts) == 2


def test_send_test_queues_and_delivers_at_once(store: MemoryStore, deliverer: Deliverer) -> None:
    report = deliverer.send_test("unit", NOW)
    assert report.delivered == [f"test|unit|{NOW.isoformat()}"]
    assert [names[0] for names in store.saves] == [
        "ChatMessage.Queued",
        "ChatMessage.AttemptRecorded",
    ]
