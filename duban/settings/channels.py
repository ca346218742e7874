"""A group chat's section: its robot(s) for sending, and what it may receive (`inbound`).

`[channels.inbound]` (DingTalk enterprise robot, Feishu app bot) names the environment variables
that hold the callback's secrets, read like `secret_env`: each must be set when the config is
loaded, and the values are `SecretStr`, never printed (issue 17, PLATFORMS "Receiving messages").
"""

from __future__ import annotations

import os

from pydantic import SecretStr, model_validator

from domain.vocabulary import PLATFORM_LABELS
from duban.settings.section_base import Name, Platform, Section

__all__ = ["Channel", "Inbound"]

_RECEIVING = ("dingtalk", "feishu")


class Inbound(Section):
    """What the platform's callbacks are checked with: DingTalk the robot's appSecret; Feishu
    the app's Verification Token and, when set, its Encrypt Key."""

    app_secret_env: str | None = None  # DingTalk: the enterprise robot's appSecret
    verification_token_env: str | None = None  # Feishu: the event subscription's token
    encrypt_key_env: str | None = None  # Feishu: the Encrypt Key (optional)

    def app_secret(self) -> SecretStr | None:
        return _from_env(self.app_secret_env)

    def verification_token(self) -> SecretStr | None:
        return _from_env(self.verification_token_env)

    def encrypt_key(self) -> SecretStr | None:
        return _from_env(self.encrypt_key_env)

    def problem(self, channel: str, platform: str) -> str | None:
        """Why this section cannot serve the channel (in Chinese), or None."""
        label = PLATFORM_LABELS.get(platform, platform)
        if platform not in _RECEIVING:
            return f"群「{channel}」使用{label}机器人，不能接收群消息（inbound 只适用于钉钉、飞书）"
        wanted = ["app_secret_env"] if platform == "dingtalk" else ["verification_token_env"]
        unused = ["verification_token_env", "encrypt_key_env"]
        if platform == "feishu":
            unused = ["app_secret_env"]
        for key in wanted:
            if getattr(self, key) is None:
                return f"群「{channel}」接收{label}群消息，须在 inbound 中填写 {key}"
        for key in unused:
            if getattr(self, key) is not None:
                return f"群「{channel}」使用{label}，inbound 中不应填写 {key}"
        for key in ("app_secret_env", "verification_token_env", "encrypt_key_env"):
            problem = env_problem(channel, getattr(self, key), "接收群消息的密钥")
            if problem is not None:
                return problem
        return None


def _from_env(name: str | None) -> SecretStr | None:
    return SecretStr(os.environ[name]) if name is not None and name in os.environ else None


def env_problem(channel: str, variable: str | None, what: str) -> str | None:
    """「群「czj」的…取自环境变量 X，但它未设置」 when `variable` is named and not set."""
    if variable is None or os.environ.get(variable):
        return None
    return f"群「{channel}」的{what}取自环境变量 {variable}，但它未设置"


class Channel(Section):
    """A group chat and its robot(s). Several webhooks spread the platform's rate limit."""

    name: Name
    platform: Platform
    webhook: SecretStr | None = None
    extra_webhooks: tuple[SecretStr, ...] = ()
    secret: SecretStr | None = None
    secret_env: str | None = None
    keyword: str = ""
    display_name: str = ""  # how messages name the chat's readers; default: its units' names
    inbound: Inbound | None = None  # what the chat's members may send to the robot (issue 17)

    @model_validator(mode="after")
    def _webhook_needed(self) -> Channel:
        if self.platform != "console" and self.webhook is None:
            platform = PLATFORM_LABELS.get(self.platform, self.platform)
            raise ValueError(f"群「{self.name}」使用{platform}机器人，须填写 webhook 地址")
        if self.secret_env is not None and self.secret_env not in os.environ:
            raise ValueError(
                f"群「{self.name}」的签名密钥取自环境变量 {self.secret_env}，但它未设置"
            )
        if self.inbound is not None:
            problem = self.inbound.problem(self.name, self.platform)
            if problem is not None:
                raise ValueError(problem)
        return self

    def secret_value(self) -> str | None:
        if self.secret is not None:
            return self.secret.get_secret_value()
        if self.secret_env is not None:
            return os.environ[self.secret_env]
        return None

    def webhooks(self) -> list[str]:
        hooks = [self.webhook, *self.extra_webhooks] if self.webhook else []
        return [h.get_secret_value() for h in hooks if h is not None]
