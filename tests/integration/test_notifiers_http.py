"""The real notifiers over real HTTP against the local fake platforms."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from notifiers import (
    DINGTALK_THROTTLE_S,
    DingTalkNotifier,
    FeishuMention,
    FeishuNotifier,
    OutgoingMessage,
    WeComNotifier,
)
from tests.fakes.platforms import FakeClock, FakePlatforms

SECRET = "SEC0123456789abcdef0123456789abcdef"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake(clock: FakeClock) -> Iterator[FakePlatforms]:
    with FakePlatforms(clock=clock) as server:
        yield server


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5.0) as client:
        yield client


def _digest(**kw: object) -> OutgoingMessage:
    fields: dict[str, object] = {
        "title": "改革任务督办提醒｜县发改局群｜2024-06-01",
        "markdown": "#### 催办（1项）\n- **2024-07** 深化营商环境改革｜逾期3个工作日",
    }
    fields.update(kw)
    return OutgoingMessage(**fields)  # type: ignore[arg-type]


# -- accepted ----------------------------------------------------------------------------------


def test_wecom_digest_and_mention_message_are_both_accepted(
    fake: FakePlatforms, client: httpx.Client
) -> None:
    url = fake.add_wecom()
    notifier = WeComNotifier(url, client=client, allowed_hosts=[fake.host])
    answer = notifier.send(_digest(mention_mobiles=("13800000001", "13800000002")))
    assert (answer.ok, answer.kind, answer.code, answer.http_status) == (True, "ok", 0, 200)
    digest, mention = fake.messages("wecom")
    assert digest.msgtype == "markdown"
    assert "深化营商环境改革" in digest.text
    assert mention.msgtype == "text"
    assert mention.mobiles == ["13800000001", "13800000002"]


def test_dingtalk_signed_message_with_keyword_and_mentions_is_accepted(
    fake: FakePlatforms, client: httpx.Client, clock: FakeClock
) -> None:
    url = fake.add_dingtalk(secret=SECRET, keyword="督办")
    notifier = DingTalkNotifier(
        url, secret=SECRET, keyword="督办", client=client, clock=clock, allowed_hosts=[fake.host]
    )
    answer = notifier.send(_digest(mention_mobiles=("13800000001",)))
    assert answer.ok, answer
    (message,) = fake.messages("dingtalk")
    assert message.mobiles == ["13800000001"]  # at.atMobiles
    assert "@13800000001" in message.text  # and the token in the markdown text
    assert message.query["sign"]  # signed, and the fake's own HMAC agreed


def test_feishu_signed_post_with_at_tags_is_accepted(
    fake: FakePlatforms, client: httpx.Client, clock: FakeClock
) -> None:
    url = fake.add_feishu(secret=SECRET, keyword="督办")
    notifier = FeishuNotifier(
        url, secret=SECRET, keyword="督办", client=client, clock=clock, allowed_hosts=[fake.host]
    )
    answer = notifier.send(_digest(feishu_mentions=(FeishuMention("ou_abc", "张三"),)))
    assert answer.ok, answer
    (message,) = fake.messages("feishu")
    assert message.msgtype == "post"
    assert message.title is not None
    assert "督办" in message.title
    assert message.at_tags == [{"tag": "at", "user_id": "ou_abc", "user_name": "张三"}]


def test_every_part_of_a_long_digest_is_accepted(fake: FakePlatforms, client: httpx.Client) -> None:
    long = "\n".join(f"- **2024-{i:03d}** 深化“放管服”改革，推进“一件事一次办”" for i in range(400))
    for add, cls in (
        (fake.add_wecom, WeComNotifier),
        (fake.add_dingtalk, DingTalkNotifier),
        (fake.add_feishu, FeishuNotifier),
    ):
        notifier = cls(add(), client=client, allowed_hosts=[fake.host])
        parts = notifier.parts(_digest(markdown=long))
        assert len(parts) > 1
        assert all(notifier.send(part).ok for part in parts)
        (platform,) = {m.platform for m in fake.accepted[-len(parts) :]}
        assert platform == notifier.platform


# -- config ------------------------------------------------------------------------------------


def test_dingtalk_wrong_secret_is_a_config_error(
    fake: FakePlatforms, client: httpx.Client, clock: FakeClock
) -> None:
    url = fake.add_dingtalk(secret=SECRET)
    notifier = DingTalkNotifier(
        url, secret="SECwrong", client=client, clock=clock, allowed_hosts=[fake.host]
    )
    answer = notifier.send(_digest())
    assert (answer.ok, answer.kind, answer.code, answer.detail) == (
        False,
        "config",
        310000,
        "sign not match",
    )
    assert fake.accepted == []


def test_dingtalk_clock_skew_is_a_config_error(
    fake: FakePlatforms, client: httpx.Client, clock: FakeClock
) -> None:
    url = fake.add_dingtalk(secret=SECRET)
    skewed = FakeClock(clock() - 2 * 3600)
    notifier = DingTalkNotifier(
        url, secret=SECRET, client=client, clock=skewed, allowed_hosts=[fake.host]
    )
    answer = notifier.send(_digest())
    assert (answer.kind, answer.code, answer.detail) == ("config", 310000, "invalid timestamp")


def test_dingtalk_missing_keyword_is_a_config_error(
    fake: FakePlatforms, client: httpx.Client
) -> None:
    url = fake.add_dingtalk(keyword="改革办")
    notifier = DingTalkNotifier(url, client=client, allowed_hosts=[fake.host])  # keyword unset
    answer = notifier.send(_digest())
    assert (answer.kind, answer.code, answer.detail) == (
        "config",
        310000,
        "keywords not in content",
    )


def test_feishu_wrong_secret_and_missing_keyword_are_config_errors(
    fake: FakePlatforms, client: httpx.Client, clock: FakeClock
) -> None:
    signed = fake.add_feishu(secret=SECRET)
    bad_sign = FeishuNotifier(
        signed, secret="wrong", client=client, clock=clock, allowed_hosts=[fake.host]
    )
    assert (bad_sign.send(_digest()).kind, bad_sign.send(_digest()).code) == ("config", 19021)
    keyed = fake.add_feishu(keyword="改革办")
    no_keyword = FeishuNotifier(keyed, client=client, allowed_hosts=[fake.host])
    answer = no_keyword.send(_digest())
    assert (answer.kind, answer.code) == ("config", 19024)


@pytest.mark.parametrize(
    ("platform", "code"), [("wecom", 93000), ("dingtalk", 300001), ("feishu", 19001)]
)
def test_an_unknown_key_is_a_config_error(
    fake: FakePlatforms, client: httpx.Client, platform: str, code: int
) -> None:
    paths = {
        "wecom": (WeComNotifier, "/cgi-bin/webhook/send?key=nosuchkey"),
        "dingtalk": (DingTalkNotifier, "/robot/send?access_token=nosuchtoken"),
        "feishu": (FeishuNotifier, "/open-apis/bot/v2/hook/nosuchhook"),
    }
    cls, path = paths[platform]
    answer = cls(fake.base_url + path, client=client, allowed_hosts=[fake.host]).send(_digest())
    assert (answer.ok, answer.kind, answer.code) == (False, "config", code)
    assert "nosuch" not in answer.detail


# -- content -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "add", "code"),
    [
        (WeComNotifier, "add_wecom", 40058),
        (DingTalkNotifier, "add_dingtalk", 460101),
        (FeishuNotifier, "add_feishu", 9499),
    ],
)
def test_a_message_over_the_size_limit_is_a_content_error(
    fake: FakePlatforms, client: httpx.Client, cls: type[WeComNotifier], add: str, code: int
) -> None:
    notifier = cls(getattr(fake, add)(), client=client, allowed_hosts=[fake.host])
    answer = notifier.send(_digest(markdown="督" * 8000))  # 24000 bytes, sent unsplit
    assert (answer.ok, answer.kind, answer.code) == (False, "content", code)
    assert fake.accepted == []


def test_wecom_counts_bytes_not_characters(fake: FakePlatforms, client: httpx.Client) -> None:
    notifier = WeComNotifier(fake.add_wecom(), client=client, allowed_hosts=[fake.host])
    # 1400 characters, 4200 bytes: refused although well under 4096 characters.
    assert notifier.send(_digest(markdown="督" * 1400)).code == 40058
    assert all(notifier.send(part).ok for part in notifier.parts(_digest(markdown="督" * 1400)))


# -- retry later -------------------------------------------------------------------------------


def test_wecom_rate_limit_is_retry_later(fake: FakePlatforms, client: httpx.Client) -> None:
    notifier = WeComNotifier(fake.add_wecom(), client=client, allowed_hosts=[fake.host])
    answers = [notifier.send(_digest()) for _ in range(21)]
    assert all(a.ok for a in answers[:20])
    assert (answers[20].kind, answers[20].code, answers[20].retry_after_s) == (
        "retry_later",
        45009,
        60.0,
    )
    assert len(fake.messages("wecom")) == 20


def test_dingtalk_throttle_blocks_the_robot_for_ten_minutes(
    fake: FakePlatforms, client: httpx.Client, clock: FakeClock
) -> None:
    notifier = DingTalkNotifier(fake.add_dingtalk(), client=client, allowed_hosts=[fake.host])
    for _ in range(20):
        assert notifier.send(_digest()).ok
    refused = notifier.send(_digest())
    assert (refused.kind, refused.code, refused.retry_after_s) == (
        "retry_later",
        130101,
        DINGTALK_THROTTLE_S,
    )
    clock.advance(61)  # the minute is over, but the block is not
    assert notifier.send(_digest()).code == 130101
    clock.advance(600)
    assert notifier.send(_digest()).ok


def test_feishu_five_a_second_is_retry_later(
    fake: FakePlatforms, client: httpx.Client, clock: FakeClock
) -> None:
    notifier = FeishuNotifier(fake.add_feishu(), client=client, allowed_hosts=[fake.host])
    answers = [notifier.send(_digest()) for _ in range(6)]
    assert [a.ok for a in answers] == [True] * 5 + [False]
    assert (answers[5].kind, answers[5].code) == ("retry_later", 11232)
    clock.advance(1.0)
    assert notifier.send(_digest()).ok


def test_a_502_is_retry_later(fake: FakePlatforms, client: httpx.Client) -> None:
    notifier = DingTalkNotifier(fake.add_dingtalk(), client=client, allowed_hosts=[fake.host])
    fake.fail_next(status=502)
    answer = notifier.send(_digest())
    assert (answer.ok, answer.kind, answer.http_status, answer.code) == (
        False,
        "retry_later",
        502,
        None,
    )
    assert notifier.send(_digest()).ok  # only the next request failed


def test_a_malformed_answer_is_retry_later_not_success(
    fake: FakePlatforms, client: httpx.Client
) -> None:
    notifier = FeishuNotifier(fake.add_feishu(), client=client, allowed_hosts=[fake.host])
    fake.malformed_next()
    answer = notifier.send(_digest())
    assert (answer.ok, answer.kind, answer.http_status) == (False, "retry_later", 200)


def test_an_injected_throttle_code_is_retry_later(
    fake: FakePlatforms, client: httpx.Client
) -> None:
    notifier = FeishuNotifier(fake.add_feishu(), client=client, allowed_hosts=[fake.host])
    fake.answer_next(9499, "server overload")
    assert notifier.send(_digest()).kind == "retry_later"
    fake.answer_next(9499, "Bad Request")
    assert notifier.send(_digest()).kind == "content"


def test_a_hanging_platform_is_retry_later_after_the_client_timeout(fake: FakePlatforms) -> None:
    url = fake.add_wecom()
    fake.hang_next(seconds=5.0)
    with httpx.Client(timeout=0.2) as impatient:
        answer = WeComNotifier(url, client=impatient, allowed_hosts=[fake.host]).send(_digest())
    assert (answer.ok, answer.kind, answer.http_status) == (False, "retry_later", None)
    assert "Timeout" in answer.detail
    assert url.split("key=")[1] not in answer.detail


def test_a_refused_connection_is_retry_later(client: httpx.Client) -> None:
    with FakePlatforms() as gone:
        url, host = gone.add_dingtalk(), gone.host
    answer = DingTalkNotifier(url, client=client, allowed_hosts=[host]).send(_digest())
    assert (answer.ok, answer.kind) == (False, "retry_later")


def test_wecom_mention_throttled_after_the_digest_leaves_only_the_mention(
    fake: FakePlatforms, client: httpx.Client
) -> None:
    notifier = WeComNotifier(fake.add_wecom(), client=client, allowed_hosts=[fake.host])
    for _ in range(19):
        notifier.send(_digest())
    answer = notifier.send(_digest(mention_mobiles=("13800000001",)))  # the 21st request
    assert (answer.kind, answer.code) == ("retry_later", 45009)
    assert answer.remainder is not None
    assert answer.remainder.markdown == ""
    assert len(fake.messages("wecom")) == 20  # the digest went through
