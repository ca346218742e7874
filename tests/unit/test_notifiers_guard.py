"""Webhooks go only to the platform's host over https, or to an allow-listed host."""

from __future__ import annotations

import pytest

from notifiers import WebhookNotAllowed, check_webhook, fingerprint, redact_url
from notifiers.errors import UnknownPlatform

WECOM = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
DINGTALK = "https://oapi.dingtalk.com/robot/send?access_token=0123456789abcdef"
FEISHU = "https://open.feishu.cn/open-apis/bot/v2/hook/2b6f3c1e-aaaa-bbbb-cccc-1234567890ab"
LARK = "https://open.larksuite.com/open-apis/bot/v2/hook/2b6f3c1e-aaaa-bbbb-cccc-1234567890ab"


@pytest.mark.parametrize(
    ("url", "platform"),
    [(WECOM, "wecom"), (DINGTALK, "dingtalk"), (FEISHU, "feishu"), (LARK, "feishu")],
)
def test_official_hosts_over_https_are_allowed(url: str, platform: str) -> None:
    check_webhook(url, platform, ())


@pytest.mark.parametrize(
    ("url", "platform"),
    [
        (WECOM.replace("https://", "http://"), "wecom"),  # key in clear text
        (DINGTALK, "wecom"),  # another platform's host
        ("https://qyapi.weixin.qq.com.evil.example/cgi-bin/webhook/send?key=k", "wecom"),
        ("https://evil.example/cgi-bin/webhook/send?key=k", "wecom"),
        ("https://oapi.dingtalk.com@evil.example/robot/send?access_token=t", "dingtalk"),
        ("https://oapi.dingtalk.com:8443/robot/send?access_token=t", "dingtalk"),
        ("https://oapi.dingtalk.com/other/path?access_token=t", "dingtalk"),
        ("https://oapi.dingtalk.com/robot/send", "dingtalk"),  # no token
        ("https://open.feishu.cn/open-apis/bot/v2/hook/", "feishu"),  # no hook id
        ("ftp://open.feishu.cn/open-apis/bot/v2/hook/x", "feishu"),
        ("not a url", "feishu"),
    ],
)
def test_anything_else_is_refused(url: str, platform: str) -> None:
    with pytest.raises(WebhookNotAllowed):
        check_webhook(url, platform, ())


def test_allow_listed_host_and_port_may_use_plain_http() -> None:
    url = "http://127.0.0.1:8123/robot/send?access_token=t"
    check_webhook(url, "dingtalk", ["127.0.0.1:8123"])
    with pytest.raises(WebhookNotAllowed):
        check_webhook(url, "dingtalk", ["127.0.0.1:9999"])
    with pytest.raises(WebhookNotAllowed):
        check_webhook(url, "dingtalk", ["127.0.0.1"])  # no port: the default port only


def test_allow_listed_host_without_port_matches_the_default_port() -> None:
    check_webhook(
        "https://robots.proxy.local/cgi-bin/webhook/send?key=k", "wecom", ["robots.proxy.local"]
    )


def test_unknown_platform_is_its_own_error() -> None:
    with pytest.raises(UnknownPlatform):
        check_webhook(WECOM, "slack", ())


def test_refusal_message_never_shows_the_key() -> None:
    url = "https://evil.example/cgi-bin/webhook/send?key=SUPERSECRETKEY"
    with pytest.raises(WebhookNotAllowed) as caught:
        check_webhook(url, "wecom", ())
    assert "SUPERSECRETKEY" not in str(caught.value)
    assert "evil.example" in str(caught.value)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (DINGTALK, "https://oapi.dingtalk.com/robot/send?access_token=***"),
        (WECOM, "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=***"),
        (FEISHU, "https://open.feishu.cn/open-apis/bot/v2/hook/***"),
        (
            DINGTALK + "&timestamp=1577836800000&sign=abc%2B",
            "https://oapi.dingtalk.com/robot/send?access_token=***&timestamp=1577836800000&sign=***",
        ),
        ("https://user:pw@proxy.local/x?key=k", "https://user:***@proxy.local/x?key=***"),
    ],
)
def test_redact_url_hides_every_credential(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_fingerprint_is_stable_short_and_does_not_contain_the_key() -> None:
    assert fingerprint(DINGTALK) == fingerprint(DINGTALK + " ")
    assert fingerprint(DINGTALK) != fingerprint(DINGTALK + "x")
    assert len(fingerprint(DINGTALK)) == 16
    assert "0123456789abcdef" not in fingerprint(DINGTALK)
