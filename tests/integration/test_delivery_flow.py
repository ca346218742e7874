"""Delivery proven in the ledger, against the fake WeCom / DingTalk / Feishu over real HTTP.

One fake clock drives the fake platforms, the rate limiter and the deliverer, so rate-limit
waits and retry backoffs are simulated by moving the clock, never slept. The client's timeout
is generous (a loaded machine never turns a slow answer into a timeout); the one test of a
timeout holds its request, unanswered, until the test releases it.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from domain.reminder import ChatMessage
from domain.roles import Identity
from duban.app import commands as cmd
from duban.app.delivery_adapters import deliver_due
from duban.app.notices import queue_notices
from duban.app.services import Services, open_ledger
from duban.app.sweep import sweep
from duban.settings.config import parse_config
from notifiers.limits import BODY_LIMITS, split_for_platform
from notifiers.split import utf8_len
from projections import runner
from projections.outbox import open_outbox
from tests.conftest import TZ
from tests.fakes.platforms import Accepted, FakeClock, FakePlatforms, _Reply
from tests.support.delivery import deliver_until_quiet

OFFICE = Identity("office", "改革办")
UNIT = "县发展和改革局"
LIAISONS = ("13800000001", "13800000002")
# Monday 2024-06-03 10:00 in Shanghai: a working hour, the day before the tasks' deadline.
START = dt.datetime(2024, 6, 3, 10, 0, tzinfo=TZ)
DEADLINE = dt.date(2024, 6, 4)
SECRET = "SECa1b2c3d4e5f60718293a4b5c6d7e8f9"
KEYWORD = "督办"
PLATFORMS = ("wecom", "dingtalk", "feishu")
CLIENT_TIMEOUT_S = 30.0  # never reached by an answer, however loaded the machine


# ---- the county: one unit's chat on a fake robot, the office on another (or the console) ---


def robot_url(fake: FakePlatforms, platform: str, *, secret: str | None = SECRET) -> str:
    if platform == "wecom":
        return fake.add_wecom()
    if platform == "dingtalk":
        return fake.add_dingtalk(secret=secret, keyword=KEYWORD)
    return fake.add_feishu(secret=secret, keyword=KEYWORD)


def channel(name: str, platform: str, hooks: list[str], **extra: Any) -> dict[str, Any]:
    found: dict[str, Any] = {"name": name, "platform": platform, "webhook": hooks[0]}
    if hooks[1:]:
        found["extra_webhooks"] = hooks[1:]
    if platform != "wecom":
        found |= {"secret": SECRET, "keyword": KEYWORD}
    return found | extra


def county_config(
    store_url: str,
    fake: FakePlatforms,
    unit_channel: dict[str, Any],
    office_channel: dict[str, Any] | None = None,
    **delivery: Any,
) -> dict[str, Any]:
    office = office_channel or {"name": "office", "platform": "console"}
    return {
        "store": store_url,
        "allowed_webhook_hosts": [fake.host],
        "channels": [unit_channel, office, {"name": "leaders", "platform": "console"}],
        "office": {"channel": office["name"], "leaders_channel": "leaders"},
        "units": [
            {
                "name": UNIT,
                "channel": unit_channel["name"],
                "liaisons": [
                    {"name": "张伟", "mobile": LIAISONS[0]},
                    {"name": "李娜", "mobile": LIAISONS[1]},
                ],
            }
        ],
        "delivery": {
            "max_attempts": 8,
            "backoff_base_s": 30,
            "timeout_s": CLIENT_TIMEOUT_S,
            **delivery,
        },
    }


def services_for(raw: dict[str, Any], clock: FakeClock) -> Services:
    config = parse_config(raw)
    ledger = open_ledger(config.store, lambda: dt.datetime.fromtimestamp(clock(), TZ))
    return Services(config=config, ledger=ledger)


def assign_tasks(services: Services, count: int) -> None:
    """`count` tasks of one unit, all due tomorrow, imported in one transaction."""
    rows = [
        cmd.AssignTask(
            code=f"2024-{i:03d}",
            title=f"深化第{i}项改革：推进政务服务“一网通办”和营商环境优化",
            lead_unit=UNIT,
            deadline=DEADLINE,
            deadline_text=DEADLINE.isoformat(),
        )
        for i in range(1, count + 1)
    ]
    services.ledger.import_tasks(rows, OFFICE)


def queue_digest(services: Services, channel_name: str, text: str, platform: str) -> str:
    """One digest queued straight into the outbox (what the sweep writes), split for `platform`."""
    now = services.ledger.clock()
    title = f"改革任务督办提醒｜{channel_name}"
    parts = split_for_platform(platform, text, title, LIAISONS)
    key = f"{channel_name}|{now:%Y%m%dT%H%M%S}|{len(text)}"
    message = ChatMessage(
        message_key=key,
        channel=channel_name,
        kind="digest",
        title=title,
        parts=list(parts),
        mention_mobiles=list(LIAISONS),
        reminder_keys=[],
        task_codes=["2024-001", "2024-002"],
        actor="test",
        at=now,
    )
    services.ledger.save(message)
    return key


def digest_lines(count: int) -> str:
    return "".join(
        f"- **2024-{i:03d}** 第{i}项改革任务｜逾期{i % 9}个工作日\n" for i in range(count)
    )


def message_state(services: Services, key: str) -> ChatMessage:
    message: ChatMessage = services.ledger.repository.get(ChatMessage.create_id(key))
    return message


def outbox_messages(services: Services) -> list[ChatMessage]:
    """Every ChatMessage ever queued, read from the events (tests may scan, the deliverer not)."""
    recorder = services.ledger.recorder
    topic = "domain.reminder:ChatMessage.Queued"
    found = recorder.select_notifications(0, 10_000, topics=[topic])
    return [
        message_state(services, services.ledger.mapper.to_domain_event(n).message_key)
        for n in found
    ]


def body_text(message: Accepted) -> str:
    return message.text


def wire_size(message: Accepted) -> int:
    """Bytes of a message as its platform counts them against its limit."""
    if message.platform == "wecom":
        return utf8_len(message.text)
    return len(json.dumps(message.body, ensure_ascii=False, separators=(",", ":")).encode())


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START.timestamp())


@pytest.fixture
def fake(clock: FakeClock) -> Iterator[FakePlatforms]:
    with FakePlatforms(clock=clock) as server:
        yield server


# ---- 1. five hundred reminders at once ---------------------------------------------------------


@pytest.mark.parametrize("platform", PLATFORMS)
def test_five_hundred_reminders_for_one_unit_all_arrive_in_the_fewest_messages_without_throttling(
    platform: str, sqlite_url: str, clock: FakeClock, fake: FakePlatforms
) -> None:
    raw = county_config(sqlite_url, fake, channel("fgj", platform, [robot_url(fake, platform)]))
    services = services_for(raw, clock)
    assign_tasks(services, 500)
    queue_notices(services, START)  # the 交办通知 listing the 500 goes first, on its own
    deliver_until_quiet(services, clock)
    told, answered = len(fake.messages(platform)), len(fake.answered)

    issued = sweep(services, START)
    assert issued.issued == 500
    (planned,) = [m for m in issued.messages if m.channel == "fgj"]

    reports = deliver_until_quiet(services, clock)

    received = fake.messages(platform)[told:]
    digests = [m for m in received if m.msgtype != "text" or platform != "wecom"]
    print(
        f"\n{platform}: 500 reminders → {len(received)} messages "
        f"({len(digests)} digest parts), {len(reports)} delivery passes, "
        f"{clock() - START.timestamp():.0f} simulated seconds"
    )
    assert [a.code for a in fake.answered] == [0] * len(fake.answered)
    assert len(fake.answered) - answered == len(received)
    # Every task code arrived, exactly once, in order.
    text = "\n".join(body_text(m) for m in digests)
    codes = [f"2024-{i:03d}" for i in range(1, 501)]
    assert all(text.count(f"{code}") == 1 for code in codes)
    # The fewest messages: every part but the last is filled to within one line of the
    # platform's limit (greedy packing of ordered lines gives the fewest parts).
    sizes = [wire_size(m) for m in digests]
    assert all(BODY_LIMITS[platform] - 600 < size <= BODY_LIMITS[platform] for size in sizes[:-1])
    if platform == "wecom":  # the @-mention text after the digest
        assert [m.msgtype for m in received][-1] == "text"
        assert len(received) == len(digests) + 1
    message = message_state(services, planned.message_key)
    assert message.status == "delivered"
    assert open_outbox(services.ledger).pending() == []


# ---- PostgreSQL: the basic path once -----------------------------------------------------------


@pytest.mark.postgres
def test_a_digest_is_delivered_and_recorded_on_postgresql(
    pg_url: str, clock: FakeClock, fake: FakePlatforms
) -> None:
    raw = county_config(pg_url, fake, channel("fgj", "dingtalk", [robot_url(fake, "dingtalk")]))
    services = services_for(raw, clock)
    key = queue_digest(services, "fgj", digest_lines(600), "dingtalk")

    deliver_until_quiet(services, clock)

    message = message_state(services, key)
    assert message.status == "delivered"
    assert message.parts_sent == len(fake.accepted) == len(message.parts) > 1
    assert open_outbox(services.ledger).pending() == []


# ---- the outbox index ----------------------------------------------------------------------


def test_the_outbox_index_keeps_only_the_backlog_and_rebuilds_to_the_same_rows(
    sqlite_url: str, clock: FakeClock, fake: FakePlatforms
) -> None:
    raw = county_config(sqlite_url, fake, channel("fgj", "wecom", [robot_url(fake, "wecom")]))
    services = services_for(raw, clock)
    delivered = queue_digest(services, "fgj", digest_lines(3), "wecom")
    deliver_until_quiet(services, clock)
    fake.fail_next(times=1)
    clock.advance(1)
    retrying = queue_digest(services, "fgj", digest_lines(4), "wecom")
    deliver_due(services, dt.datetime.fromtimestamp(clock(), TZ), clock=clock)

    outbox = open_outbox(services.ledger)
    outbox.catch_up(services.ledger)
    before = outbox.pending()
    runner.rebuild(services.ledger, outbox.projection)

    assert outbox.pending() == before
    assert [p.message_key for p in before] == [retrying]
    assert before[0].next_at > clock()  # backing off, so not due now
    assert outbox.due(dt.datetime.fromtimestamp(clock(), TZ)) == []
    assert message_state(services, delivered).status == "delivered"


# ---- a platform that never answers: the client's timeout, deterministically -------------------


class HoldingPlatforms(FakePlatforms):
    """When `hold` is set, the next request is held unanswered until the test sets `release`;
    it is then answered 502 (the platform never finished it: nothing was posted)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hold = threading.Event()
        self.held = threading.Event()
        self.release = threading.Event()

    def handle(self, path: str, raw: bytes) -> _Reply:
        if self.hold.is_set():
            self.hold.clear()
            self.held.set()
            self.release.wait(120)
            return _Reply(502, b"<html>504 Gateway Time-out</html>")
        return super().handle(path, raw)


def test_a_request_the_platform_never_answers_times_out_and_the_retry_delivers_it_once(
    sqlite_url: str, clock: FakeClock
) -> None:
    with HoldingPlatforms(clock=clock) as fake:
        unit = channel("fgj", "dingtalk", [robot_url(fake, "dingtalk")])
        impatient = services_for(county_config(sqlite_url, fake, unit, timeout_s=0.2), clock)
        key = queue_digest(impatient, "fgj", digest_lines(3), "dingtalk")
        fake.hold.set()
        try:
            # The only request of this pass is held until after the pass: it can only end
            # by the client's own timeout, however long the machine takes to get there.
            deliver_due(impatient, dt.datetime.fromtimestamp(clock(), TZ), clock=clock)
            assert fake.held.is_set()
        finally:
            fake.release.set()
        waiting = message_state(impatient, key)
        assert waiting.is_pending
        assert (waiting.attempts, waiting.parts_sent) == (1, 0)
        found = impatient.ledger.events.get(ChatMessage.create_id(key))
        (attempt,) = [e for e in found if type(e).__name__ == "AttemptRecorded"]
        assert attempt.answer["http_status"] is None
        assert "Timeout" in attempt.answer["detail"]
        assert fake.accepted == []

        patient = services_for(county_config(sqlite_url, fake, unit), clock)
        deliver_until_quiet(patient, clock)

        done = message_state(patient, key)
        assert done.status == "delivered"
        assert len(fake.accepted) == done.parts_sent == 1
