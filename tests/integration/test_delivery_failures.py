"""Delivery when the platforms misbehave: outages recovered from without duplicates, config
errors recorded as Failed with the office told, WeCom's half-delivered mention, and several
robots sharing one chat's load. Real HTTP against the fake platforms, simulated time."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from structlog.testing import capture_logs

from domain.reminder import ChatMessage
from duban.app.services import Services
from notifiers.split import strip_numbering
from projections.outbox import open_outbox
from tests.fakes.platforms import Accepted, FakeClock, FakePlatforms
from tests.integration.test_delivery_flow import (
    KEYWORD,
    LIAISONS,
    PLATFORMS,
    SECRET,
    START,
    channel,
    county_config,
    digest_lines,
    message_state,
    queue_digest,
    robot_url,
    services_for,
)
from tests.support.delivery import deliver_until_quiet

THROTTLES = {"wecom": 45009, "dingtalk": 130101, "feishu": 11232}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START.timestamp())


@pytest.fixture
def fake(clock: FakeClock) -> Iterator[FakePlatforms]:
    with FakePlatforms(clock=clock) as server:
        yield server


def events(services: Services, key: str, kind: str) -> list[Any]:
    found = services.ledger.events.get(ChatMessage.create_id(key))
    return [e for e in found if type(e).__qualname__ == f"ChatMessage.{kind}"]


def digest_bodies(accepted: list[Accepted]) -> list[str]:
    """Accepted digest parts, as the text the chat shows (mention-only WeCom texts left out)."""
    return [m.text for m in accepted if not (m.platform == "wecom" and m.msgtype == "text")]


# ---- 2a. an outage, then recovery: everything once ------------------------------------------


@pytest.mark.parametrize("platform", PLATFORMS)
def test_after_502s_timeouts_throttling_and_garbage_everything_arrives_exactly_once(
    platform: str, sqlite_url: str, clock: FakeClock, fake: FakePlatforms
) -> None:
    hook = robot_url(fake, platform)
    raw = county_config(sqlite_url, fake, channel("fgj", platform, [hook]), timeout_s=1.0)
    services = services_for(raw, clock)
    key = queue_digest(services, "fgj", digest_lines(900), platform)
    fake.fail_next(times=2, status=502)
    # Held past the client's 1 s timeout and, by the fake, until it stops (after the checks):
    # a platform that never finished the request. One that finished it after our timeout is
    # the in-flight case of tests/e2e/test_delivery_crash.py: at most that part twice.
    fake.hang_next(seconds=600)
    fake.answer_next(THROTTLES[platform], "throttled")
    fake.malformed_next()
    fake.fail_next(times=1, status=503)

    deliver_until_quiet(services, clock)

    message = message_state(services, key)
    assert message.status == "delivered"
    attempts = events(services, key, "AttemptRecorded")
    failed = [e.answer for e in attempts if not e.answer["ok"]]
    assert [a["kind"] for a in failed] == ["retry_later"] * 6
    assert [a["http_status"] for a in failed] == [502, 502, None, 200, 200, 503]
    # Each part exactly once, in order, and the parts together are the whole digest.
    bodies = digest_bodies(fake.messages(platform))
    assert len(bodies) == len(set(bodies)) == message.parts_sent
    assert all("".join(bodies).count(f"2024-{i:03d}") == 1 for i in range(900))
    assert open_outbox(services.ledger).pending() == []


def test_retries_back_off_exponentially_with_jitter_and_wait_out_a_throttle(
    sqlite_url: str, clock: FakeClock, fake: FakePlatforms
) -> None:
    raw = county_config(sqlite_url, fake, channel("fgj", "dingtalk", [robot_url(fake, "dingtalk")]))
    services = services_for(raw, clock)
    key = queue_digest(services, "fgj", digest_lines(5), "dingtalk")
    fake.fail_next(times=3)
    fake.answer_next(130101, "send too fast")

    deliver_until_quiet(services, clock)

    attempts = events(services, key, "AttemptRecorded")
    waits = [(e.next_attempt_at - e.at).total_seconds() for e in attempts if not e.answer["ok"]]
    assert 15 <= waits[0] <= 30  # base 30 s, jittered down to half at most
    assert 30 <= waits[1] <= 60
    assert 60 <= waits[2] <= 120
    assert waits[3] >= 600  # DingTalk's ten-minute block, not our backoff
    assert message_state(services, key).status == "delivered"
    assert len(fake.accepted) == 1


# ---- 2b. permanent configuration errors: Failed, and the office told ------------------------


def _misconfigured(fake: FakePlatforms, platform: str) -> dict[str, Any]:
    if platform == "wecom":  # a key the platform does not know (93000)
        good = fake.add_wecom()
        return channel(
            "fgj", "wecom", [good.rsplit("=", 1)[0] + "=0badbadbadbadbadbadbadbadbadbad0"]
        )
    if platform == "dingtalk":  # the wrong signing secret (310000 sign not match)
        url = fake.add_dingtalk(secret=SECRET, keyword=KEYWORD)
        return channel("fgj", "dingtalk", [url], secret="SECnotthesecretthebotwasgiven0000")
    # a bot whose keyword the messages do not carry (19024)
    url = fake.add_feishu(secret=SECRET, keyword="改革办通知")
    return channel("fgj", "feishu", [url])


@pytest.mark.parametrize(
    ("platform", "code"), [("wecom", 93000), ("dingtalk", 310000), ("feishu", 19024)]
)
def test_a_configuration_error_fails_the_message_at_once_and_the_office_chat_is_told(
    platform: str, code: int, sqlite_url: str, clock: FakeClock, fake: FakePlatforms
) -> None:
    office_url = fake.add_wecom()
    office = channel("office", "wecom", [office_url])
    raw = county_config(sqlite_url, fake, _misconfigured(fake, platform), office)
    services = services_for(raw, clock)
    key = queue_digest(services, "fgj", digest_lines(3), platform)

    with capture_logs() as logs:
        deliver_until_quiet(services, clock)

    message = message_state(services, key)
    assert message.status == "failed"
    (attempt,) = events(services, key, "AttemptRecorded")  # never retried
    assert attempt.answer["kind"] == "config"
    assert attempt.answer["code"] == code
    (failed,) = events(services, key, "Failed")
    assert str(code) in failed.reason
    office_key = fake.messages("wecom", office_url.rsplit("=", 1)[1])
    (notice,) = office_key
    assert "fgj" in notice.text
    assert "2024-001" in notice.text
    assert str(code) in notice.text
    assert message_state(services, f"failure|{key}").status == "delivered"
    assert any(e["event"] == "delivery.failed" and e["office_told"] for e in logs)


def test_when_the_office_chat_itself_fails_an_error_is_logged_and_nothing_loops(
    sqlite_url: str, clock: FakeClock, fake: FakePlatforms
) -> None:
    office = _misconfigured(fake, "wecom") | {"name": "office"}
    unit = channel("fgj", "wecom", [fake.add_wecom()])
    raw = county_config(sqlite_url, fake, unit, office)
    services = services_for(raw, clock)
    key = queue_digest(services, "office", digest_lines(3), "wecom")

    with capture_logs() as logs:
        deliver_until_quiet(services, clock)

    assert message_state(services, key).status == "failed"
    errors = [e for e in logs if e["log_level"] == "error"]
    assert [e["event"] for e in errors] == ["delivery.failed"]
    assert errors[0]["office_told"] is False
    assert len(fake.answered) == 1


def test_after_max_attempts_of_outage_the_message_fails_and_the_office_is_told(
    sqlite_url: str, clock: FakeClock, fake: FakePlatforms
) -> None:
    office_url = fake.add_wecom()
    unit = channel("fgj", "dingtalk", [robot_url(fake, "dingtalk")])
    raw = county_config(
        sqlite_url, fake, unit, channel("office", "wecom", [office_url]), max_attempts=3
    )
    services = services_for(raw, clock)
    key = queue_digest(services, "fgj", digest_lines(3), "dingtalk")
    fake.fail_next(times=3, status=502)

    deliver_until_quiet(services, clock)

    assert message_state(services, key).status == "failed"
    assert len(events(services, key, "AttemptRecorded")) == 3
    (notice,) = fake.messages("wecom")
    assert "多次重试仍未送达" in notice.text
    assert "状态码 502" in notice.text
    assert "发往县发展和改革局群的消息" in notice.text  # the unit's name, not the code ``fgj``
    assert "消息投递失败｜县发展和改革局" in notice.text


# ---- 5. mentions that notify ----------------------------------------------------------------


def test_dingtalk_markdown_mentions_carry_the_mobile_tokens_in_the_text(
    sqlite_url: str, clock: FakeClock, fake: FakePlatforms
) -> None:
    raw = county_config(sqlite_url, fake, channel("fgj", "dingtalk", [robot_url(fake, "dingtalk")]))
    services = services_for(raw, clock)
    queue_digest(services, "fgj", digest_lines(600), "dingtalk")

    deliver_until_quiet(services, clock)

    *earlier, last = fake.messages("dingtalk")
    assert earlier  # a digest in several parts: the mentions ride on the last one
    assert last.msgtype == "markdown"
    assert last.mobiles == list(LIAISONS)
    assert all(f"@{mobile}" in last.text for mobile in LIAISONS)
    assert all(m.mobiles == [] for m in earlier)


def test_wecom_mentions_go_in_a_text_message_with_mentioned_mobile_list(
    sqlite_url: str, clock: FakeClock, fake: FakePlatforms
) -> None:
    raw = county_config(sqlite_url, fake, channel("fgj", "wecom", [robot_url(fake, "wecom")]))
    services = services_for(raw, clock)
    queue_digest(services, "fgj", digest_lines(100), "wecom")

    deliver_until_quiet(services, clock)

    *digest, mention = fake.messages("wecom")
    assert {m.msgtype for m in digest} == {"markdown"}
    assert mention.msgtype == "text"
    assert mention.mobiles == list(LIAISONS)


class _MentionRefusedOnce(FakePlatforms):
    """WeCom that takes the digest and throttles the @-mention text that follows, once."""

    refuse_mention = True

    def handle(self, path: str, raw: bytes) -> Any:
        if self.refuse_mention and b'"msgtype":"text"' in raw:
            self.refuse_mention = False
            self.answer_next(45009, "api freq out of limit")
        return super().handle(path, raw)


def test_a_refused_wecom_mention_is_retried_alone_without_reposting_the_digest(
    sqlite_url: str, clock: FakeClock
) -> None:
    with _MentionRefusedOnce(clock=clock) as fake:
        raw = county_config(sqlite_url, fake, channel("fgj", "wecom", [fake.add_wecom()]))
        services = services_for(raw, clock)
        key = queue_digest(services, "fgj", digest_lines(10), "wecom")

        deliver_until_quiet(services, clock)

        assert [m.msgtype for m in fake.messages("wecom")] == ["markdown", "text"]
        first, retry = events(services, key, "AttemptRecorded")
        assert first.answer["remainder"] == "mentions"
        assert retry.answer["ok"]
        assert message_state(services, key).status == "delivered"


# ---- several robots for one chat ------------------------------------------------------------


def test_several_robots_of_one_chat_share_the_load_round_robin(
    sqlite_url: str, clock: FakeClock, fake: FakePlatforms
) -> None:
    hooks = [fake.add_wecom() for _ in range(3)]
    raw = county_config(sqlite_url, fake, channel("fgj", "wecom", hooks))
    services = services_for(raw, clock)
    key = queue_digest(services, "fgj", digest_lines(1500), "wecom")

    deliver_until_quiet(services, clock)

    # Each digest part to the next robot (the @-mention text follows its part on the same one).
    per_robot = Counter(m.robot for m in fake.messages("wecom") if m.msgtype == "markdown")
    assert len(per_robot) == 3
    assert max(per_robot.values()) - min(per_robot.values()) <= 1
    assert {a.code for a in fake.answered} == {0}
    assert message_state(services, key).status == "delivered"
    # Fifty-odd messages through three robots in one pass: no minute-long wait needed.
    assert clock() - START.timestamp() < 60
    bodies = [strip_numbering(b) for b in digest_bodies(fake.messages("wecom"))]
    assert len(bodies) == len(set(bodies))
