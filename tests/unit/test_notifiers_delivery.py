"""The delivery loop through its ports alone: an outbox and a recorder kept in memory, the
console robot, no ledger and no config. What the loop asks of the store is what they record."""

from __future__ import annotations

import dataclasses
import datetime as dt
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.calendar import WorkingCalendar
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


SETTINGS = DeliverySettings(
    office_channel="office",
    channel=CHANNELS.get,
    max_attempts=3,
    backoff_base_s=30.0,
    backoff_max_s=3600.0,
    timeout_s=1.0,
)
CALENDAR = WorkingCalendar()  # 09:00-18:00 Asia/Shanghai on chinesecalendar's working days
OFFICE_HOURS = dataclasses.replace(SETTINGS, sendable_from=CALENDAR.next_working_time)
SHANGHAI = CALENDAR.tz


@pytest.fixture
def deliverer(store: MemoryStore, tmp_path: Path) -> Iterator[Deliverer]:
    limiter = RateLimiter.sqlite(tmp_path / "limits.db")
    with Deliverer(store, store, limiter, SETTINGS, clock=NOW.timestamp) as found:
        yield found


@pytest.fixture
def office_hours(store: MemoryStore, tmp_path: Path) -> Iterator[Deliverer]:
    """A deliverer on the office calendar: it sends in working time only."""
    limiter = RateLimiter.sqlite(tmp_path / "limits.db")
    with Deliverer(store, store, limiter, OFFICE_HOURS, clock=NOW.timestamp) as found:
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


def _local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("held_at", "sent_at"),
    [
        (_local(2024, 6, 3, 18, 0), _local(2024, 6, 4, 9, 0)),  # Monday evening → Tuesday
        (_local(2024, 6, 4, 8, 59), _local(2024, 6, 4, 9, 0)),  # before hours → the same day
        (_local(2024, 6, 8, 10, 0), _local(2024, 6, 11, 9, 0)),  # Saturday; Monday 端午节
        (_local(2024, 9, 13, 19, 0), _local(2024, 9, 14, 9, 0)),  # → the 调休 Saturday
    ],
)
def test_outside_working_time_nothing_is_sent_or_recorded_until_the_next_working_period(
    store: MemoryStore,
    office_hours: Deliverer,
    capsys: pytest.CaptureFixture[str],
    held_at: dt.datetime,
    sent_at: dt.datetime,
) -> None:
    queued(store, "unit")  # queued at NOW (2024-06-03 18:00 in Shanghai), due since
    saves = len(store.saves)

    held = office_hours.run_once(held_at)
    assert (held.due, held.held, held.delivered, held.attempts) == (1, ["digest-1"], [], [])
    assert held.next_at == sent_at.timestamp()
    assert "非工作时间，暂缓发送 1 条" in held.summary()
    assert f"下次可发送 {sent_at:%Y-%m-%d %H:%M:%S}" in held.summary()
    assert len(store.saves) == saves  # nothing recorded
    assert "第1项改革任务" not in capsys.readouterr().out  # nothing sent

    sent = office_hours.run_once(sent_at)
    assert (sent.held, sent.delivered) == ([], ["digest-1"])
    assert "第1项改革任务" in capsys.readouterr().out


def test_a_retry_due_after_hours_is_reported_for_the_next_working_period(
    store: MemoryStore, office_hours: Deliverer
) -> None:
    message = queued(store, "unit")
    retry_at = _local(2024, 6, 7, 17, 59)  # Friday, a minute before the end of hours
    store.attempt(message, 0, {"ok": False}, retry_at + dt.timedelta(minutes=5), NOW)
    report = office_hours.run_once(retry_at)
    assert report.due == 0
    assert report.next_at == _local(2024, 6, 11, 9, 0).timestamp()  # Monday 06-10 is 端午节


def test_notify_test_is_an_operator_action_sent_at_once_whatever_the_hour(
    store: MemoryStore, office_hours: Deliverer
) -> None:
    night = _local(2024, 10, 1, 23, 0)  # National Day, at night
    report = office_hours.send_test("unit", night)
    assert report.delivered == [f"test|unit|{night.isoformat()}"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.datetimes(min_value=dt.datetime(2024, 6, 4), max_value=dt.datetime(2025, 12, 31)).map(
        lambda naive: naive.replace(tzinfo=SHANGHAI)
    )
)
def test_a_pass_sends_exactly_when_the_calendar_says_it_is_working_time(
    moment: dt.datetime,
) -> None:
    store = MemoryStore()
    queued(store, "unit")
    with tempfile.TemporaryDirectory() as folder:
        limiter = RateLimiter.sqlite(Path(folder) / "limits.db")
        with Deliverer(store, store, limiter, OFFICE_HOURS, clock=NOW.timestamp) as deliverer:
            report = deliverer.run_once(moment)
    working = CALENDAR.is_working_time(moment)
    assert report.delivered == (["digest-1"] if working else [])
    assert report.held == ([] if working else ["digest-1"])
    if not working:
        assert report.next_at == CALENDAR.next_working_time(moment).timestamp()
        assert len(store.saves) == 1  # the queueing only
