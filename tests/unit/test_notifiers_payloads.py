"""The exact requests each robot sends, captured with httpx.MockTransport (no network)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from structlog.testing import capture_logs

from notifiers import (
    ConsoleNotifier,
    DingTalkNotifier,
    FeishuMention,
    FeishuNotifier,
    Notifier,
    OutgoingMessage,
    WebhookNotAllowed,
    WeComNotifier,
    notifier_for,
    sign_dingtalk,
    sign_feishu,
)
from notifiers.errors import UnknownPlatform
from notifiers.split import utf8_len

WECOM = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=wecom-key-0001"
DINGTALK = "https://oapi.dingtalk.com/robot/send?access_token=dingtalk-token-0001"
FEISHU = "https://open.feishu.cn/open-apis/bot/v2/hook/feishu-hook-0001"
SECRET = "SECabcdefghijklmnop"
CLOCK = 1_717_203_600.25


class Recorder:
    """A MockTransport that keeps every request and answers with the queued bodies (or ok)."""

    def __init__(self, *answers: tuple[int, object]) -> None:
        self.requests: list[httpx.Request] = []
        self._answers = list(answers)
        self.client = httpx.Client(transport=httpx.MockTransport(self._handle))

    def _handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        status, body = (
            self._answers.pop(0) if self._answers else (200, {"errcode": 0, "errmsg": "ok"})
        )
        if isinstance(body, bytes):
            return httpx.Response(status, content=body)
        return httpx.Response(status, json=body)

    def bodies(self) -> list[dict[str, object]]:
        return [json.loads(r.content) for r in self.requests]


def _message(**kw: object) -> OutgoingMessage:
    fields: dict[str, object] = {
        "title": "督办提醒",
        "markdown": "#### 催办（1项）\n- **2024-07** 任务",
    }
    fields.update(kw)
    return OutgoingMessage(**fields)  # type: ignore[arg-type]


# -- WeCom -------------------------------------------------------------------------------------


def test_wecom_sends_a_markdown_digest_then_a_text_mentioning_mobiles() -> None:
    rec = Recorder()
    answer = WeComNotifier(WECOM, client=rec.client).send(
        _message(mention_mobiles=("13800000001", "13800000002"))
    )
    assert answer.ok
    digest, mention = rec.bodies()
    assert digest == {
        "msgtype": "markdown",
        "markdown": {"content": "### 督办提醒\n#### 催办（1项）\n- **2024-07** 任务"},
    }
    assert mention["msgtype"] == "text"
    assert mention["text"]["mentioned_mobile_list"] == ["13800000001", "13800000002"]  # type: ignore[index]
    assert all(str(r.url) == WECOM for r in rec.requests)


def test_wecom_without_mentions_sends_only_the_digest() -> None:
    rec = Recorder()
    WeComNotifier(WECOM, client=rec.client).send(_message())
    assert [b["msgtype"] for b in rec.bodies()] == ["markdown"]


def test_wecom_mention_all_uses_mentioned_list() -> None:
    rec = Recorder()
    WeComNotifier(WECOM, client=rec.client).send(_message(mention_all=True))
    assert rec.bodies()[1]["text"]["mentioned_list"] == ["@all"]  # type: ignore[index]


def test_wecom_counts_two_requests_when_it_must_mention() -> None:
    notifier = WeComNotifier(WECOM, client=Recorder().client)
    assert notifier.requests_for(_message()) == 1
    assert notifier.requests_for(_message(mention_mobiles=("13800000001",))) == 2
    assert notifier.requests_for(_message(markdown="", mention_mobiles=("13800000001",))) == 1


def test_wecom_does_not_mention_when_the_digest_was_refused() -> None:
    rec = Recorder((200, {"errcode": 40058, "errmsg": "content too long"}))
    answer = WeComNotifier(WECOM, client=rec.client).send(
        _message(mention_mobiles=("13800000001",))
    )
    assert (answer.ok, answer.kind, answer.code) == (False, "content", 40058)
    assert len(rec.requests) == 1


def test_wecom_failed_mention_leaves_only_the_mention_to_retry() -> None:
    rec = Recorder(
        (200, {"errcode": 0, "errmsg": "ok"}),
        (200, {"errcode": 45009, "errmsg": "api freq out of limit"}),
    )
    notifier = WeComNotifier(WECOM, client=rec.client)
    answer = notifier.send(_message(mention_mobiles=("13800000001",)))
    assert (answer.ok, answer.kind, answer.retry_after_s) == (False, "retry_later", 60.0)
    assert answer.remainder is not None
    assert answer.remainder.markdown == ""
    assert answer.remainder.mention_mobiles == ("13800000001",)
    # Retrying the remainder sends the mention alone, not the digest again.
    notifier.send(answer.remainder)
    assert [b["msgtype"] for b in rec.bodies()] == ["markdown", "text", "text"]


def test_wecom_keyword_goes_in_front_of_the_title() -> None:
    rec = Recorder()
    WeComNotifier(WECOM, keyword="督办", client=rec.client).send(_message(title="提醒"))
    assert rec.bodies()[0]["markdown"]["content"].startswith("### 【督办】提醒\n")  # type: ignore[index]


# -- DingTalk ----------------------------------------------------------------------------------


def test_dingtalk_markdown_carries_mentions_in_text_and_in_at() -> None:
    rec = Recorder()
    DingTalkNotifier(DINGTALK, client=rec.client).send(
        _message(mention_mobiles=("13800000001", "13900000002"))
    )
    (body,) = rec.bodies()
    assert body["msgtype"] == "markdown"
    assert body["at"] == {"atMobiles": ["13800000001", "13900000002"], "isAtAll": False}
    text = body["markdown"]["text"]  # type: ignore[index]
    assert "@13800000001" in text
    assert "@13900000002" in text
    assert body["markdown"]["title"] == "督办提醒"  # type: ignore[index]
    assert text.startswith("### 督办提醒\n\n#### 催办")


def test_dingtalk_signature_is_in_the_query_encoded_once_next_to_the_token() -> None:
    rec = Recorder()
    DingTalkNotifier(DINGTALK, secret=SECRET, client=rec.client, clock=lambda: CLOCK).send(
        _message()
    )
    url = rec.requests[0].url
    raw_query = url.query.decode()
    query = {k: v[0] for k, v in parse_qs(raw_query).items()}
    timestamp = int(CLOCK * 1000)
    assert query["access_token"] == "dingtalk-token-0001"
    assert query["timestamp"] == str(timestamp)
    assert query["sign"] == sign_dingtalk(timestamp, SECRET)  # decoded once gives the sign
    assert "%25" not in raw_query  # not encoded twice
    assert SECRET not in str(url)


def test_dingtalk_without_secret_sends_no_signature() -> None:
    rec = Recorder()
    DingTalkNotifier(DINGTALK, client=rec.client).send(_message())
    assert "sign" not in parse_qs(urlsplit(str(rec.requests[0].url)).query)


def test_dingtalk_keyword_is_in_the_title_and_text() -> None:
    rec = Recorder()
    DingTalkNotifier(DINGTALK, keyword="改革办", client=rec.client).send(_message())
    markdown = rec.bodies()[0]["markdown"]
    assert markdown["title"] == "【改革办】督办提醒"  # type: ignore[index]
    assert "改革办" in markdown["text"]  # type: ignore[index]


def test_dingtalk_keyword_already_present_is_not_repeated() -> None:
    rec = Recorder()
    DingTalkNotifier(DINGTALK, keyword="督办", client=rec.client).send(_message())
    assert rec.bodies()[0]["markdown"]["title"] == "督办提醒"  # type: ignore[index]


# -- Feishu ------------------------------------------------------------------------------------


def test_feishu_sends_a_post_with_lines_bold_and_at_tags() -> None:
    rec = Recorder((200, {"code": 0, "msg": "success"}))
    answer = FeishuNotifier(FEISHU, client=rec.client).send(
        _message(
            feishu_mentions=(FeishuMention("ou_123", "张三"),),
            mention_names=("张三", "李四"),
        )
    )
    assert answer.ok
    (body,) = rec.bodies()
    assert body["msg_type"] == "post"
    post = body["content"]["post"]["zh_cn"]  # type: ignore[index]
    assert post["title"] == "督办提醒"
    assert post["content"] == [
        [{"tag": "text", "text": "催办（1项）", "style": ["bold"]}],
        [
            {"tag": "text", "text": "• "},
            {"tag": "text", "text": "2024-07", "style": ["bold"]},
            {"tag": "text", "text": " 任务"},
        ],
        [
            {"tag": "at", "user_id": "ou_123", "user_name": "张三"},
            {"tag": "text", "text": "@李四"},  # no user id known: the name as text
        ],
    ]
    assert "timestamp" not in body
    assert "sign" not in body


def test_feishu_signature_travels_in_the_body_in_seconds() -> None:
    rec = Recorder((200, {"code": 0, "msg": "success"}))
    FeishuNotifier(FEISHU, secret=SECRET, client=rec.client, clock=lambda: CLOCK).send(_message())
    body = rec.bodies()[0]
    assert body["timestamp"] == str(int(CLOCK))
    assert body["sign"] == sign_feishu(int(CLOCK), SECRET)
    assert str(rec.requests[0].url) == FEISHU  # nothing added to the URL


def test_feishu_mention_all_is_an_at_all_tag() -> None:
    rec = Recorder((200, {"code": 0, "msg": "success"}))
    FeishuNotifier(FEISHU, client=rec.client).send(_message(mention_all=True))
    last_line = rec.bodies()[0]["content"]["post"]["zh_cn"]["content"][-1]  # type: ignore[index]
    assert last_line == [{"tag": "at", "user_id": "all", "user_name": "所有人"}]


def test_feishu_success_with_legacy_status_code_is_ok() -> None:
    rec = Recorder((200, {"StatusCode": 0, "StatusMessage": "success"}))
    assert FeishuNotifier(FEISHU, client=rec.client).send(_message()).ok


# -- answers -----------------------------------------------------------------------------------


def test_http_200_with_a_refusal_code_is_not_reported_as_sent() -> None:
    rec = Recorder((200, {"errcode": 310000, "errmsg": "sign not match"}))
    answer = DingTalkNotifier(DINGTALK, client=rec.client).send(_message())
    assert (answer.ok, answer.kind, answer.code, answer.http_status) == (
        False,
        "config",
        310000,
        200,
    )
    assert answer.detail == "sign not match"


def test_a_body_that_is_not_json_is_retried() -> None:
    rec = Recorder((200, b"<html>gateway</html>"))
    answer = DingTalkNotifier(DINGTALK, client=rec.client).send(_message())
    assert (answer.ok, answer.kind, answer.code) == (False, "retry_later", None)
    assert "gateway" in answer.detail


def test_network_errors_are_retry_later_and_never_show_the_key() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot reach {request.url}", request=request)

    client = httpx.Client(transport=httpx.MockTransport(refuse))
    answer = WeComNotifier(WECOM, client=client).send(_message())
    assert (answer.ok, answer.kind, answer.http_status) == (False, "retry_later", None)
    assert "ConnectError" in answer.detail
    assert "wecom-key-0001" not in answer.detail


def test_a_platform_message_echoing_the_token_is_scrubbed() -> None:
    rec = Recorder((200, {"errcode": 300001, "errmsg": "token dingtalk-token-0001 is not exist"}))
    answer = DingTalkNotifier(DINGTALK, secret=SECRET, client=rec.client).send(_message())
    assert answer.kind == "config"
    assert "dingtalk-token-0001" not in answer.detail
    assert answer.detail == "token *** is not exist"


@pytest.mark.parametrize(
    ("factory", "url", "secret_bits"),
    [
        (WeComNotifier, WECOM, ["wecom-key-0001"]),
        (DingTalkNotifier, DINGTALK, ["dingtalk-token-0001", SECRET]),
        (FeishuNotifier, FEISHU, ["feishu-hook-0001", SECRET]),
    ],
)
def test_secrets_stay_out_of_repr_and_logs(
    factory: Callable[..., Notifier], url: str, secret_bits: list[str]
) -> None:
    rec = Recorder((200, {"errcode": 0, "errmsg": "ok", "code": 0}))
    notifier = factory(url, secret=SECRET, client=rec.client)
    with capture_logs() as logs:
        notifier.send(_message())
    shown = repr(notifier) + str(notifier) + repr(logs)
    assert logs
    assert logs[0]["robot"] == notifier.robot
    for bit in secret_bits:
        assert bit not in shown


# -- parts -------------------------------------------------------------------------------------


def _long_digest(lines: int) -> str:
    return "\n".join(
        f'- **2024-{i:03d}** 深化“放管服”改革“一件事”集成办理"引号"' for i in range(lines)
    )


@pytest.mark.parametrize(
    ("factory", "url"),
    [(WeComNotifier, WECOM), (DingTalkNotifier, DINGTALK), (FeishuNotifier, FEISHU)],
)
def test_parts_each_fit_the_platform_limit_and_mentions_ride_on_the_last(
    factory: Callable[..., WeComNotifier], url: str
) -> None:
    rec = Recorder((200, {"errcode": 0, "errmsg": "ok", "code": 0}))
    notifier = factory(url, secret=SECRET, keyword="督办", client=rec.client)
    message = _message(markdown=_long_digest(600), mention_mobiles=("13800000001",))
    parts = notifier.parts(message)
    assert len(parts) > 1
    for part in parts:
        assert notifier._measure(part) <= notifier.max_body_bytes
    assert [bool(p.mention_mobiles) for p in parts] == [False] * (len(parts) - 1) + [True]
    assert parts[0].markdown.startswith(f"（1/{len(parts)}）\n")


def test_a_message_that_fits_is_one_part() -> None:
    notifier = DingTalkNotifier(DINGTALK, client=Recorder().client)
    message = _message()
    assert notifier.parts(message) == [message]


def test_wecom_limit_is_counted_in_bytes_of_the_markdown_content() -> None:
    notifier = WeComNotifier(WECOM, client=Recorder().client)
    # 1400 Chinese characters are 4200 bytes: over 4096 although only 1400 characters.
    parts = notifier.parts(_message(markdown="督" * 1400))
    assert len(parts) == 2
    assert all(utf8_len(notifier.markdown_payload(p)["markdown"]["content"]) <= 4096 for p in parts)


# -- construction ------------------------------------------------------------------------------


def test_a_webhook_off_the_platform_host_is_refused_at_construction() -> None:
    with pytest.raises(WebhookNotAllowed):
        DingTalkNotifier("https://evil.example/robot/send?access_token=t")


def test_factory_builds_each_platform_and_refuses_unknown_ones() -> None:
    client = Recorder().client
    assert isinstance(notifier_for("wecom", WECOM, client=client), WeComNotifier)
    assert isinstance(notifier_for("dingtalk", DINGTALK, client=client), DingTalkNotifier)
    assert isinstance(notifier_for("feishu", FEISHU, client=client), FeishuNotifier)
    assert isinstance(notifier_for("console"), ConsoleNotifier)
    with pytest.raises(UnknownPlatform):
        notifier_for("slack", "https://hooks.slack.com/x")
    with pytest.raises(WebhookNotAllowed):
        notifier_for("wecom", None)


def test_every_notifier_satisfies_the_protocol() -> None:
    client = Recorder().client
    for notifier in (
        WeComNotifier(WECOM, client=client),
        DingTalkNotifier(DINGTALK, client=client),
        FeishuNotifier(FEISHU, client=client),
        ConsoleNotifier(),
    ):
        assert isinstance(notifier, Notifier)


def test_platform_limits_keep_a_margin_under_the_documented_ones() -> None:
    assert WeComNotifier.limits == ((18, 60.0),)
    assert DingTalkNotifier.limits == ((18, 60.0),)
    assert FeishuNotifier.limits == ((90, 60.0), (4, 1.0))


# -- console -----------------------------------------------------------------------------------


def test_console_prints_readable_chinese_and_always_accepts() -> None:
    stream = io.StringIO()
    answer = ConsoleNotifier("县发改局群", stream=stream).send(
        _message(mention_names=("张三",), mention_mobiles=("13800000001",))
    )
    assert answer.ok
    assert answer.kind == "ok"
    printed = stream.getvalue()
    assert "【县发改局群】督办提醒" in printed
    assert "催办（1项）" in printed
    assert "####" not in printed
    assert "**" not in printed
    assert "提醒：@张三 @13800000001" in printed


def test_an_empty_message_is_refused_when_built() -> None:
    with pytest.raises(ValueError):
        OutgoingMessage(title="t", markdown="")
