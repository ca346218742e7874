"""Platform answers sorted into: done, retry later, fix the config, fix the content."""

from __future__ import annotations

import pytest

from notifiers import DINGTALK_THROTTLE_S, classify


@pytest.mark.parametrize(
    ("platform", "code", "msg"),
    [
        ("wecom", 0, "ok"),
        ("dingtalk", 0, "ok"),
        ("feishu", 0, "success"),
    ],
)
def test_zero_code_with_2xx_is_ok(platform: str, code: int, msg: str) -> None:
    assert classify(platform, 200, code, msg) == ("ok", None)


@pytest.mark.parametrize(
    ("platform", "code", "msg", "wait"),
    [
        ("wecom", 45009, "api freq out of limit", 60.0),
        ("dingtalk", 130101, "send too fast", DINGTALK_THROTTLE_S),
        ("feishu", 11232, "frequency limited", 60.0),
        ("feishu", 9499, "server overload, try later", 60.0),
        ("feishu", 9499, "Too many requests", 60.0),
    ],
)
def test_rate_limit_codes_are_retry_later_with_a_wait(
    platform: str, code: int, msg: str, wait: float
) -> None:
    assert classify(platform, 200, code, msg) == ("retry_later", wait)


def test_dingtalk_throttle_waits_ten_minutes() -> None:
    assert DINGTALK_THROTTLE_S == 600.0


@pytest.mark.parametrize(
    ("platform", "code", "msg"),
    [
        ("wecom", 93000, "invalid webhook url"),
        ("dingtalk", 300001, "token is not exist"),
        ("dingtalk", 310000, "sign not match"),
        ("dingtalk", 310000, "keywords not in content"),
        ("dingtalk", 310000, "invalid timestamp"),
        ("feishu", 19021, "sign match fail"),
        ("feishu", 19022, "ip not allowed"),
        ("feishu", 19024, "Key Words Not Found"),
    ],
)
def test_key_signature_keyword_and_ip_refusals_are_config(
    platform: str, code: int, msg: str
) -> None:
    assert classify(platform, 200, code, msg) == ("config", None)


@pytest.mark.parametrize(
    ("platform", "code", "msg"),
    [
        ("wecom", 40058, "markdown.content exceed max length 4096"),
        ("dingtalk", 460101, "message too long"),
        ("feishu", 9499, "Bad Request"),
    ],
)
def test_too_long_and_bad_body_are_content(platform: str, code: int, msg: str) -> None:
    assert classify(platform, 200, code, msg) == ("content", None)


def test_a_code_of_one_platform_means_nothing_special_on_another() -> None:
    # 45009 is WeCom's throttle; on DingTalk it is just an unknown refusal.
    assert classify("dingtalk", 200, 45009, "x") == ("content", None)


def test_http_200_with_an_unknown_nonzero_code_is_not_success() -> None:
    kind, _ = classify("wecom", 200, 12345, "whatever")
    assert kind == "content"


def test_http_200_without_a_code_is_retried_not_counted_as_sent() -> None:
    assert classify("wecom", 200, None) == ("retry_later", None)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retry_later(status: int) -> None:
    assert classify("dingtalk", status, None) == ("retry_later", None)


def test_http_429_honours_retry_after() -> None:
    assert classify("feishu", 429, None, "", "7") == ("retry_later", 7.0)
    assert classify("feishu", 429, None, "", "soon") == ("retry_later", 60.0)


@pytest.mark.parametrize(("status", "kind"), [(401, "config"), (403, "config"), (404, "config")])
def test_auth_and_not_found_statuses_are_config(status: int, kind: str) -> None:
    assert classify("wecom", status, None)[0] == kind


def test_other_4xx_is_content() -> None:
    assert classify("feishu", 400, None) == ("content", None)
    assert classify("feishu", 413, None) == ("content", None)


def test_a_known_code_wins_over_the_http_status() -> None:
    assert classify("feishu", 400, 19021, "sign match fail") == ("config", None)
