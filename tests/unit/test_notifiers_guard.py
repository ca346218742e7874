"""Webhooks go only to the platform's host over https, or to an allow-listed host."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


# ---- the path that is checked is the path that is requested ---------------------------------
# The oracle is httpx's own parsing (what the notifier's client will really request), not the
# guard's: an accepted URL must make httpx request exactly the robot path on the robot host.

ROBOT_PATHS = {
    "wecom": ("qyapi.weixin.qq.com", "/cgi-bin/webhook/send"),
    "dingtalk": ("oapi.dingtalk.com", "/robot/send"),
    "feishu": ("open.feishu.cn", "/open-apis/bot/v2/hook/"),
}


def _requested_as_checked(url: str, platform: str) -> bool:
    """Does httpx send `url` to the platform's robot path on its host (and nowhere else)?"""
    host, path = ROBOT_PATHS[platform]
    sent = httpx.URL(url.strip())
    raw_path = sent.raw_path.decode("ascii").partition("?")[0]
    if platform == "feishu":
        hook_id = raw_path.removeprefix(path)
        on_path = raw_path.startswith(path) and hook_id != "" and "/" not in hook_id
    else:
        on_path = raw_path == path
    return sent.host == host and sent.scheme == "https" and on_path


def _accepted(url: str, platform: str) -> bool:
    try:
        check_webhook(url, platform, ())
    except WebhookNotAllowed:
        return False
    return True


HOSTILE = [
    ("https://qyapi.weixin.qq.com/cgi-bin/webhook/send/../../../evil?key=K", "wecom"),
    ("https://qyapi.weixin.qq.com/cgi-bin/webhook/send/%2e%2e/%2E%2E/evil?key=K", "wecom"),
    ("https://qyapi.weixin.qq.com/cgi-bin/webhook/send/.%2e/evil?key=K", "wecom"),
    ("https://qyapi.weixin.qq.com/cgi-bin/webhook/send\\..\\..\\evil?key=K", "wecom"),
    ("https://qyapi.weixin.qq.com/cgi-bin/webhook/send/..%2f..%2fevil?key=K", "wecom"),
    ("https://qyapi.weixin.qq.com/cgi-bin/webhook/send/..%5c..%5cevil?key=K", "wecom"),
    ("https://qyapi.weixin.qq.com/cgi-bin/webhook/send//evil?key=K", "wecom"),
    ("https://qyapi.weixin.qq.com/cgi-bin/webhook/send/./?key=K", "wecom"),
    ("https://qyapi.weixin.qq.com/cgi-bin/webhook/sendevil?key=K", "wecom"),
    ("https://qyapi.weixin.qq.com/cgi-bin/webhook/send;evil?key=K", "wecom"),
    ("https://qyapi.weixin.qq.com/cgi-bin/webhook/send%00?key=K", "wecom"),
    ("https://qyapi.weixin.qq.com//cgi-bin/webhook/send?key=K", "wecom"),
    ("https://oapi.dingtalk.com/robot/send/../../evil?access_token=t", "dingtalk"),
    ("https://oapi.dingtalk.com/robot/./send/..?access_token=t", "dingtalk"),
    ("https://oapi.dingtalk.com/robot/send/%2E%2E/x?access_token=t", "dingtalk"),
    ("https://open.feishu.cn/open-apis/bot/v2/hook/../../../../evil", "feishu"),
    ("https://open.feishu.cn/open-apis/bot/v2/hook/x/../../y", "feishu"),
    ("https://open.feishu.cn/open-apis/bot/v2/hook/%2e%2e", "feishu"),
    ("https://open.feishu.cn/open-apis/bot/v2/hook/..", "feishu"),
    ("https://open.feishu.cn/open-apis/bot/v2/hook/id/extra", "feishu"),
    ("https://open.feishu.cn/open-apis/bot/v2/hook/a\\..\\..\\evil", "feishu"),
]


@pytest.mark.parametrize(("url", "platform"), HOSTILE)
def test_paths_that_are_not_plain_are_refused(url: str, platform: str) -> None:
    assert not _accepted(url, platform)


@pytest.mark.parametrize(
    ("url", "platform"),
    [(WECOM, "wecom"), (DINGTALK, "dingtalk"), (FEISHU, "feishu")],
)
def test_the_oracle_agrees_on_the_real_webhooks(url: str, platform: str) -> None:
    assert _accepted(url, platform)
    assert _requested_as_checked(url, platform)


def test_the_traversal_of_the_issue_would_have_gone_to_evil() -> None:
    """The oracle itself: httpx resolves the dot segments and requests /evil."""
    url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send/../../../evil?key=K"
    assert httpx.URL(url).raw_path == b"/evil?key=K"
    assert not _requested_as_checked(url, "wecom")


_SEGMENTS = st.sampled_from(
    ["cgi-bin", "webhook", "send", "robot", "open-apis", "bot", "v2", "hook", "id-1", "evil",
     "..", ".", "", "%2e", "%2E%2e", ".%2e", "%2f", "%5c", "\\", "..\\", "send;x", "%00", " ",
     "send?", "#", "@", ":", "%", "~"]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(
    platform=st.sampled_from(sorted(ROBOT_PATHS)),
    on_robot_path=st.booleans(),
    segments=st.lists(_SEGMENTS, min_size=1, max_size=6),
    separator=st.sampled_from(["/", "\\", "//"]),
)
def test_whatever_is_accepted_is_requested_on_the_robot_path(
    platform: str, on_robot_path: bool, segments: list[str], separator: str
) -> None:
    """Hostile segments after the robot path (or instead of it), joined by hostile slashes."""
    host, robot_path = ROBOT_PATHS[platform]
    start = robot_path.rstrip("/") if on_robot_path else ""
    credential = {"wecom": "?key=K", "dingtalk": "?access_token=t", "feishu": ""}[platform]
    url = f"https://{host}{start}{separator}{separator.join(segments)}{credential}"
    try:
        httpx.URL(url)
    except httpx.InvalidURL:
        return  # httpx would not send it at all
    if _accepted(url, platform):
        assert _requested_as_checked(url, platform), url
