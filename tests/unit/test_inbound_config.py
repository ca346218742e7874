"""`[channels.inbound]` and `users` (issue 17): the callback's secrets come from the
environment, named and checked at load like `secret_env`; never printed; a platform user id
names one person; the directory maps a sender's ids to that person."""

from __future__ import annotations

from typing import Any

import pytest

from duban.app.inbound_people import SenderDirectory
from duban.settings.config import ConfigError, parse_config

HOOK = "https://oapi.dingtalk.com/robot/send?access_token=abc"
FEISHU_HOOK = "https://open.feishu.cn/open-apis/bot/v2/hook/xyz"
BASE = [{"name": "office", "platform": "console"}, {"name": "leaders", "platform": "console"}]


def raw_with(channel: dict[str, Any], **sections: Any) -> dict[str, Any]:
    return {"channels": [*BASE, channel], **sections}


def problems_of(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(raw)
    return caught.value.problems


def test_a_dingtalk_channel_reads_its_app_secret_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DUBAN_CZJ_APP_SECRET", "s3cret-value")
    channel = {"name": "czj", "platform": "dingtalk", "webhook": HOOK}
    config = parse_config(
        raw_with({**channel, "inbound": {"app_secret_env": "DUBAN_CZJ_APP_SECRET"}})
    )
    inbound = config.channel("czj").inbound
    assert inbound is not None
    secret = inbound.app_secret()
    assert secret is not None
    assert secret.get_secret_value() == "s3cret-value"
    assert "s3cret-value" not in repr(config)
    assert "s3cret-value" not in str(secret)


def test_an_unset_variable_is_named_with_the_channel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DUBAN_NOT_SET", raising=False)
    channel = {"name": "czj", "platform": "dingtalk", "webhook": HOOK}
    (problem,) = problems_of(raw_with({**channel, "inbound": {"app_secret_env": "DUBAN_NOT_SET"}}))
    assert problem == (
        "[[channels]] 第3项：群「czj」的接收群消息的密钥取自环境变量 DUBAN_NOT_SET，但它未设置"
    )


@pytest.mark.parametrize(
    ("channel", "expected"),
    [
        (
            {
                "platform": "wecom",
                "webhook": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",
                "inbound": {"app_secret_env": "X"},
            },
            "群「g」使用企业微信机器人，不能接收群消息（inbound 只适用于钉钉、飞书）",
        ),
        (
            {"platform": "dingtalk", "webhook": HOOK, "inbound": {}},
            "群「g」接收钉钉群消息，须在 inbound 中填写 app_secret_env",
        ),
        (
            {"platform": "feishu", "webhook": FEISHU_HOOK, "inbound": {"encrypt_key_env": "K"}},
            "群「g」接收飞书群消息，须在 inbound 中填写 verification_token_env",
        ),
    ],
)
def test_an_inbound_section_that_cannot_serve_is_refused(
    channel: dict[str, Any], expected: str
) -> None:
    (problem,) = problems_of(raw_with({"name": "g", **channel}))
    assert problem == f"[[channels]] 第3项：{expected}"


def test_a_feishu_channel_with_token_and_encrypt_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FS_TOKEN", "tok")
    monkeypatch.setenv("FS_KEY", "key")
    inbound = {"verification_token_env": "FS_TOKEN", "encrypt_key_env": "FS_KEY"}
    channel = {"name": "fgj", "platform": "feishu", "webhook": FEISHU_HOOK, "inbound": inbound}
    found = parse_config(raw_with(channel)).channel("fgj").inbound
    assert found is not None
    token, key = found.verification_token(), found.encrypt_key()
    assert token is not None
    assert key is not None
    assert (token.get_secret_value(), key.get_secret_value()) == ("tok", "key")


def _people(li_users: list[str], wang_users: list[str]) -> dict[str, Any]:
    return raw_with(
        {"name": "czj", "platform": "console"},
        units=[
            {"name": "县财政局", "channel": "czj",
             "liaisons": [{"name": "李静", "mobile": "13800000002", "users": li_users}]},
        ],
        officials=[{"name": "王建国", "channel": "leaders", "users": wang_users}],
    )  # fmt: skip


def test_an_id_bound_to_two_people_is_refused() -> None:
    (problem,) = problems_of(_people(["manager4523"], ["manager4523"]))
    assert problem == (
        "[[officials]] 第1项 users："
        "用户号「manager4523」已绑定县财政局 李静，不能再绑定领衔领导 王建国"
    )


def test_the_directory_names_the_person_of_any_bound_id() -> None:
    config = parse_config(_people(["manager4523", "ou_7d8a"], ["wangjg"]))
    senders = SenderDirectory(config)
    li = senders.identify(("nobody", "ou_7d8a"))
    assert li is not None
    assert li.actor == "liaison:县财政局/李静"
    wang = senders.identify(("wangjg",))
    assert wang is not None
    assert wang.actor == "official:王建国"
    assert senders.identify(("stranger",)) is None
    assert senders.identify(()) is None


def test_a_user_id_must_look_like_one() -> None:
    (problem,) = problems_of(_people(["has space"], []))
    assert problem.startswith("[[units]] 第1项 liaisons 第1项 users 第1项")
